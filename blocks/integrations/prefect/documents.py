"""Prefect block types, schemas and documents over the REST API (shared by mirror and import)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from blocks.errors import PrefectError

if TYPE_CHECKING:
    from blocks.integrations.prefect.client import PrefectClient


@dataclass(frozen=True)
class PrefectType:
    """A block type registered on a Prefect server, with its newest schema."""

    slug: str
    type_id: str
    schema_id: str
    fields: dict[str, Any]


def block_type(client: PrefectClient, slug: str) -> PrefectType | None:
    """The type ``slug`` and its newest schema; ``None`` when the server does not have it."""
    found = client.request("GET", f"block_types/slug/{slug}", f"block type {slug!r}",
                           missing_ok=True)
    if found is None:
        return None
    schemas = client.request(
        "POST", "block_schemas/filter", f"the schemas of block type {slug!r}",
        json={"block_schemas": {"block_type_id": {"any_": [found["id"]]}}, "limit": 1},
    )
    if not schemas:
        return None
    return PrefectType(slug, found["id"], schemas[0]["id"], schemas[0].get("fields") or {})


def register_type(
    client: PrefectClient, slug: str, name: str, description: str, fields: dict[str, Any],
    *, checksum: str,
) -> PrefectType:
    """Register a block type and a schema on the server (for types Prefect has no own for).

    Raises:
        PrefectError: the server refused.
    """
    existing = client.request("GET", f"block_types/slug/{slug}", f"block type {slug!r}",
                              missing_ok=True)
    if existing is None:
        existing = client.request("POST", "block_types/", f"block type {slug!r}", json={
            "name": name, "slug": slug, "description": description or None,
        })
    schema = client.request("POST", "block_schemas/", f"the schema of block type {slug!r}", json={
        "block_type_id": existing["id"], "fields": fields, "capabilities": [],
        "version": checksum[:20],
    })
    return PrefectType(slug, existing["id"], schema["id"], schema.get("fields") or fields)


def read_document(client: PrefectClient, slug: str, name: str) -> dict[str, Any] | None:
    """A block document with its secrets, or ``None``."""
    return client.request(  # type: ignore[no-any-return]
        "GET", f"block_types/slug/{slug}/block_documents/name/{name}",
        f"block document {slug}/{name}", missing_ok=True, params={"include_secrets": "true"},
    )


def write_document(
    client: PrefectClient, kind: PrefectType, name: str, data: dict[str, Any]
) -> tuple[str, bool]:
    """Create or replace the document ``kind.slug/name``; ``(id, changed)``.

    An identical document costs one read.

    Raises:
        PrefectError: the server refused (the message names the document, not its values).
    """
    what = f"block document {kind.slug}/{name}"
    existing = read_document(client, kind.slug, name)
    if existing is None:
        created = client.request("POST", "block_documents/", what, json={
            "name": name, "data": data, "block_schema_id": kind.schema_id,
            "block_type_id": kind.type_id,
        })
        return str(created["id"]), True
    if existing.get("data") == data and existing.get("block_schema_id") == kind.schema_id:
        return str(existing["id"]), False
    client.request("PATCH", f"block_documents/{existing['id']}", what, json={
        "data": data, "merge_existing_data": False, "block_schema_id": kind.schema_id,
    })
    return str(existing["id"]), True


def delete_document(client: PrefectClient, slug: str, name: str) -> bool:
    """Delete ``slug/name`` if it exists; whether it did."""
    existing = read_document(client, slug, name)
    if existing is None:
        return False
    client.request("DELETE", f"block_documents/{existing['id']}",
                   f"block document {slug}/{name}")
    return True


def all_documents(client: PrefectClient) -> list[dict[str, Any]]:
    """Every named block document on the server, with secrets and nested references.

    Raises:
        PrefectError: the server is unreachable or refused.
    """
    body = {"include_secrets": True, "block_documents": {"is_anonymous": {"eq_": False}}}
    return list(client.paged("block_documents/filter", "the block documents", body))


def document_by_id(client: PrefectClient, document_id: str) -> dict[str, Any]:
    """One block document (with secrets) by id.

    Raises:
        PrefectError: no such document.
    """
    found = client.request("GET", f"block_documents/{document_id}",
                           f"block document {document_id}", params={"include_secrets": "true"})
    if not isinstance(found, dict):
        raise PrefectError(f"Prefect server {client.api_url}: block document {document_id} "
                           "answered with no body")
    return found
