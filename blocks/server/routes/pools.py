"""``/v1/pools/...``: work pools and their queues, and rendering a pool's job.

Capabilities are on the pool's name (its queues fall under it): ``read-metadata`` to list,
load, see the history and render with secrets masked; ``write`` to create, update (pause and
resume are updates) and manage queues; ``delete`` to delete the pool or one of its queues.
Rendering with secrets shown needs ``read`` on the pool and on every block the template or the
given job variables name; a masked render needs ``read-metadata`` on those blocks (it shows
their other fields). Writing a template needs ``read-metadata`` on the blocks it names.

Errors are the store's own (``WorkPoolNotFound``, ``WorkQueueNotFound``, ``ConflictError``,
``ValidationError`` with the template's JSON paths, ``IntegrityError``) in the wire envelope.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from blocks._registry_documents import documents
from blocks.core import validate_name
from blocks.errors import BlockNotFound, InvalidArgument, ValidationError, WorkPoolNotFound
from blocks.pools import WorkPool, WorkQueue, validate_base_job_template
from blocks.pools.placeholders import walk
from blocks.pools.queue_store import QueueRecord
from blocks.pools.resolve import block_exists
from blocks.pools.store import DEFAULT_QUEUE, QUEUE_FIELDS, PoolRecord
from blocks.pools.store_protocol import RenderedView
from blocks.registry import Registry
from blocks.server.deps import current_registry
from blocks.server.security import Principal, current_principal

router = APIRouter(prefix="/v1/pools", tags=["pools"])
RegistryDep = Annotated[Registry, Depends(current_registry)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]

POOL = "work pool name"
MAX_INT = 2_147_483_647
"""Largest version, priority or limit a request may carry (a database integer column)."""
VersionQuery = Annotated[int | None, Query(ge=1, le=MAX_INT, description="An earlier version.")]
DOCUMENT_FIELDS = ("description", "base_job_template", "concurrency_limit", "is_paused",
                   "publish_to_prefect")


class PoolOut(BaseModel):
    """One stored version of a work pool."""

    id: str = Field(description="Pool id (kept across renames).")
    name: str = Field(description="Pool name.")
    type: str = Field(description="process, docker, ecs or kubernetes.")
    version: int = Field(description="This version.")
    current_version: int = Field(description="The pool's current version.")
    document: dict[str, Any] = Field(
        description="description, base_job_template, concurrency_limit, is_paused "
                    "(publish_to_prefect when set)."
    )
    created_at: datetime = Field(description="When the pool was created.")
    updated_at: datetime = Field(description="When this version was saved.")
    note: str | None = Field(default=None, description="The note saved with this version.")


class QueueOut(BaseModel):
    """A work queue."""

    id: str
    pool: str = Field(description="Name of its pool.")
    name: str
    description: str
    priority: int = Field(description="1 is the highest.")
    concurrency_limit: int | None
    is_paused: bool
    version: int
    created_at: datetime
    updated_at: datetime


class PoolSave(BaseModel):
    """A new version of a pool (``PUT /v1/pools/{pool}``)."""

    model_config = ConfigDict(extra="forbid")
    type: str = Field(description="process, docker, ecs or kubernetes; must match the stored.")
    document: dict[str, Any] = Field(
        description="description, base_job_template, concurrency_limit, is_paused, "
                    "publish_to_prefect."
    )
    overwrite: bool = Field(default=False, description="Replace an existing pool's settings.")
    expected_version: int | None = Field(
        default=None, ge=0, le=MAX_INT,
        description="Compare-and-set: the pool's current version (0: new).",
    )
    note: str | None = Field(default=None, description="A short note kept with the version.")


class PoolRename(BaseModel):
    """``POST /v1/pools/{pool}/rename``."""

    model_config = ConfigDict(extra="forbid")
    new_name: str = Field(description="The pool's new name.")


class QueueCreate(BaseModel):
    """``POST /v1/pools/{pool}/queues``."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    priority: int | None = Field(default=None,
                                 description="1 is the highest; default: below the lowest.")
    concurrency_limit: int | None = None
    is_paused: bool = False


class QueueUpdate(BaseModel):
    """``PATCH /v1/pools/{pool}/queues/{queue}``."""

    model_config = ConfigDict(extra="forbid")
    changes: dict[str, Any] = Field(
        description="Any of description, priority, concurrency_limit, is_paused."
    )
    expected_version: int | None = Field(
        default=None, ge=0, le=MAX_INT, description="Compare-and-set: the queue's current version."
    )


class RenderRequest(BaseModel):
    """``POST /v1/pools/{pool}/render``."""

    model_config = ConfigDict(extra="forbid")
    values: dict[str, Any] = Field(default_factory=dict, description="Job variables.")
    queue: str = Field(default=DEFAULT_QUEUE, description="The queue the run comes from.")
    version: int | None = Field(default=None, ge=1, le=MAX_INT,
                                description="A stored version; default current.")
    show_secrets: bool = Field(
        default=False, description="Secrets in clear (needs read on the pool and the blocks)."
    )


class RenderOut(BaseModel):
    """A rendered job."""

    pool: str
    queue: str
    type: str = Field(description="The pool's type.")
    has_secrets: bool = Field(description="A secret was substituted somewhere.")
    secrets_masked: bool = Field(description="Secrets are shown as ********.")
    configuration: dict[str, Any] = Field(description="The job a worker runs.")


# -- pools ------------------------------------------------------------------------------------


@router.get("", response_model=list[PoolOut], summary="List work pools")
def list_pools(
    principal: PrincipalDep,
    registry: RegistryDep,
) -> list[PoolOut]:
    """Every pool the token may read-metadata, by name."""
    return [_pool_out(r) for r in registry.pool_store().list_pools()
            if principal.allows("read-metadata", "pools", r.name)]


@router.get("/{pool}", response_model=PoolOut, summary="Load a work pool")
def get_pool(
    pool: str,
    principal: PrincipalDep,
    registry: RegistryDep,
    version: VersionQuery = None,
) -> PoolOut:
    principal.require("read-metadata", "pools", pool)
    return _pool_out(_stored(registry, pool, version))


@router.get("/{pool}/history", response_model=list[PoolOut], summary="A pool's versions")
def pool_history(
    pool: str,
    principal: PrincipalDep,
    registry: RegistryDep,
) -> list[PoolOut]:
    principal.require("read-metadata", "pools", pool)
    records = registry.pool_store().pool_history(validate_name(pool, POOL))
    return [_pool_out(r) for r in records]


@router.put("/{pool}", response_model=PoolOut, summary="Save a new version of a work pool")
def save_pool(
    pool: str,
    body: PoolSave,
    principal: PrincipalDep,
    registry: RegistryDep,
) -> PoolOut:
    """Create the pool (with its default queue) or store a new version (compare-and-set)."""
    principal.require("write", "pools", pool)
    unknown = sorted(set(body.document) - set(DOCUMENT_FIELDS))
    if unknown:
        raise ValidationError(f"work-pool/{pool}", [
            (f"document.{key}", f"not a pool setting (settings: {', '.join(DOCUMENT_FIELDS)})")
            for key in unknown])
    checked = WorkPool(name=pool, type=body.type, **body.document)  # every field's rule
    _require_blocks(principal, "read-metadata", _block_refs(checked.base_job_template))
    validate_base_job_template(
        checked.base_job_template, ref=f"work-pool/{pool}",
        block_exists=lambda ref: block_exists(registry, ref),
    )
    record = registry.pool_store().save_pool(
        pool, checked.type, checked._document(), overwrite=body.overwrite,
        expected_version=body.expected_version, note=body.note,
    )
    return _pool_out(record)


@router.post("/{pool}/rename", response_model=PoolOut, summary="Rename a work pool")
def rename_pool(
    pool: str,
    body: PoolRename,
    principal: PrincipalDep,
    registry: RegistryDep,
) -> PoolOut:
    principal.require("write", "pools", pool)
    principal.require("write", "pools", body.new_name)
    record = registry.pool_store().rename_pool(
        validate_name(pool, POOL), validate_name(body.new_name, POOL)
    )
    return _pool_out(record)


@router.delete("/{pool}", status_code=204, response_class=Response,
               summary="Delete a work pool with its versions and queues")
def delete_pool(
    pool: str,
    principal: PrincipalDep,
    registry: RegistryDep,
) -> Response:
    principal.require("delete", "pools", pool)
    registry.pool_store().delete_pool(validate_name(pool, POOL))
    return Response(status_code=204)


@router.post("/{pool}/render", response_model=RenderOut, summary="Render a pool's job")
def render(
    pool: str,
    body: RenderRequest,
    principal: PrincipalDep,
    registry: RegistryDep,
) -> RenderOut:
    """The job a worker of the pool runs with these job variables, secrets masked unless
    ``show_secrets``."""
    capability = "read" if body.show_secrets else "read-metadata"
    principal.require(capability, "pools", pool)
    loaded = WorkPool.load(pool, version=body.version, registry=registry)
    refs = _block_refs(loaded.base_job_template) | _block_refs(body.values)
    _require_blocks(principal, capability, refs)
    _require_blocks(principal, capability, _nested_refs(registry, refs))
    job = loaded.render_job(body.values, queue=body.queue, registry=registry)
    view = RenderedView.of(job, body.show_secrets)
    return RenderOut(pool=view.pool, queue=view.queue, type=view.pool_type,
                     has_secrets=view.has_secrets, secrets_masked=view.secrets_masked,
                     configuration=view.configuration)


# -- queues -----------------------------------------------------------------------------------


@router.get("/{pool}/queues", response_model=list[QueueOut], summary="A pool's queues")
def list_queues(
    pool: str,
    principal: PrincipalDep,
    registry: RegistryDep,
) -> list[QueueOut]:
    """By priority (1 first), then name."""
    principal.require("read-metadata", "pools", pool)
    return [_queue_out(r) for r in registry.pool_store().list_queues(validate_name(pool, POOL))]


@router.get("/{pool}/queues/{queue}", response_model=QueueOut, summary="One queue")
def get_queue(
    pool: str,
    queue: str,
    principal: PrincipalDep,
    registry: RegistryDep,
) -> QueueOut:
    principal.require("read-metadata", "pools", pool)
    return _queue_out(registry.pool_store().get_queue(validate_name(pool, POOL), queue))


@router.post("/{pool}/queues", response_model=QueueOut, status_code=201,
             summary="Add a queue to a pool")
def create_queue(
    pool: str,
    body: QueueCreate,
    principal: PrincipalDep,
    registry: RegistryDep,
) -> QueueOut:
    """A priority another queue holds moves that queue (and the next) one step down."""
    principal.require("write", "pools", pool)
    WorkQueue(pool=validate_name(pool, POOL), name=body.name, description=body.description,
              priority=1 if body.priority is None else body.priority,
              concurrency_limit=body.concurrency_limit, is_paused=body.is_paused)
    _refuse_too_big(f"work-pool/{pool}/queue/{body.name}",
                    {"priority": body.priority, "concurrency_limit": body.concurrency_limit})
    record = registry.pool_store().create_queue(
        pool, body.name, description=body.description, priority=body.priority,
        concurrency_limit=body.concurrency_limit, is_paused=body.is_paused,
    )
    return _queue_out(record)


@router.patch("/{pool}/queues/{queue}", response_model=QueueOut, summary="Change a queue")
def update_queue(
    pool: str,
    queue: str,
    body: QueueUpdate,
    principal: PrincipalDep,
    registry: RegistryDep,
) -> QueueOut:
    principal.require("write", "pools", pool)
    unknown = sorted(set(body.changes) - set(QUEUE_FIELDS))
    if unknown:
        raise InvalidArgument(
            f"queue fields {unknown} cannot be changed; only {list(QUEUE_FIELDS)} can"
        )
    store = registry.pool_store()
    current = store.get_queue(validate_name(pool, POOL), queue)
    checked = WorkQueue(pool=pool, name=queue, **{  # the changed queue keeps every field's rule
        **{key: getattr(current, key) for key in QUEUE_FIELDS}, **body.changes})
    changes = {key: getattr(checked, key) for key in body.changes}  # as validated: 1, not "1"
    _refuse_too_big(f"work-pool/{pool}/queue/{queue}", changes)
    record = store.update_queue(pool, queue, changes, expected_version=body.expected_version)
    return _queue_out(record)


@router.delete("/{pool}/queues/{queue}", status_code=204, response_class=Response,
               summary="Delete a queue (not the default one)")
def delete_queue(
    pool: str,
    queue: str,
    principal: PrincipalDep,
    registry: RegistryDep,
) -> Response:
    principal.require("delete", "pools", pool)
    registry.pool_store().delete_queue(validate_name(pool, POOL), queue)
    return Response(status_code=204)


# -- helpers ----------------------------------------------------------------------------------


def _stored(registry: Registry, pool: str, version: int | None) -> PoolRecord:
    record = registry.pool_store().get_pool(validate_name(pool, POOL), version)
    if record is None:
        detail = f" version {version}" if version is not None else ""
        raise WorkPoolNotFound(f"no work pool {pool!r}{detail}; see 'blocks pools ls'")
    return record


def _block_refs(document: Any) -> set[str]:
    """``slug/name`` of every block placeholder in a template or in job variables."""
    return {p.block_ref for _, p in walk(document) if p.kind == "block"}


def _nested_refs(registry: Registry, refs: Iterable[str]) -> set[str]:
    """The blocks the named blocks reference, at any depth (a render resolves them too)."""
    found: set[str] = set()
    for ref in refs:
        try:
            loaded = documents(registry, ref)
        except BlockNotFound:
            continue  # the render names the placeholder's path
        found.update(f"{doc.type_slug}/{doc.name}" for doc in loaded.included)
    return found


def _refuse_too_big(ref: str, fields: dict[str, Any]) -> None:
    """A priority or limit beyond a database integer is a field error, not a failed write."""
    too_big = [key for key, value in fields.items()
               if key in ("priority", "concurrency_limit") and isinstance(value, int)
               and value > MAX_INT]
    if too_big:
        raise ValidationError(ref, [(key, f"at most {MAX_INT}") for key in too_big])


def _require_blocks(principal: Principal, capability: str, refs: Iterable[str]) -> None:
    for ref in sorted(refs):
        principal.require(capability, "blocks", ref)


def _pool_out(record: PoolRecord) -> PoolOut:
    return PoolOut(**vars(record))


def _queue_out(record: QueueRecord) -> QueueOut:
    return QueueOut(**vars(record))
