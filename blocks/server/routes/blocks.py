"""``/v1/block-types`` and ``/v1/blocks``: everything the Python API and the CLI do to blocks.

Each route asks the principal for its capability on the block before it acts. A load sends
the decrypted documents (the block's and those of the blocks it references) with an ``ETag``
over their ids, names and versions; ``If-None-Match`` with the current one is a ``304`` that
decrypts nothing (:mod:`blocks._registry_documents`). A save takes the document
``blocks.codec.encode`` makes, references by block id.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from blocks import _registry_documents, catalog, codec, wire
from blocks.core import Block
from blocks.errors import BlockNotFound, ValidationError
from blocks.registry import Registry
from blocks.server import audit_requests
from blocks.server.block_refs import reference_resolver
from blocks.server.deps import current_registry
from blocks.server.security import Principal, authenticated, current_principal

router = APIRouter(prefix="/v1", tags=["blocks"])
RegistryDep = Annotated[Registry, Depends(current_registry)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
StageName = Literal["current", "pending", "previous"]


class SaveRequest(BaseModel):
    """A new version: the block's document as ``blocks.codec.encode`` makes it (JSON text)."""

    document: str = Field(description="The block's canonical JSON document, secrets in clear.")
    overwrite: bool = False
    expected_version: int | None = Field(default=None, ge=0)
    note: str | None = Field(default=None, max_length=1000)
    stage: Literal["pending"] | None = None


class RenameRequest(BaseModel):
    new_name: str
    expected_version: int | None = Field(default=None, ge=0)


class RollbackRequest(BaseModel):
    version: int = Field(ge=1)
    expected_version: int | None = Field(default=None, ge=0)


Version = Annotated[int, Field(ge=1)]


class StagesRequest(BaseModel):
    """``move_stages``: ``null`` drops a stage, ``"keep"`` leaves it."""

    expected_current: int = Field(ge=0)
    current: Version | None = None
    pending: Version | Literal["keep"] | None = "keep"
    previous: Version | Literal["keep"] | None = "keep"


# -- types ------------------------------------------------------------------------------------


@router.get("/block-types", summary="Every block type and its schema")
def block_types(principal: PrincipalDep) -> list[dict[str, Any]]:
    return [cls.block_schema() for cls in catalog.all_types().values()]


@router.get("/block-types/{slug}", summary="One block type's schema")
def block_type(slug: str, principal: PrincipalDep) -> dict[str, Any]:
    return catalog.get(slug).block_schema()


# -- blocks -----------------------------------------------------------------------------------


@router.get("/blocks", summary="Blocks the caller may see, by type and name")
def list_blocks(
    registry: RegistryDep, principal: PrincipalDep, slug: str | None = None
) -> list[dict[str, Any]]:
    if slug is not None:
        catalog.get(slug)  # UnknownBlockType (422) for a slug no type has
    return [wire.summary_json(s) for s in registry.list(slug)
            if principal.allows("read-metadata", "blocks", s.ref)]


@router.get("/block-ids/{block_id}", summary="The slug/name of a block id")
def block_by_id(block_id: str, registry: RegistryDep, principal: PrincipalDep) -> dict[str, str]:
    ref = registry.ref_by_id(_block_id(block_id))
    principal.require("read-metadata", "blocks", ref)
    return {"ref": ref}


LOAD_PATH = "/v1/blocks/{slug}/{name}"
"""The load's route (also answered by :mod:`blocks.server.fastlane` for plain queries)."""


@router.get(LOAD_PATH.removeprefix("/v1"),
            summary="Load a block: its documents, with an ETag")
async def load(
    request: Request,
    slug: str,
    name: str,
    version: Annotated[int | None, Query(ge=1)] = None,
    stage: StageName | None = None,
    validate: bool = True,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Any:
    # The hot path: authentication and the load in ONE hop to the thread pool (both read the
    # database, so neither runs on the event loop), and the body serialised once, here.
    return await run_in_threadpool(load_response, request, f"{slug}/{name}", version, stage,
                                   validate, if_none_match)


def load_response(request: Request, ref: str, version: int | None, stage: StageName | None,
                  validate: bool, if_none_match: str | None) -> Response:
    """The load's answer (200 with the documents, or 304); for a worker thread."""
    principal = authenticated(request)
    audit_requests.batch_reads()  # recorded with the answer, in a batch (group commit)
    registry: Registry = request.app.state.registry
    principal.require("read", "blocks", ref)
    if version is not None and stage is not None and stage != "current":
        raise ValidationError(ref, [("", "give version or stage, not both")])
    if if_none_match:
        known = _registry_documents.dependencies(registry, ref, version=version, stage=stage)
        if known is not None:
            etag, refs = known
            for other in refs:
                principal.require("read", "blocks", other)
            if etag in _etags(if_none_match):
                return Response(status_code=304, headers={"ETag": etag})
    loaded = _registry_documents.documents(
        registry, ref, version=version, stage=stage, validate=validate)
    for doc in loaded.included:
        principal.require("read", "blocks", f"{doc.type_slug}/{doc.name}")
    audit_requests.loaded(loaded.root.version, loaded.root.block_id)
    body = {"block": _doc_json(loaded.root), "included": [_doc_json(d) for d in loaded.included]}
    return Response(json.dumps(body, ensure_ascii=False, allow_nan=False,
                               separators=(",", ":")).encode(),
                    media_type="application/json",
                    headers={"ETag": loaded.etag, "Cache-Control": "no-store"})


@router.post("/blocks/{slug}/{name}", summary="Save a new version", status_code=201)
def save(
    slug: str, name: str, body: SaveRequest, registry: RegistryDep, principal: PrincipalDep
) -> dict[str, Any]:
    ref = f"{slug}/{name}"
    principal.require("write", "blocks", ref)
    block = _decode_for_save(registry, principal, ref, slug, body.document)
    info = registry.save(block, name, overwrite=body.overwrite,
                         expected_version=body.expected_version, note=body.note,
                         stage=body.stage)
    return wire.version_json(info)


@router.get("/blocks/{slug}/{name}/summary", summary="A block's id, version and timestamps")
def summary(slug: str, name: str, registry: RegistryDep, principal: PrincipalDep) -> Any:
    ref = f"{slug}/{name}"
    principal.require("read-metadata", "blocks", ref)
    return wire.summary_json(registry.summary(ref))


@router.get("/blocks/{slug}/{name}/history", summary="Every version, oldest first")
def history(slug: str, name: str, registry: RegistryDep, principal: PrincipalDep) -> Any:
    ref = f"{slug}/{name}"
    principal.require("read-metadata", "blocks", ref)
    return [wire.version_json(v) for v in registry.history(ref)]


@router.get("/blocks/{slug}/{name}/stages", summary="Stage -> version from the sealed head")
def stages(slug: str, name: str, registry: RegistryDep, principal: PrincipalDep) -> Any:
    ref = f"{slug}/{name}"
    principal.require("read-metadata", "blocks", ref)
    return registry.stages(ref)


@router.post("/blocks/{slug}/{name}/stages", summary="Move stages (compare-and-set)",
             status_code=204)
def move_stages(slug: str, name: str, body: StagesRequest, registry: RegistryDep,
                principal: PrincipalDep) -> Response:
    ref = f"{slug}/{name}"
    principal.require("rotate", "blocks", ref)
    registry.move_stages(ref, expected_current=body.expected_current, current=body.current,
                         pending=body.pending, previous=body.previous)
    return Response(status_code=204)


@router.post("/blocks/{slug}/{name}/rollback", summary="A new version with an old content",
             status_code=201)
def rollback(slug: str, name: str, body: RollbackRequest, registry: RegistryDep,
             principal: PrincipalDep) -> Any:
    ref = f"{slug}/{name}"
    principal.require("write", "blocks", ref)
    info = registry.rollback(ref, body.version, expected_version=body.expected_version)
    return wire.version_json(info)


@router.post("/blocks/{slug}/{name}/rename", summary="Rename: same id, history kept")
def rename(slug: str, name: str, body: RenameRequest, registry: RegistryDep,
           principal: PrincipalDep) -> Any:
    ref = f"{slug}/{name}"
    principal.require("write", "blocks", ref)
    principal.require("write", "blocks", f"{slug}/{body.new_name}")
    renamed = registry.rename(ref, body.new_name, expected_version=body.expected_version)
    return wire.summary_json(renamed)


@router.delete("/blocks/{slug}/{name}",
               summary="Delete a block: into its recovery window, or shredded with 0",
               status_code=204)
def delete(
    slug: str,
    name: str,
    registry: RegistryDep,
    principal: PrincipalDep,
    recovery_window: Annotated[str | None, Query(
        max_length=20, description="0 (shred now) up to 30d, e.g. 7d, 36h, 90m or 3600s; "
                                   "default: the server's BLOCKS_RECOVERY_WINDOW")] = None,
) -> Response:
    ref = f"{slug}/{name}"
    principal.require("delete", "blocks", ref)
    registry.delete(ref, recovery_window=recovery_window)
    return Response(status_code=204)


@router.delete("/blocks/{slug}/{name}/versions/{version}",
               summary="Crypto-shred one earlier version", status_code=204)
def purge(slug: str, name: str, version: Annotated[int, Path(ge=1)], registry: RegistryDep,
          principal: PrincipalDep) -> Response:
    ref = f"{slug}/{name}"
    principal.require("delete", "blocks", ref)
    registry.purge(ref, version)
    return Response(status_code=204)


# -- helpers ----------------------------------------------------------------------------------


def _doc_json(doc: _registry_documents.Document) -> dict[str, Any]:
    return {"id": doc.block_id, "type_slug": doc.type_slug, "name": doc.name,
            "version": doc.version, "document": doc.document.decode()}


def _block_id(value: object) -> str:
    """A block id as the store keeps them (a UUID), else BlockNotFound naming it."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        shown = repr(value) if len(str(value)) <= 80 else "of that form"
        raise BlockNotFound(f"no block with id {shown}: a block id is a UUID") from None


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def _decode_for_save(registry: Registry, principal: Principal, ref: str, slug: str,
                     document: str) -> Block:
    """The block a client's document describes; its references are loaded by id."""
    cls = catalog.get(slug)
    resolve = reference_resolver(registry, principal,
                                 lambda block_id: registry.ref_by_id(_block_id(block_id)))
    codec.parse_json(document, ref)  # bounds and well-formedness, the message never quotes it
    return codec.decode(cls, document.encode(), resolve, ref)
