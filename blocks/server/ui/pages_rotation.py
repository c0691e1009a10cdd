"""The rotation pages: an overview of the blocks with a policy, and one block's rotation.

Every read and action calls the HTTP API's own route functions
(:mod:`blocks.server.routes.rotation`, the block history and stages of
:mod:`blocks.server.routes.blocks`) with the signed-in principal, so the page asks for exactly
the capabilities the API does (``read-metadata`` to look, ``rotate`` to change) and records
the actor as ``ui:<token name>``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import pydantic
from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from blocks import wire
from blocks.core import pydantic_errors
from blocks.errors import BlocksError, Forbidden, Unauthorized, ValidationError
from blocks.registry import Registry
from blocks.rotation import plugins
from blocks.rotation_types.policy import RotationPolicy, format_duration
from blocks.server.routes import blocks as blocks_api
from blocks.server.routes import rotation as api
from blocks.server.security import Principal
from blocks.server.ui import acting
from blocks.server.ui.stamps import stamp
from blocks.server.ui.templating import redirect, render
from blocks.server.ui.web import UiPost, UiPrincipal, page_router, registry_of

router = page_router()
ACTOR = "ui"
RUNS_SHOWN = 5
POLICY_FIELDS = ("rotator", "interval", "cron", "grace", "options")
Action = Callable[[Registry, Principal], dict[str, Any]]


@router.get("/rotation", response_class=HTMLResponse)
def overview(request: Request, principal: UiPrincipal) -> Response:
    """Every block with a rotation policy the caller may see, with its next due time."""
    registry = registry_of(request)
    listed = api.policies(registry, principal, actor=ACTOR)["policies"]
    due = set(api.due(registry, principal, actor=ACTOR)["due"])
    rows = [{**item, "slug": item["ref"].split("/", 1)[0], "name": item["ref"].split("/", 1)[1],
             "schedule": RotationPolicy.model_validate(item["record"]["policy"]).schedule(),
             "due": item["ref"] in due} for item in listed]
    return render(request, "rotation/overview.html", rows=rows, stamp=stamp)


@router.get("/rotation/{slug}/{name}", response_class=HTMLResponse)
def block_rotation(request: Request, slug: str, name: str, principal: UiPrincipal) -> Response:
    """One block's policy, runs, stages per version, and the forms that change them."""
    return _page(request, principal, slug, name)


@router.post("/rotation/{slug}/{name}/policy", response_class=HTMLResponse)
def set_policy(request: Request, slug: str, name: str, post: UiPost) -> Response:
    """Set or change the policy from the form's fields."""
    submitted = {key: post.get(key) for key in POLICY_FIELDS}
    try:
        policy = policy_from(submitted)
    except ValidationError as exc:
        return _page(request, post.principal, slug, name, errors=exc.errors,
                     submitted=submitted, status=422)
    return _act(request, post.principal, slug, name, "rotation-policy-set",
                lambda reg, who: api.set_policy(slug, name, policy, reg, who, actor=ACTOR),
                "Rotation policy saved.", submitted)


@router.post("/rotation/{slug}/{name}/policy/remove", response_class=HTMLResponse)
def remove_policy(request: Request, slug: str, name: str, post: UiPost) -> Response:
    """Stop rotating the block (its history stays)."""
    return _act(request, post.principal, slug, name, "rotation-policy-remove",
                lambda reg, who: api.drop_policy(slug, name, reg, who, actor=ACTOR),
                "Rotation policy removed; the block's history stays.")


@router.post("/rotation/{slug}/{name}/rotate", response_class=HTMLResponse)
def rotate_now(request: Request, slug: str, name: str, post: UiPost) -> Response:
    """Rotate regardless of the schedule (``blocks rotate --now``)."""
    return _act(request, post.principal, slug, name, "rotate",
                lambda reg, who: api.rotate(slug, name, reg, who, actor=ACTOR, force=True),
                "Rotation {status}: version {version} is current.")


@router.post("/rotation/{slug}/{name}/cancel", response_class=HTMLResponse)
def cancel(request: Request, slug: str, name: str, post: UiPost) -> Response:
    """Roll back the rotation in flight."""
    return _act(request, post.principal, slug, name, "rotation-cancel",
                lambda reg, who: api.cancel(slug, name, reg, who, actor=ACTOR),
                "Rotation {status}.")


# -- helpers ----------------------------------------------------------------------------------


def _act(request: Request, principal: Principal, slug: str, name: str, what: str,
         action: Action, done: str, submitted: Mapping[str, str] | None = None) -> Response:
    """Run ``action`` as the API would; success: back to the page with ``done``; a field
    error or a failure: the page again with the message and the API's status. A refusal
    (403) propagates to the UI's handler, which records it."""
    try:
        with acting.acting(request, principal, what, f"{slug}/{name}"):
            result = action(registry_of(request), principal)
    except ValidationError as exc:
        return _page(request, principal, slug, name, errors=exc.errors, submitted=submitted,
                     status=422)
    except (Forbidden, Unauthorized):
        raise
    except BlocksError as exc:
        return _page(request, principal, slug, name, problem=str(exc), submitted=submitted,
                     status=wire.error_response(exc)[0])
    if result.get("status") == "failed":
        return _page(request, principal, slug, name, status=502,
                     problem=f"The rotation failed at step {result.get('step')}: "
                             f"{result.get('error') or 'see the runs below'}")
    values = defaultdict(str, {k: "" if v is None else v for k, v in result.items()})
    return redirect(request, f"/ui/rotation/{slug}/{name}", flash=done.format_map(values),
                    level="success")


def _page(request: Request, principal: Principal, slug: str, name: str, *,
          problem: str = "", errors: list[tuple[str, str]] | None = None,
          submitted: Mapping[str, str] | None = None, status: int = 200) -> Response:
    registry = registry_of(request)
    ref = f"{slug}/{name}"
    record = api.get_policy(slug, name, registry, principal, actor=ACTOR)["record"]
    events = api.events(slug, name, registry, principal, actor=ACTOR)["events"]
    versions = blocks_api.history(slug, name, registry, principal)
    stages = blocks_api.stages(slug, name, registry, principal)
    by_version: dict[int, list[str]] = {}
    for stage, version in sorted(stages.items()):
        by_version.setdefault(version, []).append(stage)
    policy = record["policy"] if record else None
    return render(
        request, "rotation/block.html", status=status, ref=ref, slug=slug, name=name, stamp=stamp,
        record=record,
        schedule=RotationPolicy.model_validate(policy).schedule() if policy else None,
        runs=runs_of(events)[:RUNS_SHOWN], versions=list(reversed(versions)),
        stages=by_version, rotators=plugins.names(),
        form=dict(submitted) if submitted is not None else form_of(policy),
        stored=form_of(policy) if policy else None,
        errors=by_field(errors or []), problem=problem,
        may_rotate=principal.allows("rotate", "blocks", ref),
    )


def policy_from(fields: Mapping[str, str]) -> RotationPolicy:
    """The policy the form describes (empty fields: the defaults)."""
    data: dict[str, Any] = {"rotator": fields.get("rotator", "").strip()}
    for key in ("interval", "cron", "grace"):
        value = fields.get(key, "").strip()
        if value:
            data[key] = value
    options_text = fields.get("options", "").strip()
    if options_text:
        try:
            data["options"] = json.loads(options_text)
        except json.JSONDecodeError as exc:
            raise ValidationError("rotation policy", [(
                "options", f"not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
                'write an object such as {"length": 40}')]) from None
    try:
        return RotationPolicy.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError("rotation policy", pydantic_errors(exc)) from None


def form_of(policy: Mapping[str, Any] | None) -> dict[str, str]:
    """The form's fields for a stored policy (or the defaults of a new one)."""
    if policy is None:
        return {"rotator": "generated", "interval": "30d", "cron": "", "grace": "1d",
                "options": ""}
    model = RotationPolicy.model_validate(policy)
    return {"rotator": model.rotator,
            "interval": format_duration(model.interval) if model.interval else "",
            "cron": model.cron or "", "grace": format_duration(model.grace),
            "options": json.dumps(model.options, indent=2) if model.options else ""}


def by_field(errors: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Errors by the form field they belong to (``options.length`` -> ``options``)."""
    out: dict[str, list[str]] = {}
    for path, message in errors:
        top = path.split(".", 1)[0].split("[", 1)[0]
        field = top if top in POLICY_FIELDS else "form"
        out.setdefault(field, []).append(f"{path}: {message}" if path != field else message)
    return out


def runs_of(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events grouped by run, newest run first, each with its steps oldest first."""
    runs: dict[str, dict[str, Any]] = {}
    for event in events:
        run = runs.setdefault(event["run_id"], {"id": event["run_id"], "started": event["at"],
                                                "actor": event["actor"], "steps": []})
        run["steps"].append(event)
        run["outcome"] = event["outcome"]
        run["last_step"] = event["step"]
    return sorted(runs.values(), key=lambda r: r["started"], reverse=True)
