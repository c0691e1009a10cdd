"""The ``prefect`` mirror target: a block written to Prefect as a block document.

The document has Prefect's own type where one exists: ``secret`` for :class:`~blocks.Secret`
(so ``{{ prefect.blocks.secret.<name> }}`` and ``Secret.load`` in Prefect code see it), and the
prefect-aws / -snowflake / -github / -sqlalchemy types when the server has them registered and
their schema holds every field of the block. Otherwise a type ``blocks-<slug>`` is registered
from the Blocks schema, with the same secret fields. Nested blocks are written inline.

A mirrored secret is also stored in Prefect's database, under Prefect's encryption.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from blocks import codec
from blocks.integrations.prefect.documents import (
    PrefectType,
    block_type,
    delete_document,
    read_document,
    register_type,
    write_document,
)
from blocks.integrations.prefect.hooks import client_for
from blocks.types.system import Secret

if TYPE_CHECKING:
    from blocks.core import Block
    from blocks.registry import Registry

OWN_TYPE_PREFIX = "blocks-"


class PrefectMirror:
    """Mirror target writing block documents to the registry's Prefect server."""

    name = "prefect"

    def __init__(self, registry: Registry) -> None:
        self._client = client_for(registry)
        self._kinds: dict[str, PrefectType] = {}

    def push(self, block: Block, target_name: str) -> str:
        """Create or replace the document; ``prefect-slug/name``."""
        kind, data = self._document(block)
        write_document(self._client, kind, target_name, data)
        return f"{kind.slug}/{target_name}"

    def read(self, block: Block, target_name: str) -> dict[str, Any] | None:
        """The document's data (secrets included), or ``None``."""
        kind, _ = self._document(block)
        found = read_document(self._client, kind.slug, target_name)
        return None if found is None else dict(found.get("data") or {})

    def document(self, block: Block) -> dict[str, Any]:
        """The data a push writes (and :meth:`read` then gives)."""
        return self._document(block)[1]

    def remove(self, block: Block, target_name: str) -> bool:
        """Delete the document."""
        kind, _ = self._document(block)
        return delete_document(self._client, kind.slug, target_name)

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    # -- mapping ---------------------------------------------------------------------------

    def _document(self, block: Block) -> tuple[PrefectType, dict[str, Any]]:
        data, _ = codec.reveal(block)
        slug = type(block).block_type_slug
        if isinstance(block, Secret):
            return self._kind("secret") or self._own_kind(block), {"value": data["value"]}
        native = self._kind(slug)
        if native is not None:
            fitted = _fit(data, block, native.fields, native.fields)
            if fitted is not None:
                return native, fitted
        return self._own_kind(block), data

    def _kind(self, slug: str) -> PrefectType | None:
        if slug not in self._kinds:
            found = block_type(self._client, slug)
            if found is None:
                return None
            self._kinds[slug] = found
        return self._kinds[slug]

    def _own_kind(self, block: Block) -> PrefectType:
        cls = type(block)
        slug = OWN_TYPE_PREFIX + cls.block_type_slug
        existing = self._kind(slug)
        schema = cls.block_schema()
        if existing is not None and existing.fields.get("blocks_checksum") == schema["checksum"]:
            return existing
        fields = {
            **schema["json_schema"], "block_type_slug": slug,
            "secret_fields": list(schema["secret_fields"]), "block_schema_references": {},
            "blocks_checksum": schema["checksum"],
        }
        kind = register_type(
            self._client, slug, f"Blocks {schema['title']}", schema["description"], fields,
            checksum=schema["checksum"].removeprefix("sha256:"),
        )
        self._kinds[slug] = kind
        return kind


def _fit(
    data: Mapping[str, Any], model: Any, schema: Mapping[str, Any], root: Mapping[str, Any]
) -> dict[str, Any] | None:
    """``data`` (the revealed ``model``) shaped for a Prefect type's schema, or ``None`` when
    the type cannot hold it.

    A field the Prefect type does not have is dropped when it is null or empty (a Blocks-only
    option left unset, e.g. ``role_arn`` on ``aws-credentials``); a set one means the type
    cannot hold the block. Nested objects follow their definitions the same way; a nested
    block is matched to the definition of its own type and named with ``block_type_slug``, as
    Prefect names the members of a union of blocks (``AwsCredentials | MinIOCredentials``).
    """
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return None
    names = {(info.alias or name): name for name, info in type(model).model_fields.items()}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in properties:
            if value is None or value == {} or value == []:
                continue
            return None
        nested = getattr(model, names.get(key, key), None)
        if isinstance(value, Mapping) and isinstance(nested, BaseModel):
            fitted = _fit_nested(value, nested, properties[key], root)
            if fitted is None:
                return None
            out[key] = fitted
        else:
            out[key] = value
    return out


def _fit_nested(
    value: Mapping[str, Any], nested: BaseModel, prop: Any, root: Mapping[str, Any]
) -> dict[str, Any] | None:
    slug = getattr(type(nested), "block_type_slug", None)
    for definition in _definitions(prop, root):
        if slug is not None and definition.get("block_type_slug") not in (None, slug):
            continue
        fitted = _fit(value, nested, definition, root)
        if fitted is not None:
            if slug is not None and "block_type_slug" in definition:
                fitted["block_type_slug"] = slug
            return fitted
    return None


def _definitions(prop: Any, root: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The object definitions a property refers to (``$ref``, or each of ``anyOf``)."""
    if not isinstance(prop, Mapping):
        return []
    found = []
    for candidate in [prop, *prop.get("anyOf", []), *prop.get("allOf", [])]:
        ref = candidate.get("$ref") if isinstance(candidate, Mapping) else None
        if isinstance(ref, str) and ref.startswith("#/"):
            node: Any = root
            for part in ref[2:].split("/"):
                node = node.get(part) if isinstance(node, Mapping) else None
            if isinstance(node, Mapping) and "properties" in node:
                found.append(node)
    return found
