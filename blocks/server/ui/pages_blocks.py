"""The block pages: the list by type with search, a block's fields, references, history,
diff, and its actions (reveal, rollback, rename, delete).

Every page and action asks the principal for the same capability as the HTTP API's route
does (``blocks/server/routes/blocks.py``) and calls the same registry methods; each action
runs in :func:`blocks.server.ui.acting.acting` (the audit trail, ``via="ui"``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from starlette.responses import JSONResponse, Response

from blocks import catalog, wire
from blocks.errors import (
    BlocksError,
    ConflictError,
    InvalidArgument,
    ReferencedBlockError,
    ValidationError,
)
from blocks.server.ui import acting, block_view, web
from blocks.server.ui.templating import redirect, render

router = web.page_router()
PAGE_SIZE = 100


@router.get("/blocks")
def list_page(
    request: Request,
    principal: web.UiPrincipal,
    slug: Annotated[str, Query(alias="type", max_length=100)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Blocks the principal may see (``read-metadata``), by type, with counts and search."""
    registry = web.registry_of(request)
    with acting.as_actor(request, principal):
        listed = registry.list()
    visible = [s for s in listed if principal.allows("read-metadata", "blocks", s.ref)]
    counts: dict[str, int] = {}
    for summary in visible:
        counts[summary.type_slug] = counts.get(summary.type_slug, 0) + 1
    if slug:
        catalog.get(slug)  # UnknownBlockType names the slug
    needle = q.strip().lower()
    shown = [s for s in visible if (not slug or s.type_slug == slug)
             and (not needle or needle in s.ref.lower())]
    pages = max(1, -(-len(shown) // PAGE_SIZE))
    page = min(page, pages)
    return render(request, "blocks/list.html", blocks=shown[(page - 1) * PAGE_SIZE:
                                                            page * PAGE_SIZE],
                  total=len(visible), matching=len(shown), counts=sorted(counts.items()),
                  types=sorted(catalog.all_types()), slug=slug, q=q, page=page, pages=pages)


@router.get("/blocks/{slug}/{name}")
def block_page(request: Request, slug: str, name: str, principal: web.UiPrincipal) -> Response:
    """A block: metadata, fields (with ``read``), references, history and actions."""
    ref = f"{slug}/{name}"
    principal.require("read-metadata", "blocks", ref)
    registry = web.registry_of(request)
    can_read = principal.allows("read", "blocks", ref)
    fields: list[block_view.Field] = []
    refs_out: list[tuple[str, str]] = []
    stale = False
    with acting.as_actor(request, principal):
        summary = registry.summary(ref)
        history = registry.history(ref)
        if can_read:
            try:
                block = registry.load(ref)
            except ValidationError:  # its type changed since: show it as stored
                block = registry.load(ref, validate=False)
                stale = True
            fields = block_view.visible_fields(block, principal)
            refs_out = [(f.path, f.ref) for f in fields if f.ref is not None]
    refs_in, hidden_in = block_view.visible_references_in(registry, principal, summary.id)
    cls = catalog.get(slug)
    return render(
        request, "blocks/block.html", ref=ref, slug=slug, name=name, summary=summary,
        type_name=cls.__name__, history=list(reversed(history)), fields=fields,
        refs_out=refs_out, refs_in=refs_in, hidden_in=hidden_in, can_read=can_read,
        can_write=principal.allows("write", "blocks", ref),
        can_delete=principal.allows("delete", "blocks", ref), stale=stale,
        actors=acting.version_actors(registry, ref),
    )


@router.post("/blocks/{slug}/{name}/reveal")
def reveal(request: Request, slug: str, name: str, posted: web.UiPost) -> Response:
    """One secret field in clear (``read``; audited). JSON for the page's script, else a
    page that shows it once."""
    ref = f"{slug}/{name}"
    path = posted.get("field")
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        with acting.acting(request, posted.principal, "reveal", ref), \
                acting.recorded(request, "reveal", ref, detail={"field": path[:200]}):
            posted.principal.require("read", "blocks", ref)
            block = web.registry_of(request).load(ref)
            value = block_view.revealed_value(block, path)
    except BlocksError as exc:
        if not wants_json:
            raise
        return web.finish(request, JSONResponse({"error": str(exc)},
                                                status_code=wire.status_of(exc)))
    if wants_json:
        return web.finish(request, JSONResponse({"field": path, "value": value}))
    return render(request, "blocks/revealed.html", ref=ref, path=path, value=value)


@router.get("/blocks/{slug}/{name}/diff")
def diff_page(
    request: Request, slug: str, name: str, principal: web.UiPrincipal,
    a: Annotated[int, Query(ge=1)], b: Annotated[int, Query(ge=1)],
) -> Response:
    """The masked field-by-field diff of versions ``a`` and ``b`` (``read``)."""
    ref = f"{slug}/{name}"
    principal.require("read", "blocks", ref)
    registry = web.registry_of(request)
    with acting.as_actor(request, principal):
        old, new = registry.load(ref, version=a), registry.load(ref, version=b)
    return render(request, "blocks/diff.html", ref=ref, a=a, b=b,
                  changes=block_view.diff(old, new))


@router.post("/blocks/{slug}/{name}/rollback")
def rollback(request: Request, slug: str, name: str, posted: web.UiPost) -> Response:
    """A new version with the content of an old one, compare-and-set on the version the page
    showed (``write``)."""
    ref = f"{slug}/{name}"
    version, expected = _int(posted, "version"), _int(posted, "expected_version")
    with acting.acting(request, posted.principal, "rollback", ref):
        posted.principal.require("write", "blocks", ref)
        try:
            info = web.registry_of(request).rollback(ref, version, expected_version=expected)
        except ConflictError as exc:
            raise ConflictError(
                f"not rolled back: {ref} changed since this page showed version {expected} "
                f"({exc}). Reload the page to see the current version, then try again."
            ) from None
    return redirect(request, _page(ref), level="success",
                    flash=f"rolled back {ref} to version {version}: now version {info.version}")


@router.post("/blocks/{slug}/{name}/rename")
def rename(request: Request, slug: str, name: str, posted: web.UiPost) -> Response:
    """Rename (``write`` on both names; compare-and-set on the version the page showed)."""
    ref = f"{slug}/{name}"
    new_name = posted.get("new_name").strip()
    expected = _int(posted, "expected_version")
    with acting.acting(request, posted.principal, "rename", ref):
        posted.principal.require("write", "blocks", ref)
        posted.principal.require("write", "blocks", f"{slug}/{new_name}")
        renamed = web.registry_of(request).rename(ref, new_name, expected_version=expected)
    return redirect(request, _page(renamed.ref), level="success",
                    flash=f"renamed {ref} to {renamed.ref}")


@router.post("/blocks/{slug}/{name}/delete")
def delete(request: Request, slug: str, name: str, posted: web.UiPost) -> Response:
    """Delete into the recovery window (``delete``); refused while referenced."""
    ref = f"{slug}/{name}"
    with acting.acting(request, posted.principal, "delete", ref):
        posted.principal.require("delete", "blocks", ref)
        try:
            web.registry_of(request).delete(ref)
        except ReferencedBlockError as exc:
            return render(request, "error.html", status=409, title="Still referenced",
                          message=f"{ref} was not deleted: other blocks reference it. "
                                  "Delete or re-point them first.",
                          extra=exc.referrers, back=_page(ref))
    return redirect(request, f"/ui/blocks?type={slug}", level="success",
                    flash=f"deleted {ref} (recoverable with 'blocks undelete {ref}' during "
                          "the recovery window)")


def _page(ref: str) -> str:
    return f"/ui/blocks/{ref}"


def _int(posted: web.Posted, field: str) -> int:
    text = posted.get(field).strip()
    if not text.isdigit() or len(text) > 12:
        raise InvalidArgument(f"form field {field!r} must be a version number; reload the "
                              "page and try again")
    return int(text)
