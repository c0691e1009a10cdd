"""Saving a form's document: the same checks and registry call as the HTTP API's save.

``POST /v1/blocks/{slug}/{name}`` (``blocks/server/routes/blocks.py``) asks for ``write`` on the
block, builds it with each referenced block loaded after a ``read-metadata`` check (a 403, not
a field error), and calls ``Registry.save`` with ``overwrite`` and ``expected_version``. The
form names references ``slug/name`` (as ``blocks save`` documents do) where the API's client
sends block ids; everything else is the same (one resolver: :mod:`blocks.server.block_refs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pydantic

from blocks import catalog, codec
from blocks.core import CONTEXT_RESOLVER, Block, pydantic_errors, split_ref
from blocks.errors import ValidationError
from blocks.registry import Registry
from blocks.server.block_refs import reference_resolver
from blocks.server.security import Principal
from blocks.store.records import VersionInfo


def save(registry: Registry, principal: Principal, slug: str, name: str,
         document: Mapping[str, Any], *, overwrite: bool,
         expected_version: int | None) -> VersionInfo:
    """Save ``document`` as ``slug/name`` for ``principal``.

    Raises:
        Forbidden: no ``write`` on the block, or no ``read-metadata`` on a block it references.
        ValidationError: the document does not fit the type (field paths named).
        ConflictError: ``expected_version`` is no longer the current version.
    """
    ref = f"{slug}/{name}"
    principal.require("write", "blocks", ref)
    block = build(registry, principal, slug, document, ref)
    return registry.save(block, name, overwrite=overwrite, expected_version=expected_version)


def build(registry: Registry, principal: Principal, slug: str, document: Mapping[str, Any],
          ref: str) -> Block:
    """The block ``document`` describes, references resolved as ``principal`` may see them."""
    cls = catalog.get(slug)
    resolve = reference_resolver(registry, principal, _slug_name)
    problem = codec.json_problem(dict(document))
    if problem is not None:
        raise ValidationError(ref, [problem])
    try:
        return cls.model_validate(dict(document), context={CONTEXT_RESOLVER: resolve})
    except pydantic.ValidationError as exc:
        raise ValidationError(ref, pydantic_errors(exc)) from None


def _slug_name(value: Any) -> str:
    """A form's reference (``slug/name``, as ``blocks save`` documents write them)."""
    if not isinstance(value, str) or "/" not in value:
        raise ValueError("a reference must be a saved block's 'type-slug/name'")
    return "/".join(split_ref(value))
