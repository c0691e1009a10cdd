"""The hot path, ``GET /v1/blocks/{slug}/{name}`` (what every ``X.load`` asks), without
FastAPI's per-request parameter machinery.

:class:`LoadFastLane` is a plain ASGI middleware inside the app's request-id middleware (and
the audit of requests); the app (``blocks.server.app.BlocksAPI``) hands it the requests that
:func:`plain_load` recognises before FastAPI's own layers. A GET
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

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from blocks._nowait import WouldBlock, without_waiting
from blocks.errors import BlocksError
from blocks.server import threads
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


PLAIN_LOAD = "blocks.plain_load"
"""The scope's key for :func:`plain_load`'s answer (the app decides once, the lane reuses it)."""


def plain_load(scope: Scope) -> tuple[str, str, dict[str, Any]] | None:
    """``(slug, name, arguments)`` when ``scope`` is a plain load of a block (a GET of exactly
    ``/v1/blocks/{slug}/{name}`` with a plain query: :func:`load_arguments`), else ``None``."""
    if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
        return None
    parts = scope["path"].split("/")
    # ["", "v1", "blocks", slug, name]: the route's {slug} and {name} are one segment each.
    if (len(parts) != 5 or parts[0] or parts[1] != "v1" or parts[2] != "blocks"
            or not parts[3] or not parts[4]):
        return None
    arguments = load_arguments(scope.get("query_string") or b"")
    if arguments is None:
        return None
    found = (parts[3], parts[4], arguments)
    scope[PLAIN_LOAD] = found
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
        plain = scope.get(PLAIN_LOAD) or plain_load(scope)
        if plain is None:
            await self.app(scope, receive, send)
            return
        slug, name, arguments = plain
        scope["route"] = self.route
        scope["endpoint"] = getattr(self.route, "endpoint", None)
        scope["path_params"] = {"slug": slug, "name": name}
        request = Request(scope, receive)
        call = (request, f"{slug}/{name}", arguments["version"], arguments["stage"],
                arguments["validate"], request.headers.get("if-none-match"))
        try:
            response = self._on_loop(request, call) if self._may_try_on_loop(request) else None
            if response is None:
                response = await threads.run(load_response, *call)
        except BlocksError as exc:
            response = await self.on_error(request, exc)
        await response(scope, receive, send)

    @staticmethod
    def _may_try_on_loop(request: Request) -> bool:
        """True when the registry reads SQLite and the authenticator declares that it only
        reads through the registry's store (so ``without_waiting`` covers every wait)."""
        state = request.app.state
        return bool(getattr(state.authenticator, "waits_only_on_the_store", False)
                    and getattr(state.registry, "loads_on_loop", False))

    @staticmethod
    def _on_loop(request: Request, call: tuple[Any, ...]) -> Response | None:
        """The load on the event loop in the mode where any step that would wait (a SQLite
        lock, the key provider, a write) raises ``WouldBlock`` instead: then ``None``, and the
        caller runs it in a worker thread (the loop never waits on the database)."""
        try:
            with without_waiting():
                return load_response(*call)
        except WouldBlock:
            return None


def load_route(routes: list[BaseRoute]) -> BaseRoute:
    """The app's ``GET /v1/blocks/{slug}/{name}`` route."""
    for route in routes:
        if getattr(route, "path", None) == LOAD_PATH and "GET" in (
                getattr(route, "methods", None) or ()):
            return route
    raise LookupError(f"no GET {LOAD_PATH} route")  # a programming error: the router changed
