"""Sign-in with an API token, sign-out, and the UI's front door."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from blocks.errors import RateLimited, Unauthorized
from blocks.server.ui import web
from blocks.server.ui.templating import redirect, render

router = web.page_router()


@router.get("/")
def front(request: Request) -> Response:
    return redirect(request, "/ui/blocks")


@router.get("/sign-in")
def sign_in_page(request: Request,
                 after: Annotated[str, Query(alias="next")] = "/ui/blocks") -> Response:
    return render(request, "sign_in.html", after=_after(after), error=None)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    """Authenticate the token of the form (as the API would) and open a session."""
    form = await request.form()
    after = _after(str(form.get("next") or "/ui/blocks"))
    if not web.same_origin(request):
        raise web.CsrfRefused("refused: the sign-in form was not sent from this server's "
                              "own page (Origin/Referer check)")
    token = form.get("token")
    if not isinstance(token, str) or not token.strip():
        return render(request, "sign_in.html", status=400, after=after,
                      error="enter an API token (blocks tokens create NAME --policy P)")
    try:
        principal = await run_in_threadpool(web.authenticate_token, request, token.strip())
    except (Unauthorized, RateLimited) as exc:
        return render(request, "sign_in.html", status=401 if isinstance(exc, Unauthorized)
                      else 429, after=after, error=f"sign-in refused: {exc}")
    web.start_session(request, token.strip())
    return redirect(request, after, flash=f"signed in as {principal.name}", level="success")


@router.post("/sign-out")
async def sign_out(request: Request, posted: web.UiPost) -> Response:
    request.state.ui_clear = True
    return redirect(request, "/ui/sign-in", flash="signed out", level="success")


def _after(value: str) -> str:
    """Where to go after signing in: a path of the UI only (never another site)."""
    if value.startswith("/ui/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/ui/blocks"
