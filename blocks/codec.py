"""Block <-> canonical JSON bytes: secrets revealed for sealing, nested blocks as references.

The document of a version is the compact JSON (no spaces, UTF-8) of the block's fields, sorted by
field name; the keys of dict values keep their order, so a JSON ``Secret`` loads as it was saved.
A nested block that was saved or loaded is written as ``{"$ref": "<block id>"}`` and
resolved on load; an unsaved nested block is embedded whole.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel, SecretBytes, SecretStr
from pydantic_core import to_jsonable_python

from blocks import _lenient
from blocks.core import CONTEXT_RESOLVER, REF_KEY, Block, pydantic_errors
from blocks.errors import ValidationError

MASK = "********"
B = TypeVar("B", bound=Block)
Resolver = Callable[[str, type[Block]], Block]


@dataclass(frozen=True)
class Encoded:
    """A block's canonical document and the blocks it references (field path -> block id)."""

    document: bytes
    refs: dict[str, str] = field(default_factory=dict)


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no insignificant whitespace, UTF-8, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def encode(block: Block) -> Encoded:
    """The document to seal for ``block``, with secrets revealed.

    Raises:
        ValidationError: a referenced nested block was changed after it was loaded or saved
            (its changes would otherwise be silently dropped).
    """
    refs: dict[str, str] = {}
    doc = _Walker(reveal=True, refs=refs, ref_form="id").model(block, "")
    # Not canonical_json: sorting would reorder the keys of JSON values (Secret, dict fields);
    # the walker sorts the fields of each model instead.
    document = json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return Encoded(document.encode(), refs)


def decode(
    cls: type[B], document: bytes, resolver: Resolver, ref: str = "", *, validate: bool = True
) -> B:
    """Validate a stored document as ``cls``, resolving ``$ref`` entries through ``resolver``.

    With ``validate=False`` a document that does not fit is built field by field instead
    (:func:`blocks._lenient.construct`), with a warning naming the fields.

    Raises:
        ValidationError: the document no longer fits the type (schema changed), path named.
    """
    try:
        return cls.model_validate_json(document, context={CONTEXT_RESOLVER: resolver})
    except pydantic.ValidationError as exc:
        if not validate:
            return _lenient.construct(cls, document, resolver, ref or cls.block_type_slug)
        raise ValidationError(ref or cls.block_type_slug, pydantic_errors(exc)) from None


def to_display(block: Block, *, show_secrets: bool = False) -> dict[str, Any]:
    """The block as a JSON-able dict for people: secrets as ``********`` unless asked for,
    nested saved blocks as ``{"$ref": "slug/name"}``."""
    return _Walker(reveal=show_secrets, refs={}, ref_form="name").model(block, "")


def reveal(block: Block) -> tuple[dict[str, Any], frozenset[str]]:
    """The block as JSON with secrets in clear and nested saved blocks embedded, plus the set
    of revealed secret strings (so that output for people can mask them)."""
    secrets: set[str] = set()
    document = _Walker(reveal=True, refs={}, ref_form="inline", secrets=secrets).model(block, "")
    return document, frozenset(secrets)


def mask_document(value: Any, secret_paths: tuple[str, ...]) -> Any:
    """Replace the values at ``secret_paths`` (``*`` = any key/item) in a plain document."""
    for path in secret_paths:
        value = _mask_at(value, path.split("."))
    return value


def _mask_at(value: Any, parts: list[str]) -> Any:
    if not parts:
        return MASK if value is not None else None
    head, rest = parts[0], parts[1:]
    if isinstance(value, Mapping):
        if REF_KEY in value:
            return value
        if head == "*":
            return {k: _mask_at(v, rest) for k, v in value.items()}
        if head in value:
            return {**value, head: _mask_at(value[head], rest)}
    elif isinstance(value, list) and head == "*":
        return [_mask_at(v, rest) for v in value]
    return value


@dataclass
class _Walker:
    reveal: bool
    refs: dict[str, str]
    ref_form: str  # "id" for storage, "name" for display, "inline" to embed saved blocks too
    secrets: set[str] | None = None  # when given, every revealed secret leaf is recorded here

    def model(self, model: BaseModel, path: str, secret: bool = False) -> dict[str, Any]:
        # Keys are the published names (the alias when a field has one), as in the JSON Schema.
        out = {}
        for name, info in type(model).model_fields.items():
            key = info.alias or name
            out[key] = self.value(getattr(model, name), f"{path}.{key}" if path else key, secret)
        return dict(sorted(out.items())) if self.ref_form == "id" else out

    def value(self, value: Any, path: str, secret: bool = False) -> Any:
        if value is None or isinstance(value, str | bool | int | float):
            return self.leaf(value, secret)
        if isinstance(value, Block):
            return self.nested_block(value, path, secret)
        if isinstance(value, BaseModel):
            return self.model(value, path, secret)
        if isinstance(value, SecretStr):
            return self.leaf(value.get_secret_value(), True) if self.reveal else MASK
        if isinstance(value, SecretBytes):
            raw = base64.b64encode(value.get_secret_value()).decode()
            return self.leaf(raw, True) if self.reveal else MASK
        if isinstance(value, pydantic.Secret):
            return self.value(value.get_secret_value(), path, True) if self.reveal else MASK
        if isinstance(value, Mapping):
            return {str(k): self.value(v, f"{path}.{k}", secret) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(v, f"{path}.{i}", secret) for i, v in enumerate(value)]
        if isinstance(value, bytes):
            return self.leaf(base64.b64encode(value).decode(), secret)
        return self.leaf(to_jsonable_python(value), secret)

    def leaf(self, value: Any, secret: bool) -> Any:
        if secret and self.secrets is not None and value is not None \
                and not isinstance(value, bool):
            self.secrets.add(str(value))
        return value

    def nested_block(self, block: Block, path: str, secret: bool) -> Any:
        block_id = block.block_id
        if block_id is None or self.ref_form == "inline":
            return self.model(block, path, secret)
        if self.ref_form == "name":
            return {REF_KEY: block.block_ref}
        if block.block_is_modified:
            raise ValidationError(
                "",
                [(path, f"the nested block {block.block_ref} was changed after it was loaded; "
                        f"save it first with .save({block.block_name!r}, overwrite=True), or "
                        "assign a new unsaved block to embed it")],
            )
        self.refs[path] = block_id
        return {REF_KEY: block_id}
