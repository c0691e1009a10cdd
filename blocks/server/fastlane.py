"""The hot path, ``GET /v1/blocks/{slug}/{name}`` (what every ``X.load`` asks), without
FastAPI's per-request parameter machinery.

:class:`LoadFastLane` is a plain ASGI middleware inside the app's request-id middleware. A GET
of exactly ``/v1/blocks/{slug}/{name}`` whose query string holds nothing but well-formed
``version``, ``stage`` and ``validate`` (each at most once) is answered by the route's own
work, :func:`blocks.server.routes.blocks.load_response` (authentication and the load in one
thread-pool hop, never on the event loop); its :class:`~blocks.errors.BlocksError` becomes
the same envelope as everywhere (the app's handler). Anything else (another method or path, an
unusual or malformed query) goes on to FastAPI, whose route declares the same parameters: the
OpenAPI document, the 422 messages and every other answer stay FastAPI's.

Measured (docs/benchmarks.md): FastAPI's route matching and parameter validation cost more per
request than the token check and the load together.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from blocks.errors import BlocksError
from blocks.server.routes.blocks import LOAD_PATH, load_response

ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]
_VERSION = re.compile(r"[1-9][0-9]{0,17}")
_STAGES = frozenset({"current", "pending", "previous"})
_BOOLS = {"true": True, "false": False}


def load_arguments(query: bytes) -> dict[str, Any] | None:
    """``version``, ``stage`` and ``validate`` of a load's query string, or ``None`` when it
    holds anything else (FastAPI then validates it and names the field)."""
    found: dict[str, Any] = {"version": None, "stage": None, "validate": True}
    if not query:
        return found
    seen: set[str] = set()
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if key in seen:
            return None
        seen.add(key)
        if key == "version" and _VERSION.fullmatch(value):
            found["version"] = int(value)
        elif key == "stage" and value in _STAGES:
            found["stage"] = value
        elif key == "validate" and value in _BOOLS:
            found["validate"] = _BOOLS[value]
        else:
            return None
    return found


class LoadFastLane:
    """Answers plain loads of a block before FastAPI's router (see the module's doc).

    Args:
        app: the rest of the application (FastAPI's exception middleware and router).
        route: the FastAPI route of ``GET /v1/blocks/{slug}/{name}`` (the access log reads
            its template from the scope).
        on_error: the app's handler turning a ``BlocksError`` into the error envelope.
    """

    def __init__(self, app: ASGIApp, route: BaseRoute, on_error: ErrorHandler) -> None:
        self.app = app
        self.route = route
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        parts = scope["path"].split("/")
        # ["", "v1", "blocks", slug, name]: the route's {slug} and {name} are one segment each.
        if (len(parts) != 5 or parts[0] or parts[1] != "v1" or parts[2] != "blocks"
                or not parts[3] or not parts[4] or scope.get("root_path")):
            await self.app(scope, receive, send)
            return
        arguments = load_arguments(scope.get("query_string") or b"")
        if arguments is None:
            await self.app(scope, receive, send)
            return
        slug, name = parts[3], parts[4]
        scope["route"] = self.route
        scope["path_params"] = {"slug": slug, "name": name}
        request = Request(scope, receive)
        try:
            response = await run_in_threadpool(
                load_response, request, f"{slug}/{name}", arguments["version"], arguments["stage"],
                arguments["validate"], request.headers.get("if-none-match"))
        except BlocksError as exc:
            response = await self.on_error(request, exc)
        await response(scope, receive, send)


def load_route(routes: list[BaseRoute]) -> BaseRoute:
    """The app's ``GET /v1/blocks/{slug}/{name}`` route."""
    for route in routes:
        if getattr(route, "path", None) == LOAD_PATH and "GET" in (
                getattr(route, "methods", None) or ()):
            return route
    raise LookupError(f"no GET {LOAD_PATH} route")  # a programming error: the router changed
