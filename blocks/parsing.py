"""Building a block from a plain JSON document, with ``$ref`` to saved blocks resolved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pydantic

from blocks import catalog
from blocks.core import CONTEXT_RESOLVER, Block, pydantic_errors
from blocks.errors import BlocksError, ValidationError

if TYPE_CHECKING:
    from blocks._block_base import BlockRegistry as Registry


def parse(registry: Registry, slug: str, data: Mapping[str, Any], *, ref: str = "") -> Block:
    """Build (and validate) a block of type ``slug`` from ``data``; see :meth:`Registry.parse`.

    Raises:
        UnknownBlockType, ValidationError (field path named, values never shown).
    """
    cls = catalog.get(slug)

    def resolve(value: Any, expected: type[Block]) -> Block:
        if not isinstance(value, str) or not value:
            raise ValueError("a reference must be 'type-slug/name' or a block id")
        try:
            block = registry.load(value if "/" in value else registry.ref_by_id(value))
        except BlocksError as exc:
            raise ValueError(str(exc)) from None
        if not isinstance(block, expected):
            raise ValueError(f"{block.block_ref} is not a {expected.__name__}")
        return block

    if not isinstance(data, Mapping):
        raise ValidationError(ref or slug, [("", "the document must be a JSON object")])
    try:
        return cls.model_validate(dict(data), context={CONTEXT_RESOLVER: resolve})
    except pydantic.ValidationError as exc:
        raise ValidationError(ref or slug, pydantic_errors(exc)) from None
