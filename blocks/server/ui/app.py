"""The UI's ASGI app, mounted by ``blocks.server.app.create_app`` at ``/ui``.

Each page module has a ``router`` (made with :func:`web.page_router`); :data:`PAGE_ROUTERS` lists
them, one line each. Errors become HTML pages (a 403 names the missing capability, a conflict
says what changed), a missing session a redirect to the sign-in page.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from blocks import wire
from blocks.errors import BlocksError
from blocks.server.ui import (
    acting,
    pages_admin,
    pages_blocks,
    pages_forms,
    pages_pools,
    pages_rotation,
    pages_session,
    web,
)
from blocks.server.ui.templating import render

log = logging.getLogger("blocks.server.ui")
STATIC = Path(__file__).parent / "static"


PAGE_ROUTERS: list[APIRouter] = [
    pages_session.router,
    pages_blocks.router,
    pages_forms.router,
    pages_rotation.router,
    pages_pools.router,
    pages_admin.router,
]


def create_ui(api: FastAPI) -> FastAPI:
    """The UI over the registry and authenticator of the API app ``api``."""
    ui = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    ui.state.registry = api.state.registry
    ui.state.authenticator = api.state.authenticator
    ui.add_exception_handler(BlocksError, _blocks_error)
    ui.add_exception_handler(RequestValidationError, _invalid)
    ui.add_exception_handler(HTTPException, _http_error)
    for router in PAGE_ROUTERS:
        ui.include_router(router)
    ui.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    ui.add_middleware(ServerTiming)
    return ui


def mount(api: FastAPI) -> None:
    """Serve the UI at ``/ui`` of ``api`` (after its registry and authenticator are set)."""
    api.mount("/ui", create_ui(api), name="ui")


async def _blocks_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BlocksError)
    if isinstance(exc, web.SignInRequired):
        if request.method == "GET" and request.url.path.rstrip("/") != "/ui/sign-in":
            web.add_flash(request, str(exc))
        return web.finish(request, RedirectResponse(web.sign_in_url(exc.after), 303))
    status = wire.status_of(exc)
    if status == 403:
        acting.refused(request, getattr(request.state, "ui_principal", None), exc)
    if status >= 500:
        log.warning("%s %s: %s", request.method, request.url.path, type(exc).__name__)
    return render(request, "error.html", status=status, message=str(exc),
                  title=_TITLES.get(status, "Error"), back=_back(request))


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
                         for e in exc.errors())
    return render(request, "error.html", status=422, message=f"invalid request: {problems}",
                  title="Invalid request", back=_back(request))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = ("no such page" if exc.status_code in (404, 405) else str(exc.detail))
    return render(request, "error.html", status=exc.status_code, message=message,
                  title=_TITLES.get(exc.status_code, "Error"), back="/ui/blocks")


_TITLES = {400: "Invalid request", 403: "Not allowed", 404: "Not found", 409: "Conflict",
           422: "Invalid input", 503: "Unavailable"}


def _back(request: Request) -> str:
    path = request.url.path
    parts = path.split("/")
    if len(parts) >= 5 and parts[2] == "blocks":
        return "/".join(parts[:5])
    return "/ui/blocks"


class ServerTiming:
    """Adds ``Server-Timing: app;dur=<ms>`` to every UI response: the time from the request
    to the response's start, as the server spent it (``benchmarks/ui_pages.py`` reads it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                spent = (time.perf_counter() - started) * 1000
                message["headers"] = [*message.get("headers", []),
                                      (b"server-timing", f"app;dur={spent:.1f}".encode())]
            await send(message)

        await self.app(scope, receive, timed)
