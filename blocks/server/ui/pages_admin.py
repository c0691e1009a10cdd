"""The admin pages (capability ``admin``): API tokens, access policies and the audit trail.

Tokens and policies go through the HTTP API's route functions
(:mod:`blocks.server.routes.auth`), which check ``admin`` first; the audit page reads the
registry's audit trail with the same filters as ``blocks audit ls``. A created token is shown
once, on the answer to the form (never in a redirect, a flash cookie or a log), with
``Cache-Control: no-store`` like every UI page.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pydantic
from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from blocks import wire
from blocks.core import pydantic_errors
from blocks.errors import BlocksError, Forbidden, Unauthorized, ValidationError
from blocks.server.routes import auth as api
from blocks.server.security import Principal
from blocks.server.ui import acting, audit_view
from blocks.server.ui.stamps import stamp
from blocks.server.ui.templating import redirect, render
from blocks.server.ui.web import UiPost, UiPrincipal, page_router

router = page_router()
EXAMPLE_POLICY = '{\n  "description": "what it is for",\n  "blocks": {"secret/app-*": ["read"]}\n}'


def _admin(principal: Principal) -> None:
    principal.require("admin", "admin", "*")


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, principal: UiPrincipal) -> Response:
    """The admin pages' index."""
    _admin(principal)
    return render(request, "admin/index.html")


# -- tokens -----------------------------------------------------------------------------------


@router.get("/admin/tokens", response_class=HTMLResponse)
def tokens(request: Request, principal: UiPrincipal) -> Response:
    """Every token's public record, and the form that creates one."""
    return _tokens_page(request, principal)


@router.post("/admin/tokens", response_class=HTMLResponse)
def create_token(request: Request, post: UiPost) -> Response:
    """Create a token and show it, once."""
    name = post.get("name").strip()
    submitted = {"name": name, "ttl": post.get("ttl").strip(),
                 "owner": post.get("owner").strip(),
                 "policies": [p for p in post.form.getlist("policies") if isinstance(p, str)]}
    try:
        body = api.TokenCreate(name=name, policies=submitted["policies"],
                               ttl=submitted["ttl"] or None, owner=submitted["owner"])
        with acting.acting(request, post.principal, "token-create", name, kind="admin"):
            created = api.create_token(body, request, post.principal)
    except pydantic.ValidationError as exc:
        return _tokens_page(request, post.principal, submitted=submitted, status=422,
                            errors=pydantic_errors(exc))
    except (Forbidden, Unauthorized):
        raise
    except BlocksError as exc:
        return _tokens_page(request, post.principal, submitted=submitted, problem=str(exc),
                            status=wire.error_response(exc)[0])
    token = created.pop("token")
    return render(request, "admin/token_created.html", status=201, token=token, info=created,
                  stamp=stamp)


@router.post("/admin/tokens/{token}/revoke", response_class=HTMLResponse)
def revoke_token(request: Request, token: str, post: UiPost) -> Response:
    """Revoke a token by name or id."""
    try:
        with acting.acting(request, post.principal, "token-revoke", token, kind="admin"):
            revoked = api.revoke_token(token, request, post.principal)
    except (Forbidden, Unauthorized):
        raise
    except BlocksError as exc:
        return _tokens_page(request, post.principal, problem=str(exc),
                            status=wire.error_response(exc)[0])
    return redirect(request, "/ui/admin/tokens", flash=f"Token {revoked['name']} revoked.",
                    level="success")


def _tokens_page(request: Request, principal: Principal, *, problem: str = "",
                 errors: list[tuple[str, str]] | None = None,
                 submitted: dict[str, Any] | None = None, status: int = 200) -> Response:
    listed = api.list_tokens(request, principal)
    names = [p["name"] for p in api.list_policies(request, principal)]
    return render(request, "admin/tokens.html", status=status, tokens=listed, policies=names,
                  stamp=stamp,
                  form=submitted or {"name": "", "ttl": "30d", "owner": "", "policies": []},
                  errors=_by_field(errors or []), problem=problem)


# -- policies ---------------------------------------------------------------------------------


@router.get("/admin/policies", response_class=HTMLResponse)
def policies(request: Request, principal: UiPrincipal) -> Response:
    """Every policy with its document, and the form that adds one."""
    return _policies_page(request, principal)


@router.get("/admin/policies/{name}", response_class=HTMLResponse)
def policy(request: Request, name: str, principal: UiPrincipal) -> Response:
    """One policy: its document in an editor, and delete."""
    found = api.get_policy(name, request, principal)
    return render(request, "admin/policy.html", name=name,
                  text=json.dumps(found["document"], indent=2, sort_keys=True), errors=[],
                  problem="", editing=True)


@router.post("/admin/policies", response_class=HTMLResponse)
def put_policy(request: Request, post: UiPost) -> Response:
    """Create or replace a policy from its JSON document (errors at their JSON path)."""
    name, text = post.get("name").strip(), post.get("document")
    editing = post.get("editing") == "1"
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        errors = [("$", f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")]
        return _policy_error(request, post.principal, name, text, editing, errors=errors)
    try:
        with acting.acting(request, post.principal, "policy-put", name, kind="admin"):
            api.put_policy(name, request, Response(), document, post.principal)
    except ValidationError as exc:
        return _policy_error(request, post.principal, name, text, editing, errors=exc.errors)
    except (Forbidden, Unauthorized):
        raise
    except BlocksError as exc:
        return _policy_error(request, post.principal, name, text, editing, problem=str(exc),
                             status=wire.error_response(exc)[0])
    return redirect(request, f"/ui/admin/policies/{name}", flash=f"Policy {name} saved.",
                    level="success")


@router.post("/admin/policies/{name}/delete", response_class=HTMLResponse)
def delete_policy(request: Request, name: str, post: UiPost) -> Response:
    """Delete a policy no live token uses (the refusal names the tokens)."""
    try:
        with acting.acting(request, post.principal, "policy-delete", name, kind="admin"):
            api.delete_policy(name, request, post.principal)
    except (Forbidden, Unauthorized):
        raise
    except BlocksError as exc:
        found = api.get_policy(name, request, post.principal)
        return render(request, "admin/policy.html", status=wire.error_response(exc)[0],
                      name=name, text=json.dumps(found["document"], indent=2, sort_keys=True),
                      errors=[], problem=str(exc), editing=True)
    return redirect(request, "/ui/admin/policies", flash=f"Policy {name} deleted.",
                    level="success")


def _policy_error(request: Request, principal: Principal, name: str, text: str,
                  editing: bool, *, errors: list[tuple[str, str]] | None = None,
                  problem: str = "", status: int = 422) -> Response:
    if editing:
        return render(request, "admin/policy.html", status=status, name=name, text=text,
                      errors=errors or [], problem=problem, editing=True)
    return _policies_page(request, principal, name=name, text=text, errors=errors,
                          problem=problem, status=status)


def _policies_page(request: Request, principal: Principal, *, name: str = "",
                   text: str = EXAMPLE_POLICY, errors: list[tuple[str, str]] | None = None,
                   problem: str = "", status: int = 200) -> Response:
    listed = api.list_policies(request, principal)
    return render(request, "admin/policies.html", status=status, policies=listed, name=name,
                  text=text, errors=errors or [], problem=problem, editing=False)


# -- audit ------------------------------------------------------------------------------------


@router.get("/admin/audit", response_class=HTMLResponse)
def audit(request: Request, principal: UiPrincipal, ref: str = "", actor: str = "",
          action: str = "", since: str = "", denied: str = "") -> Response:
    """The audit trail, newest first, filtered like ``blocks audit ls``."""
    _admin(principal)
    filters = {"ref": ref.strip(), "actor": actor.strip(), "action": action.strip(),
               "since": since.strip(), "denied": denied == "on"}
    try:
        records = audit_view.records(request.app.state.registry, filters,
                                     now=datetime.now(UTC))
        problem = ""
    except (ValueError, BlocksError) as exc:
        records, problem = [], str(exc)
    return render(request, "admin/audit.html", status=422 if problem else 200,
                  records=records, filters=filters, problem=problem,
                  actions=audit_view.ACTIONS, limit=audit_view.LIMIT)


def _by_field(errors: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path, message in errors:
        out.setdefault(path.split(".", 1)[0] or "form", []).append(message)
    return out
