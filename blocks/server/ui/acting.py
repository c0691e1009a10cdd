"""Where the UI's actions meet the audit trail (``blocks/audit_actor.py``, ``registry.audit``).

Every UI action runs inside :func:`acting`: the registry calls in it are recorded as done by
the signed-in token ``via="ui"`` (the registry itself records its changes: write, rollback,
rename, delete ...); a refusal (403) inside it is recorded as ``denied``. Pages that only read
run inside :func:`as_actor` (their reads are recorded when the server records reads).
:func:`refused` records a 403 that happened outside an action (a page, or a POST the CSRF or
Origin check refused) once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from blocks.audit_actor import Actor, acting_as
from blocks.errors import BlocksError, Forbidden
from blocks.server.security import Principal

if TYPE_CHECKING:
    from blocks.registry import Registry

VIA = "ui"


def actor_of(request: Request, principal: Principal | None) -> Actor:
    """The audit actor of a UI request: the token's name and id, ``via="ui"``."""
    source = request.client.host if request.client is not None else None
    request_id = request.scope.get("state", {}).get("request_id")
    if principal is None:
        return Actor("anonymous", "-", None, VIA, source, request_id)
    return Actor("token", principal.name, principal.token_id, VIA, source, request_id)


@contextlib.contextmanager
def as_actor(request: Request, principal: Principal) -> Iterator[Actor]:
    """Registry calls inside are made as the signed-in principal, via the UI."""
    with acting_as(actor_of(request, principal)) as actor:
        yield actor


@contextlib.contextmanager
def acting(request: Request, principal: Principal, action: str, obj: str,
           *, kind: str = "blocks") -> Iterator[None]:
    """Run a UI action (``action`` on ``obj``, e.g. ``"rollback"``, ``"secret/app-db"``) as
    ``principal`` via the UI; a :class:`Forbidden` raised inside is recorded as denied."""
    request.state.ui_action = (action, obj, kind)
    with as_actor(request, principal):
        try:
            yield
        except Forbidden as exc:
            _record_denied(request, action, obj, kind, exc)
            raise


@contextlib.contextmanager
def recorded(request: Request, action: str, obj: str, *, kind: str = "blocks",
             detail: dict[str, Any] | None = None) -> Iterator[Any]:
    """Record an action the registry does not record itself (e.g. ``reveal``) in the audit
    trail, with its outcome (a refusal too); use inside :func:`acting`. The record is
    written before the block's result leaves the server (fails closed)."""
    registry: Registry = request.app.state.registry
    try:
        with registry.audit.recording(action, kind=kind, obj=obj, detail=detail) as pending:
            yield pending
    except Forbidden:
        request.state.ui_denial_recorded = True
        raise


def refused(request: Request, principal: Principal | None, exc: BlocksError) -> None:
    """Record a 403 the UI answered, unless :func:`acting` already did."""
    action, obj, kind = getattr(request.state, "ui_action", None) or (
        "ui-" + request.method.lower(), _object_of(request.url.path), "blocks")
    with acting_as(actor_of(request, principal)):
        _record_denied(request, action, obj, kind, exc)


def _record_denied(request: Request, action: str, obj: str, kind: str,
                   exc: BlocksError) -> None:
    if getattr(request.state, "ui_denial_recorded", False):
        return
    request.state.ui_denial_recorded = True
    registry: Registry = request.app.state.registry
    with contextlib.suppress(BlocksError):  # the refusal stands even if it cannot be recorded
        registry.audit.record(action, kind=kind, obj=obj, outcome="denied",
                              error=type(exc).__name__, detail={"path": request.url.path})


def _object_of(path: str) -> str:
    """``slug/name`` of a block page's path, else the path."""
    parts = path.split("/")
    if len(parts) >= 5 and parts[1:3] == ["ui", "blocks"]:
        return f"{parts[3]}/{parts[4]}"
    return path[:200]


def version_actors(registry: Registry, ref: str, limit: int = 500) -> dict[int, tuple[str, str]]:
    """``{version: (who, via)}`` of a block's versions from the audit trail (the newest
    ``limit`` records of ``ref``; versions written before a rename show under the old name)."""
    out: dict[int, tuple[str, str]] = {}
    for entry in registry.audit.ls(ref=ref, limit=limit):
        if (entry.outcome == "allowed" and entry.version is not None
                and entry.action in ("write", "rollback")):
            out.setdefault(entry.version, (entry.actor.name, entry.actor.via))
    return out
