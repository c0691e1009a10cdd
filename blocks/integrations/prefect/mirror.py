"""The ``prefect`` mirror target: a block written to Prefect as a block document.

The document has Prefect's own type where one exists: ``secret`` for :class:`~blocks.Secret`
(so ``{{ prefect.blocks.secret.<name> }}`` and ``Secret.load`` in Prefect code see it), and the
prefect-aws / -snowflake / -github / -sqlalchemy types when the server has them registered and
their schema holds every field of the block. Otherwise a type ``blocks-<slug>`` is registered
from the Blocks schema, with the same secret fields. Nested blocks are written inline.

A mirrored secret is also stored in Prefect's database, under Prefect's encryption.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
        if native is not None and set(data) <= set(native.fields.get("properties", {})):
            return native, data
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
