"""Every request to the server leaves one audit record, allowed or denied, before it answers.

:class:`AuditRequests` is a plain ASGI middleware inside the request-id middleware. For each
request (but the health checks and the OpenAPI document, which touch no data, and the web UI,
which records its own) it keeps a
:class:`RequestAudit` in a context variable that the request's worker threads see too, and:

* the registry records its own operations (writes in the transaction of the change; loads,
  lists and histories because the server turns ``registry.audit.reads`` on) as the request's
  actor: :class:`ServerAuditTrail` makes each of those records as ``actor``,
  the actor being the request's principal (token or JWT name and id), the client's address
  and the request id, ``via="server"``; and it notes that the request is recorded;
* a request the registry did not record (the load's fast lane, which reads documents without
  ``Registry.load``; a 401, 403 or 429; an endpoint the registry does not record) is recorded
  here when its answer starts, through the process's :class:`~blocks.server.audit_batch.
  AuditBatcher` (group commit), and the answer waits for that commit.

Fail closed: if the record cannot be written the client gets 503 (``AuditUnavailable``) and
nothing of the answer (a value read stays unsent); a write recorded by the registry is rolled
back with its record. An answer that is itself a 5xx error (the database or the key provider
is down: nothing was done, no value is in it) is sent as it is, its unwritten record logged.
Nothing is recorded twice for one request.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from blocks.audit_actor import Actor
from blocks.audit_trail import AuditTrail
from blocks.errors import AuditUnavailable
from blocks.server.audit_batch import AuditBatcher
from blocks.store import audit_log
from blocks.store.audit_log import Pending

log = logging.getLogger("blocks.server")
UNRECORDED = ("/v1/health", "/v1/openapi.json", "/ui")
"""Not recorded here: the health checks and the API document touch no data; the web UI records
its own actions and refusals as the signed-in token, ``via="ui"`` (``blocks/server/ui/acting.py``),
and the registry's records inside them carry that actor."""
_NAME = 200
_DENIED = {401: "Unauthorized", 403: "Forbidden", 429: "RateLimited"}
_ACTIONS = {"load": "read", "save": "write", "list_blocks": "list", "history": "history"}


@dataclass
class RequestAudit:
    """What the audit record of one request needs, filled in while it runs."""

    request_id: str
    source: str | None
    principal: Any = None
    recorded: bool = False
    """The registry recorded (or is recording) this request itself."""
    error: str | None = None
    """The ``BlocksError`` class the request was answered with."""
    version: int | None = None
    subject: str = ""
    batched: bool = False
    """The read of a block is recorded here, batched (:func:`batch_reads`)."""

    _actor: tuple[Any, Actor] | None = field(default=None, init=False, repr=False)
    """The actor made for ``principal`` (kept: the records of one request share it)."""

    def actor(self) -> Actor:
        """The request's actor: its principal, or ``anonymous`` before authentication."""
        principal = self.principal
        made = self._actor
        if made is not None and made[0] is principal:
            return made[1]
        if principal is None:
            actor = Actor("anonymous", "anonymous", None, "server", self.source,
                          self.request_id)
        else:
            token_id = getattr(principal, "token_id", None)
            kind = str(getattr(principal, "kind", "") or "token")  # JWT principals say "jwt"
            actor = Actor(kind, str(principal.name), token_id, "server", self.source,
                          self.request_id)
        self._actor = (principal, actor)
        return actor


_current: ContextVar[RequestAudit | None] = ContextVar("blocks_server_request", default=None)


def current() -> RequestAudit | None:
    """The audit of the request being handled (``None`` outside one)."""
    return _current.get()


def authenticated_as(principal: Any) -> None:
    """Note the request's principal (``blocks.server.security.authenticated``)."""
    found = _current.get()
    if found is not None:
        found.principal = principal


def answered_with(error_class: str) -> None:
    """Note the error class the request is answered with (the app's error handlers)."""
    found = _current.get()
    if found is not None:
        found.error = error_class


def loaded(version: int | None, block_id: str) -> None:
    """Note the version and block id a load answered with (the load's route)."""
    found = _current.get()
    if found is not None:
        found.version, found.subject = version, block_id


def batch_reads() -> None:
    """Let the request's read of a block be recorded by the server's batcher when it answers
    (the load's route) rather than in a transaction of its own inside the registry."""
    found = _current.get()
    if found is not None:
        found.batched = True


class ServerAuditTrail(AuditTrail):
    """The registry's audit trail inside the server: each of the registry's records is made
    as the current request's actor, and marks the request as recorded. The
    read of the load's route (:func:`batch_reads`) is left to :class:`AuditRequests`, which
    appends it with the other requests' records (group commit) before the answer leaves."""

    buffers_reads = False  # every read is recorded before its answer (fail closed)

    def _pending(self, *args: Any, **kwargs: Any) -> Pending:
        found = _current.get()
        if found is None:
            return super()._pending(*args, **kwargs)
        found.recorded = True
        return self._pending_as(found.actor(), *args, **kwargs)

    @contextmanager
    def recording(self, action: str, *, kind: str = "blocks", obj: str,
                  version: int | None = None, stage: str | None = None,
                  pool: str | None = None, detail: Mapping[str, Any] | None = None,
                  subject: str = "") -> Iterator[Pending | None]:
        found = _current.get()
        if found is None or not found.batched or action != "read" or audit_log.active():
            with super().recording(action, kind=kind, obj=obj, version=version, stage=stage,
                                   pool=pool, detail=detail, subject=subject) as pending:
                yield pending
            return
        # Only collects what the load learns (block id, version); never written from here.
        sink = Pending(action, kind, obj, found.actor(), datetime.now(UTC), version, stage)
        yield sink
        found.version, found.subject = sink.version, sink.subject


def install(registry: Any) -> AuditBatcher:
    """Make ``registry`` record as the server's requests (reads too); its batcher."""
    trail = ServerAuditTrail(registry)
    trail.reads = True
    registry._audit = trail  # the registry's ``audit`` property returns it from now on
    return AuditBatcher(registry)


def recorded_path(path: str) -> bool:
    """False for the health checks, the OpenAPI document and the web UI (:data:`UNRECORDED`)."""
    return not any(path == p or path.startswith(p + "/") for p in UNRECORDED)


def what(scope: Scope) -> tuple[str, str, str]:
    """``(action, kind, object)`` of a request, from its route and path parameters (names,
    never a query value or a body)."""
    endpoint = scope.get("endpoint")
    route = scope.get("route")
    params = scope.get("path_params") or {}
    name = getattr(endpoint, "__name__", None) or ("load" if route is not None else None)
    action = "request" if name is None else _ACTIONS.get(name, name.replace("_", "-"))
    template = str(getattr(route, "path", "") or "")
    if "slug" in params and "name" in params:
        kind, obj = "blocks", f"{params['slug']}/{params['name']}"
    elif "slug" in params:
        kind, obj = "blocks", f"{params['slug']}/*"
    elif "pool" in params:
        kind, obj = "pools", str(params["pool"])
    elif "token" in params:
        kind, obj = "tokens", str(params["token"])
    elif "name" in params and "/policies" in template:
        kind, obj = "policies", str(params["name"])
    else:
        kind, obj = "registry", "*"
    return action, kind, obj[:_NAME]


def outcome_of(status: int) -> str:
    """``allowed`` for an answer below 400, ``denied`` for 401/403/429, else ``error``."""
    if status < 400:
        return "allowed"
    return "denied" if status in _DENIED else "error"


_REFUSED = json.dumps({"error": {
    "type": "AuditUnavailable", "details": {},
    "message": "the audit trail could not record this request, so it was not answered; "
               "check that the registry's database is writable and not locked, then retry",
}}, separators=(",", ":")).encode()


class AuditRequests:
    """The ASGI middleware recording every request (see the module's doc).

    Args:
        app: the rest of the application (the load's fast lane, FastAPI).
        trail: the registry's :class:`ServerAuditTrail` (makes the records).
        batcher: appends this process's records in batches.
    """

    def __init__(self, app: ASGIApp, trail: AuditTrail, batcher: AuditBatcher) -> None:
        self.app = app
        self.trail = trail
        self.batcher = batcher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not recorded_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        client = scope.get("client")
        audit = RequestAudit(str(state.get("request_id") or "-"),
                             client[0] if client else None)
        token = _current.set(audit)
        refused = False

        async def send_recorded(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start":
                status = int(message["status"])
                try:
                    await self._record(scope, audit, status)
                except AuditUnavailable as exc:
                    if status >= 500:
                        # Already a failure that did nothing and holds no value (the
                        # database or the key provider is down): its own error says more.
                        log.warning("%s %s: its audit record was not written (request %s)",
                                    scope.get("method"), scope.get("path"), audit.request_id)
                        await send(message)
                        return
                    refused = True
                    log.warning("%s %s: %s (request %s)", scope.get("method"),
                                scope.get("path"), type(exc).__name__, audit.request_id)
                    await send({"type": "http.response.start", "status": 503, "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(_REFUSED)).encode())]})
                    await send({"type": "http.response.body", "body": _REFUSED})
                    return
            elif refused:
                return  # the answer's body never leaves: its record was not written
            await send(message)

        try:
            await self.app(scope, receive, send_recorded)
        except Exception as exc:  # the request-id middleware answers 500: record that
            if not audit.recorded:
                audit.error = audit.error or type(exc).__name__
                with contextlib.suppress(AuditUnavailable):
                    await self._record(scope, audit, 500)
            raise
        finally:
            _current.reset(token)

    async def _record(self, scope: Scope, audit: RequestAudit, status: int) -> None:
        if audit.recorded:
            return
        audit.recorded = True
        action, kind, obj = what(scope)
        outcome = outcome_of(status)
        error = None if outcome == "allowed" else (audit.error or _DENIED.get(status)
                                                    or f"HTTP{status}")
        actor = audit.actor()
        trail = self.trail
        version, subject = audit.version, audit.subject
        detail = {"method": scope.get("method"), "status": status}

        def make() -> Pending:
            return trail._pending_as(actor, action, kind, obj, version, None, None, detail,
                                     subject)

        await self.batcher.record(make, outcome, error)


_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def well_formed_request_id(value: str) -> bool:
    """A client's ``X-Request-Id`` the server takes as its own: 1-64 letters, digits and
    ``.``, ``_``, ``:``, ``-`` (a UUID, a ULID, ``req-7``), starting with a letter or digit."""
    return _REQUEST_ID.fullmatch(value) is not None
