"""Create and edit pages (forms generated from each type's schema) and the "copy as" page.

* ``GET /ui/blocks/new``: pick a type; ``?type=<slug>``: its form.
* ``POST /ui/blocks/new``: save a new block (``write``; referenced blocks need
  ``read-metadata``), as ``POST /v1/blocks/{slug}/{name}`` does (:mod:`.forms_save`).
* ``GET|POST /ui/blocks/{slug}/{name}/edit``: the current version's values (secrets never
  sent: left empty, they keep the stored value), saved with compare-and-set on the version the
  form showed. Needs ``read`` (the form shows the values) and ``write``.
* ``GET /ui/blocks/{slug}/{name}/copy-as``: the block as Python, ``blocks save`` JSON and
  Terraform (:mod:`.copy_as`); needs ``read``.

A refused save draws the form again with what was typed (secrets excepted) and each error at
its field; ``_action=refresh`` (the "Show its fields" button of a union, without JavaScript)
draws it again without saving.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from starlette.responses import Response

from blocks import catalog
from blocks.codec import to_display
from blocks.core import NAME_RULE, Block
from blocks.errors import (
    BlockAlreadyExists,
    ConflictError,
    InvalidArgument,
    InvalidName,
    ValidationError,
)
from blocks.server.security import Principal
from blocks.server.ui import acting, forms_save, web
from blocks.server.ui.copy_as import copy_as
from blocks.server.ui.forms import Spec, TypeForm, type_form
from blocks.server.ui.forms_parse import Parsed, parse
from blocks.server.ui.forms_render import Field, masked_paths, render
from blocks.server.ui.templating import redirect
from blocks.server.ui.templating import render as page

router = web.page_router()


@router.get("/blocks/new")
def new_page(request: Request, principal: web.UiPrincipal,
             slug: Annotated[str, Query(alias="type", max_length=100)] = "") -> Response:
    """The type picker, or the form of type ``slug``."""
    if not slug:
        types = [type_form(cls) for cls in catalog.all_types().values()]
        return page(request, "forms/types.html", types=types)
    form = type_form(catalog.get(slug))
    with acting.as_actor(request, principal):
        return _form_page(request, principal, form, None, name="")


@router.post("/blocks/new")
def create(request: Request, posted: web.UiPost) -> Response:
    """Save the new block the form describes."""
    form = type_form(catalog.get(posted.get("_type")))
    name = posted.get("_name").strip()
    fields = _fields(posted)
    parsed = parse(form.root, fields)
    ref = f"{form.slug}/{name}"
    if posted.get("_action") == "refresh" or parsed.errors:
        return _refused(request, posted.principal, form, parsed, name=name,
                        status=200 if not parsed.errors else 422)
    with acting.acting(request, posted.principal, "create", ref):
        try:
            forms_save.save(web.registry_of(request), posted.principal, form.slug, name,
                            parsed.document, overwrite=False, expected_version=None)
        except (InvalidName, BlockAlreadyExists) as exc:
            parsed.errors.setdefault("_name", []).append(_name_problem(exc, name))
            return _refused(request, posted.principal, form, parsed, name=name, status=422)
        except ValidationError as exc:
            _merge(parsed, exc)
            return _refused(request, posted.principal, form, parsed, name=name, status=422)
    return redirect(request, f"/ui/blocks/{ref}", flash=f"created {ref}", level="success")


@router.get("/blocks/{slug}/{name}/edit")
def edit_page(request: Request, slug: str, name: str, principal: web.UiPrincipal) -> Response:
    """The form of the current version: values shown, secrets never sent."""
    ref = f"{slug}/{name}"
    principal.require("write", "blocks", ref)
    principal.require("read", "blocks", ref)
    with acting.as_actor(request, principal):
        block = web.registry_of(request).load(ref)
        return _form_page(request, principal, type_form(type(block)), block, name=name)


@router.post("/blocks/{slug}/{name}/edit")
def edit(request: Request, slug: str, name: str, posted: web.UiPost) -> Response:
    """Save a new version (compare-and-set on the version the form showed)."""
    ref = f"{slug}/{name}"
    principal = posted.principal
    registry = web.registry_of(request)
    with acting.acting(request, principal, "edit", ref):
        principal.require("write", "blocks", ref)
        principal.require("read", "blocks", ref)
        shown = _version(posted.get("_expected_version"))
        stored = registry.load(ref, version=shown)
        form = type_form(type(stored))
        parsed = parse(form.root, _fields(posted), to_display(stored, show_secrets=True))
        kept = frozenset(parsed.stored)  # where rows moved or were renamed, as they are now
        if posted.get("_action") == "refresh" or parsed.errors:
            return _refused(request, principal, form, parsed, name=name, version=shown,
                            stored=kept, status=200 if not parsed.errors else 422)
        try:
            info = forms_save.save(registry, principal, slug, name, parsed.document,
                                   overwrite=True, expected_version=shown)
        except ValidationError as exc:
            _merge(parsed, exc)
            return _refused(request, principal, form, parsed, name=name, version=shown,
                            stored=kept, status=422)
        except ConflictError:
            current = registry.summary(ref).current_version
            return _refused(request, principal, form, parsed, name=name, version=shown,
                            stored=kept, status=409, title=(
                                f"Not saved: {ref} changed while you were editing it (you "
                                f"edited version {shown}, version {current} is now current). "
                                "Open the block again to see the change, then make your edit "
                                "again."))
    return redirect(request, f"/ui/blocks/{ref}",
                    flash=f"saved {ref} version {info.version}", level="success")


@router.get("/blocks/{slug}/{name}/copy-as")
def copy_as_page(request: Request, slug: str, name: str, principal: web.UiPrincipal) -> Response:
    """The block as Python, ``blocks save`` JSON and Terraform, secrets as names to fill in."""
    ref = f"{slug}/{name}"
    principal.require("read", "blocks", ref)
    with acting.as_actor(request, principal):
        block = web.registry_of(request).load(ref)
    texts = copy_as(block, to_display(block), ref)
    return page(request, "forms/copy_as.html", ref=ref, slug=slug, name=name,
                version=block.block_version, texts=texts)


# -- helpers ----------------------------------------------------------------------------------


def _form_page(request: Request, principal: Principal, form: TypeForm, block: Block | None,
               *, name: str) -> Response:
    display = to_display(block) if block is not None else None
    drawn = render(form.root, display, stored=masked_paths(display) if display else frozenset(),
                   saved=_saved(request, principal, form.root))
    return _draw(request, form, drawn, name=name,
                 version=block.block_version if block is not None else None,
                 name_errors=[], problems=[], title="", status=200)


def _refused(request: Request, principal: Principal, form: TypeForm, parsed: Parsed, *,
             name: str, status: int, version: int | None = None,
             stored: frozenset[str] = frozenset(), title: str = "") -> Response:
    """The form again with what was typed (secrets are never drawn) and the errors."""
    errors = dict(parsed.errors)
    name_errors = errors.pop("_name", [])
    drawn = render(form.root, parsed.document, errors=errors, raw=parsed.raw,
                   choices=parsed.choices, stored=stored, origins=parsed.origins,
                   saved=_saved(request, principal, form.root))
    if not title and (errors or name_errors):
        title = "Not saved: correct the fields marked below."
        if parsed.typed_secrets:
            title += " Secrets you typed are not shown again: type them again."
    return _draw(request, form, drawn, name=name, version=version, name_errors=name_errors,
                 problems=drawn.general, title=title, status=status)


def _draw(request: Request, form: TypeForm, drawn: Any, *, name: str, version: int | None,
          name_errors: list[str], problems: list[str], title: str, status: int) -> Response:
    editing = version is not None
    name_field = Field(widget="input", name="_name", path="_name", id="f-block-name",
                       label="Block name", description=f"Use {NAME_RULE}.", required=True,
                       value=name, errors=name_errors)
    action = f"/ui/blocks/{form.slug}/{name}/edit" if editing else "/ui/blocks/new"
    return page(request, "forms/form.html", status=status, slug=form.slug, name=name,
                title=form.title, description=form.description, form=drawn,
                name_field=name_field, editing=editing, expected_version=version,
                action=action, problems=problems if title else [],
                problem_title=title)


def _saved(request: Request, principal: Principal, root: Spec) -> dict[str, list[str]]:
    """Names of the saved blocks of each type a reference field of ``root`` may pick."""
    slugs: set[str] = set()
    stack = [root]
    while stack:
        spec = stack.pop()
        if spec.kind == "ref":
            slugs.update(spec.slugs)
        stack += [p.spec for p in spec.properties] + [m.spec for m in spec.members]
        if spec.item is not None:
            stack.append(spec.item)
    registry = web.registry_of(request)
    return {slug: [s.name for s in registry.list(slug)
                   if principal.allows("read-metadata", "blocks", s.ref)]
            for slug in sorted(slugs)}


def _fields(posted: web.Posted) -> dict[str, str]:
    return {key: value for key, value in posted.form.items() if isinstance(value, str)}


def _merge(parsed: Parsed, exc: ValidationError) -> None:
    for path, message in exc.errors:
        # pydantic's "Value error, " prefix says nothing to someone filling in a form
        parsed.errors.setdefault(path, []).append(message.removeprefix("Value error, "))


def _name_problem(exc: Exception, name: str) -> str:
    if isinstance(exc, BlockAlreadyExists):
        return f"a block named {name!r} of this type exists: choose another name, or edit it"
    return f"use {NAME_RULE}" if not name else str(exc)


def _version(text: str) -> int:
    try:
        version = int(text)
    except ValueError:
        raise InvalidArgument("the form lost the version it edits; open the edit page again"
                              ) from None
    if version < 1:
        raise InvalidArgument("the form names no version to edit; open the edit page again")
    return version
