"""Sessions, principals, CSRF and flash messages of the UI's requests.

* :func:`ui_principal` (sync, for a worker thread) -> the signed-in :class:`Principal`:
  the session cookie's token authenticated through the app's authenticator, the same one
  as the HTTP API's (a revoked token ends the session at once). Raises :class:`SignInRequired`
  (a redirect to the sign-in page) when there is no live session.
* :func:`posted` checks a POST: its ``Origin`` (or ``Referer``) is this server, and its
  ``csrf`` field is the session's CSRF token (403 otherwise).
* :func:`finish` puts the refreshed session and the queued flash messages on a response, and
  the security headers every UI response carries.

Route signatures use the dependencies ``UiPrincipal`` (pages) and ``UiPost`` (forms): see
``blocks/server/ui/app.py`` and ``UI.md``.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from blocks.errors import BlocksError, Forbidden, Unauthorized
from blocks.server.security import Principal
from blocks.server.ui import session as sessions

if TYPE_CHECKING:
    from blocks.registry import Registry

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


class SignInRequired(BlocksError):
    """No live session: the UI answers with a redirect to the sign-in page."""

    def __init__(self, message: str, after: str = "/ui/blocks") -> None:
        super().__init__(message)
        self.after = after


class CsrfRefused(Forbidden):
    """A POST without this session's CSRF token, or from another origin (403)."""


def page_router() -> APIRouter:
    """A router for UI pages (add it to ``PAGE_ROUTERS`` in ``ui/app.py``)."""
    return APIRouter(include_in_schema=False)


def registry_of(request: Request) -> Registry:
    """The registry the server serves."""
    registry: Registry = request.app.state.registry
    return registry


def current_session(request: Request) -> sessions.Session | None:
    """The request's session (after :func:`ui_principal` ran), else ``None``."""
    found: sessions.Session | None = getattr(request.state, "ui_session", None)
    return found


def authenticate_token(request: Request, token: str) -> Principal:
    """``token``'s principal through the app's authenticator, as if the request had sent it
    as ``Authorization: Bearer``: the same checks, throttle and errors as the HTTP API."""
    headers = [(k, v) for k, v in request.scope.get("headers", []) if k != b"authorization"]
    scope = dict(request.scope)
    scope["headers"] = [*headers, (b"authorization", f"Bearer {token}".encode("latin-1"))]
    scope["state"] = {}
    principal: Principal = request.app.state.authenticator(Request(scope))
    return principal


def ui_principal(request: Request) -> Principal:
    """The signed-in principal (for a worker thread: it reads the database).

    Raises:
        SignInRequired: no session, an expired one, or its token no longer authenticates.
    """
    found: Principal | None = getattr(request.state, "ui_principal", None)
    if found is not None:
        return found
    after = request.url.path if request.method == "GET" else "/ui/blocks"
    registry = registry_of(request)
    session = sessions.read_session(registry, request.cookies.get(sessions.COOKIE))
    now = time.time()
    if session is None:
        raise SignInRequired("sign in with an API token", after)
    if session.expired(now):
        request.state.ui_clear = True
        raise SignInRequired("your session expired: sign in again", after)
    try:
        principal = authenticate_token(request, session.token)
    except Unauthorized as exc:
        request.state.ui_clear = True
        raise SignInRequired(f"your session ended: {exc}", after) from None
    if now - session.seen > sessions.REFRESH_AFTER:
        session = session.touched(now)
        request.state.ui_refresh = True
    request.state.ui_session = session
    request.state.ui_principal = principal
    request.state.principal = principal  # the access log names it (never the token)
    return principal


async def page_principal(request: Request) -> Principal:
    """Dependency: the signed-in principal of a page (authenticated in the thread pool)."""
    return await run_in_threadpool(ui_principal, request)


UiPrincipal = Annotated[Principal, Depends(page_principal)]


@dataclass(frozen=True)
class Posted:
    """A checked POST: who sent it and its form fields."""

    principal: Principal
    form: FormData

    def get(self, name: str, default: str = "") -> str:
        """The text of form field ``name`` (``default`` when absent or a file)."""
        value = self.form.get(name)
        return value if isinstance(value, str) else default


def same_origin(request: Request) -> bool:
    """True if the request's ``Origin`` (else ``Referer``) is this server's own."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return False
    given = urlsplit(source)
    own = urlsplit(str(request.base_url))
    return (given.scheme, given.netloc) == (own.scheme, own.netloc)


async def posted(request: Request) -> Posted:
    """Dependency of every UI form POST: same origin, signed in, the session's CSRF token."""
    if not same_origin(request):
        raise CsrfRefused("refused: this form was not sent from this server's own pages "
                          "(Origin/Referer check); reload the page and try again")
    form = await request.form()
    principal = await run_in_threadpool(ui_principal, request)
    session = current_session(request)
    given = form.get("csrf")
    if (session is None or not isinstance(given, str)
            or not hmac.compare_digest(given.encode(), session.csrf.encode())):
        raise CsrfRefused("refused: the form's CSRF token is missing or is not this "
                          "session's; reload the page and try again")
    return Posted(principal, form)


UiPost = Annotated[Posted, Depends(posted)]


# -- flash messages --------------------------------------------------------------------------


def add_flash(request: Request, message: str, level: str = "info") -> None:
    """Queue ``message`` for the next page (``level``: info, success, error)."""
    queued: list[list[str]] = getattr(request.state, "ui_flash_out", [])
    queued.append([level, message[:2000]])
    request.state.ui_flash_out = queued


def take_flashes(request: Request) -> list[tuple[str, str]]:
    """The messages queued for this page (read once: the cookie is cleared)."""
    data = sessions.unseal(registry_of(request), request.cookies.get(sessions.FLASH_COOKIE),
                           sessions.FLASH_COOKIE)
    if not request.cookies.get(sessions.FLASH_COOKIE):
        return []
    request.state.ui_flash_clear = True
    items = data.get("m", []) if data else []
    return [(str(level), str(text)) for level, text in items if isinstance(text, str)][:10]


# -- responses -------------------------------------------------------------------------------


def start_session(request: Request, token: str) -> None:
    """Open a new session for ``token`` (:func:`finish` puts it on the response)."""
    session = sessions.new_session(token)
    request.state.ui_session = session
    request.state.ui_refresh = True


def finish(request: Request, response: Response) -> Response:
    """``response`` with the session cookie (refreshed, set or cleared), the flash cookie
    and the UI's security headers."""
    secure = request.url.scheme == "https"
    cookie: dict[str, Any] = {"path": sessions.PATH, "httponly": True, "samesite": "strict",
                              "secure": secure}
    registry = registry_of(request)
    session = current_session(request)
    if getattr(request.state, "ui_clear", False):
        response.delete_cookie(sessions.COOKIE, **cookie)
    elif session is not None and getattr(request.state, "ui_refresh", False):
        response.set_cookie(sessions.COOKIE, sessions.session_cookie(registry, session),
                            max_age=sessions.LIFETIME, **cookie)
    queued = getattr(request.state, "ui_flash_out", None)
    if queued:
        response.set_cookie(sessions.FLASH_COOKIE,
                            sessions.seal(registry, {"m": queued}, sessions.FLASH_COOKIE),
                            max_age=300, **cookie)
    elif getattr(request.state, "ui_flash_clear", False):
        response.delete_cookie(sessions.FLASH_COOKIE, **cookie)
    headers = response.headers
    headers.setdefault("content-security-policy", CSP)
    headers["x-content-type-options"] = "nosniff"
    headers["referrer-policy"] = "same-origin"
    headers["x-frame-options"] = "DENY"
    headers["cache-control"] = "no-store"
    return response


def sign_in_url(after: str) -> str:
    """The sign-in page, coming back to ``after`` (a ``/ui`` path) once signed in."""
    return "/ui/sign-in?next=" + quote(after if after.startswith("/ui") else "/ui/blocks")
