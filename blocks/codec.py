"""Block <-> canonical JSON bytes: secrets revealed for sealing, nested blocks as references.

The document of a version is the compact JSON (no spaces, UTF-8) of the block's fields, sorted by
field name; the keys of dict values keep their order, so a JSON ``Secret`` loads as it was saved.
A nested block that was saved or loaded is written as ``{"$ref": "<block id>"}`` and
resolved on load; an unsaved nested block is embedded whole.
"""

from __future__ import annotations

import base64
import contextvars
import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel, SecretBytes, SecretStr
from pydantic_core import to_jsonable_python

from blocks import _lenient
from blocks._compat import STORED_CONTEXT
from blocks.core import CONTEXT_RESOLVER, REF_KEY, Block, pydantic_errors
from blocks.crypto.integrity import canonical_json as canonical_json
from blocks.errors import ReferenceChainError, ValidationError

MASK = "********"
MAX_DEPTH = 64
"""Deepest nesting of objects and lists a document may have (a block's own document, or JSON
text given to the CLI or Terraform); deeper input is refused with a :class:`ValidationError`."""
MAX_DECODE_DEPTH = 33
"""Most documents one load may decode inside each other: a block and a chain of 32 references
(the bound :mod:`blocks.references` enforces on save)."""
_decoding = contextvars.ContextVar("blocks_decode_depth", default=0)
_MAX_INT_BITS = 14_000  # about 4,200 digits: Python refuses to print longer integers as text
_FULL_CHECK_CHARS = 4_000  # a shorter text holds no integer of _MAX_INT_BITS
B = TypeVar("B", bound=Block)
Resolver = Callable[[str, type[Block]], Block]


@dataclass(frozen=True)
class Encoded:
    """A block's canonical document and the blocks it references (field path -> block id)."""

    document: bytes
    refs: dict[str, str] = field(default_factory=dict)


def encode(block: Block) -> Encoded:
    """The document to seal for ``block``, with secrets revealed.

    Raises:
        ValidationError: a referenced nested block was changed after it was loaded or saved
            (its changes would otherwise be silently dropped), or a value has no JSON form
            (NaN or infinity, a lone surrogate, an integer too long, nesting too deep).
    """
    refs: dict[str, str] = {}
    doc = _Walker(reveal=True, refs=refs, ref_form="id").model(block, "")
    # Not canonical_json: sorting would reorder the keys of JSON values (Secret, dict fields);
    # the walker sorts the fields of each model instead.
    text = ""
    try:
        text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        document: bytes | None = text.encode()
    except (ValueError, RecursionError, UnicodeEncodeError):  # NaN, long ints, surrogates
        document = None
    # Too deep a nesting or too long an integer needs a long or bracket-heavy text, so the
    # full walk (the slow part of a save) runs only then, or when the text could not be made.
    if (document is None or len(text) > _FULL_CHECK_CHARS
            or text.count("[") + text.count("{") > MAX_DEPTH):
        problem = json_problem(doc)
        if problem is not None:
            raise ValidationError("", [problem])
        if document is None:
            raise ValidationError("", [("", "the document has no JSON form")])
    return Encoded(document, refs)


def parse_json(data: str | bytes, ref: str = "", *, source: str = "the document") -> Any:
    """Parse untrusted JSON text (a file given to the CLI, a Terraform attribute).

    Refuses, with a one-line :class:`ValidationError` that never quotes the text: bytes that
    are not UTF-8, invalid JSON (by position), ``NaN``/``Infinity`` and numbers out of range,
    lone surrogates, integers too long to print, and nesting deeper than :data:`MAX_DEPTH`.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError(
                ref, [("", f"{source} is not UTF-8 text (invalid byte at offset {exc.start})")]
            ) from None
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        # The position only: the text may hold secrets, so no excerpt of it.
        raise ValidationError(
            ref, [("", f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}): "
                       f"{exc.msg}")]
        ) from None
    except _NonFinite:
        raise ValidationError(ref, [("", f"{source} holds NaN or Infinity, which JSON "
                                         "does not allow")]) from None
    except RecursionError:
        raise ValidationError(ref, [("", f"{source} is nested more than {MAX_DEPTH} levels "
                                         "deep")]) from None
    except ValueError:
        # json raises a plain ValueError only for an integer too long to convert.
        raise ValidationError(ref, [("", f"{source} holds an integer with too many digits")]
                              ) from None
    problem = json_problem(value)
    if problem is not None:
        raise ValidationError(ref, [problem])
    return value


def json_problem(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first ``(path, problem)`` that keeps ``value`` from being canonical JSON, if any.

    Checked without recursion, so that a hostile depth cannot exhaust the stack.
    """
    for where, depth, item in _nodes(value, path):
        # depth counts the objects and lists around item: the 65th one nested is refused
        if depth >= MAX_DEPTH and isinstance(item, Mapping | list | tuple):
            return where, f"nested more than {MAX_DEPTH} levels deep"
        if isinstance(item, float) and not math.isfinite(item):
            return where, "NaN and infinite numbers are not allowed in JSON"
        if isinstance(item, int) and not isinstance(item, bool) \
                and item.bit_length() > _MAX_INT_BITS:
            return where, "integer with too many digits"
        if isinstance(item, str) and not _is_utf8(item):
            return where, "text holds a lone surrogate, which is not valid Unicode"
        if isinstance(item, Mapping):
            for key in item:
                if isinstance(key, str) and not _is_utf8(key):
                    return where, "a key holds a lone surrogate, which is not valid Unicode"
    return None


def _nodes(value: Any, path: str) -> Iterator[tuple[str, int, Any]]:
    stack: list[tuple[str, int, Any]] = [(path, 0, value)]
    while stack:
        where, depth, item = stack.pop()
        yield where, depth, item
        if depth >= MAX_DEPTH:
            continue
        if isinstance(item, Mapping):
            stack.extend((f"{where}.{k}" if where else str(k), depth + 1, v)
                         for k, v in item.items())
        elif isinstance(item, list | tuple):
            stack.extend((f"{where}.{i}" if where else str(i), depth + 1, v)
                         for i, v in enumerate(item))


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _NonFinite(ValueError):
    pass


def _refuse_constant(_name: str) -> Any:
    raise _NonFinite


def decode(
    cls: type[B], document: bytes, resolver: Resolver, ref: str = "", *, validate: bool = True
) -> B:
    """Validate a stored document as ``cls``, resolving ``$ref`` entries through ``resolver``.

    With ``validate=False`` a document that does not fit is built field by field instead
    (:func:`blocks._lenient.construct`), with a warning naming the fields.

    Raises:
        ValidationError: the document no longer fits the type (schema changed), path named.
        ReferenceChainError: resolving references nests more than :data:`MAX_DECODE_DEPTH`
            documents.
    """
    depth = _decoding.get()
    if depth >= MAX_DECODE_DEPTH:
        raise ReferenceChainError(
            f"{ref or cls.block_type_slug}: block references nest more than "
            f"{MAX_DECODE_DEPTH - 1} levels deep (or loop); re-save the chain with fewer levels"
        )
    token = _decoding.set(depth + 1)
    try:
        return cls.model_validate_json(
            document, context={CONTEXT_RESOLVER: resolver, STORED_CONTEXT: True}
        )
    except pydantic.ValidationError as exc:
        if not validate:
            return _lenient.construct(cls, document, resolver, ref or cls.block_type_slug)
        raise ValidationError(ref or cls.block_type_slug, pydantic_errors(exc)) from None
    finally:
        _decoding.reset(token)


def to_display(block: Block, *, show_secrets: bool = False) -> dict[str, Any]:
    """The block as a JSON-able dict for people: secrets as ``********`` unless asked for,
    nested saved blocks as ``{"$ref": "slug/name"}``."""
    return _Walker(reveal=show_secrets, refs={}, ref_form="name").model(block, "")


def reveal(block: Block) -> tuple[dict[str, Any], dict[str, Any]]:
    """The block as JSON with nested saved blocks embedded: once with secrets in clear, once
    with each secret replaced by ``********`` (same shape but for the masked secrets)."""
    document = _Walker(reveal=True, refs={}, ref_form="inline").model(block, "")
    masked = _Walker(reveal=False, refs={}, ref_form="inline").model(block, "")
    return document, masked


def secret_values(block: Block) -> set[str]:
    """Every secret value in ``block`` (nested blocks included) as text, for scrubbing them
    out of messages: the leaves where the masked document shows ``********``."""
    document, masked = reveal(block)
    found: set[str] = set()
    _collect_secrets(document, masked, found)
    return found


def _collect_secrets(value: Any, shown: Any, found: set[str]) -> None:
    if shown == MASK and value != MASK:
        _leaves(value, found)
    elif isinstance(value, Mapping) and isinstance(shown, Mapping):
        for key, item in value.items():
            _collect_secrets(item, shown.get(key), found)
    elif isinstance(value, list) and isinstance(shown, list):
        for item, item_shown in zip(value, shown, strict=False):
            _collect_secrets(item, item_shown, found)


def _leaves(value: Any, found: set[str]) -> None:
    if isinstance(value, Mapping):
        for item in value.values():
            _leaves(item, found)
    elif isinstance(value, list):
        for item in value:
            _leaves(item, found)
    elif value is not None and not isinstance(value, bool):
        found.add(str(value))


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

    def model(self, model: BaseModel, path: str) -> dict[str, Any]:
        # Keys are the published names (the alias when a field has one), as in the JSON Schema.
        out = {}
        for name, info in type(model).model_fields.items():
            key = info.alias or name
            out[key] = self.value(getattr(model, name), f"{path}.{key}" if path else key)
        return dict(sorted(out.items())) if self.ref_form == "id" else out

    def value(self, value: Any, path: str) -> Any:
        if value is None or isinstance(value, str | bool | int | float):
            return value
        if isinstance(value, Block):
            return self.nested_block(value, path)
        if isinstance(value, BaseModel):
            return self.model(value, path)
        if isinstance(value, SecretStr):
            return value.get_secret_value() if self.reveal else MASK
        if isinstance(value, SecretBytes):
            raw = base64.b64encode(value.get_secret_value()).decode()
            return raw if self.reveal else MASK
        if isinstance(value, pydantic.Secret):
            return self.value(value.get_secret_value(), path) if self.reveal else MASK
        if isinstance(value, Mapping):
            return {str(k): self.value(v, f"{path}.{k}") for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(v, f"{path}.{i}") for i, v in enumerate(value)]
        if isinstance(value, bytes):
            return base64.b64encode(value).decode()
        return to_jsonable_python(value)

    def nested_block(self, block: Block, path: str) -> Any:
        block_id = block.block_id
        if block_id is None or self.ref_form == "inline":
            return self.model(block, path)
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
