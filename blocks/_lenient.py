"""``load(name, validate=False)``: build a block from a document that no longer validates.

Prefect lets code load a block saved before required fields were added to its type; the new
fields are ``None`` until the block is saved again. Here each field is validated on its own:
fields that validate are typed as usual (nested blocks resolved), missing fields are ``None``,
fields that fail keep their stored value, and unknown fields are dropped. One warning names
them (never their values) and says how to fix the block.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Annotated, Any, TypeVar, cast

import pydantic
from pydantic import ConfigDict, TypeAdapter

from blocks._compat import STORED_CONTEXT
from blocks.core import CONTEXT_RESOLVER, Block

B = TypeVar("B", bound=Block)
_JSON_CONFIG = ConfigDict(val_json_bytes="base64", hide_input_in_errors=True)


class BlockSchemaWarning(UserWarning):
    """A block was loaded with ``validate=False`` and does not fit its type."""


def construct(
    cls: type[B], document: bytes, resolver: Callable[[str, type[Block]], Block], ref: str
) -> B:
    """The block of type ``cls`` stored as ``document``, built without whole-model checks."""
    data = json.loads(document)
    if not isinstance(data, dict):
        data = {}
    context = {CONTEXT_RESOLVER: resolver, STORED_CONTEXT: True}
    values: dict[str, Any] = {}
    missing: list[str] = []
    invalid: list[str] = []
    for name, info in cls.model_fields.items():
        key = info.alias or name
        if key not in data and name not in data:
            if info.is_required():
                values[name] = None
                missing.append(key)
            continue
        raw = data.pop(key) if key in data else data.pop(name)
        try:
            values[name] = _adapter(info).validate_json(json.dumps(raw), context=context)
        except pydantic.ValidationError:
            values[name] = raw
            invalid.append(key)
    block = cast(B, cls.model_construct(**values))
    notes = []
    if missing:
        notes.append(f"missing fields set to None: {', '.join(missing)}")
    if invalid:
        notes.append(f"fields kept as stored (they do not validate): {', '.join(invalid)}")
    if data:
        notes.append(f"unknown fields dropped: {', '.join(sorted(data))}")
    name = ref.partition("/")[2] or "NAME"
    warnings.warn(
        f"{ref} was loaded with validate=False and does not fit {cls.__name__}: "
        f"{'; '.join(notes)}. Set these fields, then save it again with "
        f".save({name!r}, overwrite=True).",
        BlockSchemaWarning,
        stacklevel=2,
    )
    return block


def _adapter(info: pydantic.fields.FieldInfo) -> TypeAdapter[Any]:
    annotated: Any = Annotated[info.annotation, info]
    try:
        return TypeAdapter(annotated, config=_JSON_CONFIG)
    except pydantic.PydanticUserError:  # models bring their own config
        return TypeAdapter(annotated)
