"""Prefect 3's call shapes on :class:`~blocks.core.Block`, kept out of the core model.

* ``await X.load(...)``, ``await block.save(...)``, ``await X.delete(...)``: the sync call has
  already run; awaiting its result gives it back (:func:`ready`, :class:`Deleted`).
* ``X.load_from_ref(ref)`` / ``await X.aload_from_ref(ref)``: a block by id, by name, or by
  Prefect's reference dicts.
* ``==`` compares the type and the field values, never which saved version an instance came
  from (``X(size=2) == X.load("x")``), as Prefect's blocks do.
* ``SecretBytes`` given as JSON text: UTF-8, as Prefect reads it (:func:`text_to_bytes`).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any

import pydantic
from pydantic import BaseModel, SecretBytes

from blocks.errors import InvalidName

if TYPE_CHECKING:
    from blocks._block_base import BlockProtocol
    from blocks._block_base import BlockRegistry as Registry

STORED_CONTEXT = "blocks.stored"
"""Validation context flag of a document read back from the store (bytes are base64 there)."""
BASE64_KEY = "base64"


async def ready(value: Any) -> Any:
    """An awaitable giving ``value``."""
    return value


class Deleted:
    """What :meth:`Block.delete` returns: ``ref`` of the deleted block. Awaiting it gives
    ``None``, as Prefect's ``await Block.delete(name)`` does (the delete has already run; use
    ``adelete`` to keep the event loop free)."""

    __slots__ = ("ref",)

    def __init__(self, ref: str) -> None:
        self.ref = ref

    def __repr__(self) -> str:
        return f"Deleted({self.ref!r})"

    def __await__(self) -> Generator[Any, None, None]:
        return ready(None).__await__()


def same_values(left: BaseModel, right: object) -> bool:
    """``left == right`` for blocks: same type and equal field values (nested blocks compared
    the same way); the saved-version metadata and private state are ignored."""
    if type(left) is not type(right):
        return NotImplemented  # type: ignore[no-any-return]
    assert isinstance(right, BaseModel)
    return left.__dict__ == right.__dict__ and left.__pydantic_extra__ == right.__pydantic_extra__


def ref_of(cls: type[BlockProtocol], ref: object, registry: Registry) -> str:
    """The ``slug/name`` that Prefect's ``load_from_ref`` argument names.

    ``ref`` is a block id (``str`` or ``UUID``), a name or ``slug/name``, or one of Prefect's
    dicts: ``{"block_document_id": id}`` or ``{"block_document_slug": "slug/name" | name}``.

    Raises:
        BlockNotFound: no block has that id (also a ``ValueError``, as in Prefect).
        InvalidName: ``ref`` is none of the forms above (also a ``ValueError``).
    """
    if isinstance(ref, Mapping):
        if ref.get("block_document_id"):
            return _ref_of_id(ref["block_document_id"], registry)
        if ref.get("block_document_slug"):
            return cls._ref(str(ref["block_document_slug"]))
        raise InvalidName(
            f"invalid block reference: a dict needs 'block_document_id' or "
            f"'block_document_slug' (got keys {sorted(map(str, ref))})"
        )
    if isinstance(ref, uuid.UUID):
        return _ref_of_id(ref, registry)
    if isinstance(ref, str):
        try:
            uuid.UUID(ref)
        except ValueError:
            return cls._ref(ref)
        return _ref_of_id(ref, registry)
    raise InvalidName(
        f"invalid block reference of type {type(ref).__name__}: give a block id, a name, "
        "or {'block_document_id': ...} / {'block_document_slug': ...}"
    )


def _ref_of_id(block_id: object, registry: Registry) -> str:
    return registry.ref_by_id(str(block_id))


def bytes_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """Names of the fields typed ``SecretBytes`` or ``bytes`` (optionally ``| None``)."""
    out = []
    for name, field in cls.model_fields.items():
        args = getattr(field.annotation, "__args__", None) or (field.annotation,)
        if any(a in (SecretBytes, bytes) for a in args):
            out.append(name)
            if field.alias:
                out.append(field.alias)
    return tuple(out)


def text_to_bytes(
    cls: type[BaseModel], data: Any, info: pydantic.ValidationInfo
) -> Any:
    """Bytes fields of user input given as text: UTF-8 text, or ``{"base64": "..."}``.

    Prefect reads a ``SecretBytes`` given as a JSON string as its UTF-8 text; so does Blocks,
    in Python (``model_validate``, ``registry.parse``, the CLI, Terraform) and in JSON. A JSON
    string that also happens to be valid base64 is still text: sniffing would turn a password
    such as ``Abcd1234`` into other bytes. Binary data is given unambiguously as
    ``{"base64": "<standard base64>"}``. Documents read back from the store keep their own
    base64 encoding (context :data:`STORED_CONTEXT`).
    """
    names = bytes_fields(cls)
    if not names or not isinstance(data, Mapping) or (info.context or {}).get(STORED_CONTEXT):
        return data
    out = dict(data)
    for name in names:
        value = out.get(name)
        if isinstance(value, str):
            out[name] = value.encode()
        elif isinstance(value, Mapping) and set(value) == {BASE64_KEY}:
            try:
                out[name] = base64.b64decode(str(value[BASE64_KEY]), validate=True)
            except (binascii.Error, ValueError):
                raise ValueError(
                    f"{name}: {{'base64': ...}} must hold standard base64 (A-Z a-z 0-9 + / =)"
                ) from None
    return out
