"""The ASGI app: routers, the error envelope, request ids.

Every :class:`~blocks.errors.BlocksError` becomes the envelope of :mod:`blocks.wire` with its
status; a request that does not match the API's shapes is a 422 naming the field; anything
else is a 500 with a fixed message and the request id (logged with the exception's type and
where it was raised, never its message or values).

Example:
    >>> from blocks.server import create_app
    >>> from blocks.server.security import ADMIN, static_authenticator
    >>> app = create_app(registry, authenticator=static_authenticator(ADMIN))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import traceback
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from blocks import wire
from blocks.errors import BlocksError, RateLimited
from blocks.registry import Registry
from blocks.server import audit_requests
from blocks.server.auth import TokenAuthenticator
from blocks.server.fastlane import LoadFastLane, load_route, plain_load
from blocks.server.responses import ERROR_RESPONSES
from blocks.server.routes import admin, audit, auth, blocks, health, jwt, pools, recovery, rotation
from blocks.server.security import Authenticator, authenticated
from blocks.server.ui import app as ui

log = logging.getLogger("blocks.server")
REQUEST_ID = "x-request-id"
INTERNAL = "internal server error"


def create_app(registry: Registry, *, authenticator: Authenticator | None = None,
               record_requests: bool = True) -> FastAPI:
    """The API over ``registry``. Without ``authenticator`` requests are authenticated by
    their API token (:class:`~blocks.server.auth.TokenAuthenticator`: deny by default).
    Every request is recorded in the registry's audit trail
    (:mod:`blocks.server.audit_requests`); ``record_requests=False`` is for measuring what
    that costs (``benchmarks/audit_throughput.py``), never for serving."""
    app = BlocksAPI(
        title="Blocks registry API",
        version="1",
        description="Typed, encrypted blocks over HTTP: the API of `blocks server`.",
        openapi_url="/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    app.state.registry = registry
    app.state.authenticator = authenticator or TokenAuthenticator(registry)
    app.add_exception_handler(BlocksError, _blocks_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.include_router(health.router)
    app.include_router(blocks.router)
    app.include_router(rotation.router)
    app.include_router(admin.router)
    app.include_router(pools.router)
    app.include_router(auth.router)
    app.include_router(jwt.router)
    app.include_router(recovery.router)
    app.include_router(audit.router)
    ui.mount(app)  # the web UI at /ui (HTML pages; not in the OpenAPI document)
    # The plain load of a block skips FastAPI's per-request parameter handling: its fast lane
    # runs inside the same request ids (no tracebacks) and audit as every other request.
    lane: ASGIApp = LoadFastLane(app.through_fastapi, route=load_route(blocks.router.routes),
                                 on_error=_blocks_error)
    if record_requests:
        batcher = audit_requests.install(registry)
        app.state.audit_batcher = batcher
        app.add_middleware(audit_requests.AuditRequests, trail=registry.audit, batcher=batcher)
        lane = audit_requests.AuditRequests(lane, trail=registry.audit, batcher=batcher)
    app.add_middleware(RequestIds)
    app.fast_lane = RequestIds(lane)
    return app


class BlocksAPI(FastAPI):
    """FastAPI, with the plain load of a block (:func:`~blocks.server.fastlane.plain_load`)
    handed straight to its fast lane: ``RequestIds``, the audit of requests when on, and
    :class:`~blocks.server.fastlane.LoadFastLane`, the same middleware every other request
    passes, without FastAPI's and Starlette's per-request layers around them (measured: a
    tenth of the load's time in the process). Everything else is FastAPI's."""

    fast_lane: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = self.fast_lane
        if fast is not None and scope["type"] == "http" and plain_load(scope) is not None:
            scope["app"] = self  # what Starlette sets: request.app.state for the lane
            await fast(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def through_fastapi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The request through FastAPI's own layers (the fast lane's way on; never taken for
        a plain load, which is decided before the lane)."""
        await FastAPI.__call__(self, scope, receive, send)


def envelope(status: int, error_type: str, message: str,
             details: dict[str, Any] | None = None) -> JSONResponse:
    """A JSON error response in the envelope of :mod:`blocks.wire`."""
    body = {"error": {"type": error_type, "message": message, "details": details or {}}}
    return JSONResponse(body, status_code=status)


async def _blocks_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BlocksError)
    audit_requests.answered_with(type(exc).__name__)
    status, body = wire.error_response(exc)
    if status >= 500:
        log.warning("%s %s: %s (request %s)", request.method, request.url.path,
                    type(exc).__name__, _request_id(request))
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return JSONResponse(body, status_code=status, headers=headers)


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    route = request.scope.get("route")
    if (getattr(route, "path", None) == blocks.LOAD_PATH
            and getattr(request.state, "principal", None) is None):
        # The load authenticates inside its handler (one thread hop), after FastAPI checked
        # the query: answer a missing or bad token first (401/429), as every other route does.
        try:
            await run_in_threadpool(authenticated, request)
        except BlocksError as refused:
            return await _blocks_error(request, refused)
    # FastAPI's messages name the place (body.name, query.version); never the input.
    problems = [(".".join(str(p) for p in e.get("loc", ())), str(e.get("msg", "invalid")))
                for e in exc.errors()]
    message = "invalid request: " + "; ".join(f"{where}: {msg}" for where, msg in problems)
    audit_requests.answered_with("InvalidArgument")
    return envelope(422, "InvalidArgument", message)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = (f"no such endpoint: {request.method} {request.url.path}"
               if exc.status_code in (404, 405) else str(exc.detail))
    return envelope(exc.status_code, "BlocksError", message)


def _request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", "-"))


class RequestIds:
    """Gives each request an id (the client's ``X-Request-ID`` if well formed: see
    :func:`~blocks.server.audit_requests.well_formed_request_id`) echoed in the
    response, and turns an unexpected exception into a 500 that shows no traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(REQUEST_ID.encode(), b"").decode("latin-1")
        request_id = (given if audit_requests.well_formed_request_id(given)
                      else uuid.uuid4().hex)
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []),
                                      (REQUEST_ID.encode(), request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            frames = "\n".join(f"  {f.filename}:{f.lineno} in {f.name}"
                                for f in traceback.extract_tb(exc.__traceback__))
            # The type and where, not str(exc): an unexpected message may hold a value.
            log.error("unexpected %s in %s %s (request %s)\n%s", type(exc).__name__,
                      scope.get("method"), scope.get("path"), request_id, frames)
            if started:
                raise
            body = {"error": {"type": "BlocksError", "details": {"request_id": request_id},
                              "message": f"{INTERNAL} (request {request_id}); the server's "
                                         "log has the details"}}
            await JSONResponse(body, status_code=500)(scope, receive, send_with_id)
