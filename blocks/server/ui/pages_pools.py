"""The work pool pages: the list, one pool with its queues, the base job template editor, a
rendered job preview (secrets masked) and the pool's publish status to Prefect.

Reads and writes call the HTTP API's route functions (:mod:`blocks.server.routes.pools`) with
the signed-in principal, so a page needs what the API needs: ``read-metadata`` on the pool to
look and preview (and on the blocks the template names), ``write`` to change the template or
the queues, ``delete`` to delete a queue. A preview is always masked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pydantic
from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from blocks import wire
from blocks.core import pydantic_errors
from blocks.errors import BlocksError, Forbidden, Unauthorized, ValidationError
from blocks.pools.store import DEFAULT_QUEUE
from blocks.registry import Registry
from blocks.server.routes import pools as api
from blocks.server.security import Principal
from blocks.server.ui import acting, prefect_status
from blocks.server.ui.templating import redirect, render
from blocks.server.ui.web import UiPost, UiPrincipal, page_router, registry_of

router = page_router()
QUEUE_FIELDS = ("description", "priority", "concurrency_limit", "is_paused")


@router.get("/pools", response_class=HTMLResponse)
def pools(request: Request, principal: UiPrincipal) -> Response:
    """Every pool the caller may see, with its queues' count and publish setting."""
    registry = registry_of(request)
    rows = [{"pool": pool, "queues": len(api.list_queues(pool.name, principal, registry))}
            for pool in api.list_pools(principal, registry)]
    return render(request, "pools/list.html", rows=rows,
                  prefect_url=prefect_status.configured_url(registry))


@router.get("/pools/{pool}", response_class=HTMLResponse)
def pool_page(request: Request, pool: str, principal: UiPrincipal, queue: str = DEFAULT_QUEUE,
              values: str = "", check: str = "") -> Response:
    """A pool: its settings, queues, template editor, a masked job preview (``queue`` and
    job variables ``values``) and, with ``check=prefect``, a comparison with Prefect."""
    return _page(request, principal, pool, queue=queue, values=values,
                 check=check == "prefect")


@router.post("/pools/{pool}/template", response_class=HTMLResponse)
def save_template(request: Request, pool: str, post: UiPost) -> Response:
    """Save the edited base job template as a new version (compare-and-set)."""
    text = post.get("template")
    try:
        template = json.loads(text)
    except json.JSONDecodeError as exc:
        return _page(request, post.principal, pool, template_text=text, status=422,
                     errors=[("", f"not JSON: {exc.msg} at line {exc.lineno}, column "
                                  f"{exc.colno}")])
    registry = registry_of(request)
    current = api.get_pool(pool, post.principal, registry)
    body = api.PoolSave(type=current.type,
                        document={**current.document, "base_job_template": template},
                        overwrite=True, expected_version=_int(post.get("expected_version")),
                        note="ui: base job template")

    def save(reg: Registry, who: Principal) -> str:
        saved = api.save_pool(pool, body, who, reg)
        published = prefect_status.publish_after_save(reg, saved.name, saved.document)
        return f"Saved version {saved.version} of the template.{published}"

    return _act(request, post.principal, pool, "pool-template", save, template_text=text)


@router.post("/pools/{pool}/queues", response_class=HTMLResponse)
def add_queue(request: Request, pool: str, post: UiPost) -> Response:
    """Add a queue (a taken priority moves the others down)."""
    def create(reg: Registry, who: Principal) -> str:
        body = api.QueueCreate(name=post.get("name").strip(),
                               description=post.get("description"),
                               priority=_int(post.get("priority")),
                               concurrency_limit=_int(post.get("concurrency_limit")),
                               is_paused=post.get("is_paused") == "on")
        made = api.create_queue(pool, body, who, reg)
        return f"Queue {made.name} added with priority {made.priority}."

    return _act(request, post.principal, pool, "queue-create", create)


@router.post("/pools/{pool}/queues/{queue}", response_class=HTMLResponse)
def change_queue(request: Request, pool: str, queue: str, post: UiPost) -> Response:
    """Change a queue's priority, limit, description or pause (compare-and-set)."""
    def update(reg: Registry, who: Principal) -> str:
        changes: dict[str, Any] = {
            "priority": _int(post.get("priority")),
            "concurrency_limit": _int(post.get("concurrency_limit")),
            "is_paused": post.get("is_paused") == "on",
        }
        if changes["priority"] is None:
            del changes["priority"]
        body = api.QueueUpdate(changes=changes, expected_version=_int(post.get("version")))
        changed = api.update_queue(pool, queue, body, who, reg)
        return f"Queue {changed.name} saved (priority {changed.priority})."

    return _act(request, post.principal, pool, "queue-update", update)


@router.post("/pools/{pool}/queues/{queue}/delete", response_class=HTMLResponse)
def delete_queue(request: Request, pool: str, queue: str, post: UiPost) -> Response:
    """Delete a queue (not the default one)."""
    def drop(reg: Registry, who: Principal) -> str:
        api.delete_queue(pool, queue, who, reg)
        return f"Queue {queue} deleted."

    return _act(request, post.principal, pool, "queue-delete", drop)


@router.post("/pools/{pool}/publish", response_class=HTMLResponse)
def publish(request: Request, pool: str, post: UiPost) -> Response:
    """Publish the pool and its queues to the configured Prefect server now (``write``)."""
    def go(reg: Registry, who: Principal) -> str:
        who.require("write", "pools", pool)
        api.get_pool(pool, who, reg)
        prefect_status.publish_now(reg, pool)
        return "Published to Prefect."

    return _act(request, post.principal, pool, "pool-publish", go)


# -- helpers ----------------------------------------------------------------------------------


def _act(request: Request, principal: Principal, pool: str, what: str,
         action: Callable[[Registry, Principal], str], *, template_text: str | None = None
         ) -> Response:
    """Run ``action`` as the API would; success: back to the pool page with its message;
    field errors or a failure: the page again with them and the API's status. A refusal
    (403) propagates to the UI's handler, which records it."""
    try:
        with acting.acting(request, principal, what, pool, kind="pools"):
            message = action(registry_of(request), principal)
    except ValidationError as exc:
        if template_text is None:  # a queue form: its fields are few, say them in one line
            return _page(request, principal, pool, problem=str(exc), status=422)
        return _page(request, principal, pool, template_text=template_text,
                     errors=exc.errors, status=422)
    except (Forbidden, Unauthorized):
        raise
    except BlocksError as exc:
        return _page(request, principal, pool, template_text=template_text, problem=str(exc),
                     status=wire.error_response(exc)[0])
    except pydantic.ValidationError as exc:  # a queue field the API's model refused
        problems = "; ".join(f"{path}: {message}" for path, message in pydantic_errors(exc))
        return _page(request, principal, pool, problem=f"not saved: {problems}", status=422)
    return redirect(request, f"/ui/pools/{pool}", flash=message, level="success")


def _page(request: Request, principal: Principal, pool: str, *, queue: str = DEFAULT_QUEUE,
          values: str = "", check: bool = False, template_text: str | None = None,
          errors: list[tuple[str, str]] | None = None, problem: str = "",
          status: int = 200) -> Response:
    registry = registry_of(request)
    record = api.get_pool(pool, principal, registry)
    queues = api.list_queues(pool, principal, registry)
    preview, preview_error = _preview(registry, principal, pool, queue, values)
    return render(
        request, "pools/detail.html", status=status, pool=record, queues=queues,
        template_text=template_text if template_text is not None else json.dumps(
            record.document.get("base_job_template", {}), indent=2, sort_keys=True),
        errors=[(path or "(the whole template)", message) for path, message in errors or []],
        problem=problem, preview=preview, preview_error=preview_error, queue=queue,
        values=values, publish=prefect_status.status(registry, pool, record.document, check=check),
        may_write=principal.allows("write", "pools", pool),
        may_delete=principal.allows("delete", "pools", pool),
    )


def _preview(registry: Registry, principal: Principal, pool: str, queue: str,
             values: str) -> tuple[str | None, str | None]:
    """The masked rendered job as JSON text, or why it cannot be rendered."""
    try:
        given = json.loads(values) if values.strip() else {}
    except json.JSONDecodeError as exc:
        return None, f"job variables: not JSON ({exc.msg} at line {exc.lineno}, column " \
                     f"{exc.colno})"
    if not isinstance(given, dict):
        return None, 'job variables: write a JSON object, e.g. {"env": {"MODE": "dry-run"}}'
    try:
        view = api.render(pool, api.RenderRequest(values=given, queue=queue), principal,
                          registry)
    except (Forbidden, ValidationError, BlocksError) as exc:
        return None, str(exc)
    return json.dumps(view.configuration, indent=2, sort_keys=True), None


def _int(text: str) -> int | None:
    """A number field: empty is ``None``; anything else must be an integer (else the API's
    model names the field)."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValidationError("form", [("number", f"{text[:20]!r} is not a whole number")]
                              ) from None
