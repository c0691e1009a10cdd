"""Nested saved blocks in a document a client saves, resolved as its principal may see them.

Both saves of a block resolve them here: the HTTP API's (``POST /v1/blocks/{slug}/{name}``,
:mod:`blocks.server.routes.blocks`; references by block id) and the web UI's forms
(:mod:`blocks.server.ui.forms_save`; references by ``slug/name``). Each reference needs
``read-metadata`` on the block it names (a 403, not a field error), is loaded with a depth
bound of its own, and must be of the type the field allows; any other problem is a
``ValueError``, which the block's validation reports at the field.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

from blocks.core import Block
from blocks.errors import BlocksError
from blocks.registry import Registry
from blocks.server.security import Principal

Resolve = Callable[[Any, type[Block]], Block]


def reference_resolver(registry: Registry, principal: Principal,
                       to_ref: Callable[[Any], str]) -> Resolve:
    """A resolver of references for ``principal``: ``to_ref`` turns a reference as the
    document writes it into the ``slug/name`` of a saved block (raising ``BlocksError`` or
    ``ValueError`` when it names none)."""

    def resolve(value: Any, expected: type[Block]) -> Block:
        try:
            target_ref = to_ref(value)
        except BlocksError as exc:
            raise ValueError(str(exc)) from None
        principal.require("read-metadata", "blocks", target_ref)  # a 403, not a field error
        try:
            # A load of its own (a fresh context: its depth bound counts from zero), as the
            # client's nested block was when it loaded or saved it.
            target = contextvars.Context().run(registry.load, target_ref)
        except BlocksError as exc:
            raise ValueError(str(exc)) from None
        if not isinstance(target, expected):
            raise ValueError(f"references {target_ref}, not a {expected.__name__}")
        return target

    return resolve
