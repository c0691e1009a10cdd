"""The UI's Jinja2 environment and :func:`render`.

Autoescaping is on for every template (names, descriptions and field values are shown as
text, never as markup); the pages load no inline script (the Content-Security-Policy forbids
it), only ``/ui/static/ui.js``.

Example (a page route)::

    @router.get("/things")
    def things(request: Request, principal: UiPrincipal) -> Response:
        return render(request, "things/list.html", things=[...])
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from blocks.server.ui import web

TEMPLATES = Path(__file__).parent / "templates"
NAV = (("Blocks", "/ui/blocks"), ("Pools", "/ui/pools"), ("Rotation", "/ui/rotation"),
       ("Admin", "/ui/admin"))


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return "" if value is None else str(value)


env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=True,  # every template, whatever its name
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["when"] = _when


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> Response:
    """The page ``template`` (a path under ``templates/``) with ``context``.

    Every page also gets ``principal`` (or ``None`` before sign-in), ``nav``, ``current``
    (the request path), ``flashes`` (messages queued by :func:`web.redirect`) and
    ``csrf_field()`` (the hidden ``csrf`` input every POST form must carry).
    """
    session = web.current_session(request)

    def csrf_field() -> Markup:
        token = session.csrf if session is not None else ""
        return Markup('<input type="hidden" name="csrf" value="{}">').format(token)

    page = env.get_template(template).render(
        request=request,
        principal=getattr(request.state, "ui_principal", None),
        nav=NAV,
        current=request.url.path,
        flashes=web.take_flashes(request),
        csrf_field=csrf_field,
        **context,
    )
    return web.finish(request, HTMLResponse(page, status_code=status))


def redirect(request: Request, url: str, *, flash: str | None = None,
             level: str = "info") -> Response:
    """A 303 to ``url`` (a path under ``/ui``), with an optional message for the next page."""
    if not url.startswith("/ui"):
        url = "/ui"
    if flash:
        web.add_flash(request, flash, level)
    return web.finish(request, RedirectResponse(url, status_code=303))
