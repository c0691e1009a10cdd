"""Work pools and work queues: the recipe API.

Example:
    >>> pool = WorkPool(name="k8s-prod", type="kubernetes")        # default template of the type
    >>> pool.save()                                                  # doctest: +SKIP
    >>> pool.create_queue("critical", priority=1)                    # doctest: +SKIP
    >>> job = WorkPool.load("k8s-prod").render_job(                  # doctest: +SKIP
    ...     {"env": {"DB_PASSWORD": "{{ blocks.secret.db-password }}"}}, queue="critical")
    >>> job.configuration["job_manifest"]["kind"]                    # doctest: +SKIP
    'Job'
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Self

from pydantic import Field, model_validator

from blocks.core import validate_name
from blocks.pools.job_variables import PoolType
from blocks.pools.queue_model import IMMUTABLE as IMMUTABLE
from blocks.pools.queue_model import WorkQueue as WorkQueue
from blocks.pools.queue_model import _publish, _queues, _store, _Stored
from blocks.pools.render import RenderedJob, render_job
from blocks.pools.resolve import block_exists, registry_resolver
from blocks.pools.store import DEFAULT_QUEUE, PoolRecord
from blocks.pools.templates import default_base_job_template
from blocks.pools.validation import validate_base_job_template
from blocks.registry import Registry


class WorkPool(_Stored):
    """A work pool: where flow runs go, and the job template a worker renders for each run.

    Name and type are immutable; every pool has a ``default`` queue that cannot be deleted.
    Stored like blocks: every save is a new version, and saves compare-and-set on the version.
    """

    _what: ClassVar[str] = "work pool"

    name: str = Field(description="Pool name (immutable).")
    type: PoolType = Field(description="process, docker, ecs or kubernetes (immutable).")
    description: str = Field(default="", description="What the pool is for.")
    base_job_template: dict[str, Any] = Field(
        default={},
        description=(
            "{job_configuration, variables}: the job with {{ placeholders }} and the JSON "
            "Schema of its variables. The type's default template when empty."
        ),
    )
    concurrency_limit: int | None = Field(
        default=None, ge=0, description="Most runs in flight in the pool; none if unset."
    )
    is_paused: bool = Field(default=False, description="A paused pool hands out no runs.")
    publish_to_prefect: bool = Field(
        default=False,
        description=(
            "Publish the pool and its queues to the Prefect server (BLOCKS_PREFECT_API_URL) "
            "after every save; needs the 'prefect' extra."
        ),
    )
    version: int = Field(default=0, ge=0, description="Stored version; 0 for a new pool.")
    created_at: datetime | None = Field(default=None, description="When it was created.")
    updated_at: datetime | None = Field(default=None, description="When this version was saved.")

    @model_validator(mode="after")
    def _default_template(self) -> Self:
        if not self.base_job_template:
            object.__setattr__(self, "base_job_template", default_base_job_template(self.type))
        return self

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def load(
        cls, name: str, *, version: int | None = None, registry: Registry | None = None
    ) -> WorkPool:
        """Load a pool (its current version, or ``version``).

        Raises:
            WorkPoolNotFound: no such pool or version.
        """
        from blocks.errors import WorkPoolNotFound

        registry = registry or Registry.default_local("work pools")
        record = _store(registry).get_pool(validate_name(name, "work pool name"), version)
        if record is None:
            detail = f" version {version}" if version is not None else ""
            raise WorkPoolNotFound(f"no work pool {name!r}{detail}; see 'blocks pools ls'")
        return cls._from_record(record, registry)

    @classmethod
    def list_pools(cls, *, registry: Registry | None = None) -> list[WorkPool]:
        """Every pool, by name."""
        registry = registry or Registry.default_local("work pools")
        return [cls._from_record(r, registry) for r in _store(registry).list_pools()]

    @classmethod
    def history(cls, name: str, *, registry: Registry | None = None) -> list[WorkPool]:
        """Every stored version of a pool, oldest first."""
        registry = registry or Registry.default_local("work pools")
        records = _store(registry).pool_history(validate_name(name, "work pool name"))
        return [cls._from_record(r, registry) for r in records]

    @classmethod
    def rename(cls, old: str, new: str, *, registry: Registry | None = None) -> WorkPool:
        """Rename a pool: same id, history kept, its queues follow.

        Raises:
            WorkPoolNotFound: no such pool.
            ConflictError: a pool called ``new`` exists.
            InvalidName: ``new`` breaks the naming rule.
        """
        registry = registry or Registry.default_local("work pools")
        record = _store(registry).rename_pool(
            validate_name(old, "work pool name"), validate_name(new, "work pool name")
        )
        return cls._from_record(record, registry)

    @classmethod
    def delete(cls, name: str, *, registry: Registry | None = None) -> None:
        """Delete a pool with its versions and queues.

        Raises:
            WorkPoolNotFound: no such pool.
        """
        chosen = registry or Registry.default_local("work pools")
        _store(chosen).delete_pool(validate_name(name, "work pool name"))

    @classmethod
    def _from_record(cls, record: PoolRecord, registry: Registry) -> WorkPool:
        pool = cls(
            name=record.name, type=record.type, version=record.version,
            created_at=record.created_at, updated_at=record.updated_at, **record.document,
        )
        pool._registry = registry
        return pool

    # -- saving ----------------------------------------------------------------------------

    def validate_template(self, *, registry: Registry | None = None) -> None:
        """Check the base job template, including that its block placeholders name blocks.

        Raises:
            ValidationError: every problem with its JSON path.
        """
        chosen = self._registry_or(registry)
        validate_base_job_template(
            self.base_job_template, ref=self._ref(),
            block_exists=lambda ref: block_exists(chosen, ref),
        )

    def save(
        self,
        *,
        overwrite: bool = False,
        expected_version: int | None = None,
        note: str | None = None,
        registry: Registry | None = None,
    ) -> Self:
        """Save a new version of the pool (creating it, with its ``default`` queue, if new).

        Args:
            overwrite: for a new object, replace the settings of an existing pool of the same
                name and type.
            expected_version: compare-and-set; defaults to the version this object was loaded
                at, so two writers never lose an update: the second gets ``ConflictError``.
            note: a short note stored with the version.
            registry: registry to use; the one the pool came from, or the process default.

        Returns:
            ``self``, with ``version`` and timestamps updated.

        Raises:
            ValidationError: the template breaks a rule, or the type differs from the stored one.
            ConflictError: the pool exists (new object without ``overwrite``), or someone else
                wrote first.
        """
        chosen = self._registry_or(registry)
        self.validate_template(registry=chosen)
        if expected_version is None and self.version > 0:
            expected_version = self.version
        record = _store(chosen).save_pool(
            self.name, self.type, self._document(), overwrite=overwrite,
            expected_version=expected_version, note=note,
        )
        for key in ("version", "created_at", "updated_at"):
            object.__setattr__(self, key, getattr(record, key))
        if self.publish_to_prefect:
            _publish(chosen, self.name)
        return self

    def pause(self, *, registry: Registry | None = None) -> Self:
        """Pause the pool and save."""
        self.is_paused = True
        return self.save(registry=registry)

    def resume(self, *, registry: Registry | None = None) -> Self:
        """Resume the pool and save."""
        self.is_paused = False
        return self.save(registry=registry)

    def _document(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "base_job_template": self.base_job_template,
            "concurrency_limit": self.concurrency_limit,
            "is_paused": self.is_paused,
            **({"publish_to_prefect": True} if self.publish_to_prefect else {}),
        }

    # -- queues ----------------------------------------------------------------------------

    def queues(self, *, registry: Registry | None = None) -> list[WorkQueue]:
        """The pool's queues by priority (1 first)."""
        chosen = self._registry_or(registry)
        return [WorkQueue._from_record(r, chosen) for r in _queues(chosen).list_queues(self.name)]

    def queue(self, name: str = DEFAULT_QUEUE, *, registry: Registry | None = None) -> WorkQueue:
        """One queue of the pool.

        Raises:
            WorkQueueNotFound: the pool has no such queue.
        """
        chosen = self._registry_or(registry)
        return WorkQueue._from_record(_queues(chosen).get_queue(self.name, name), chosen)

    def create_queue(
        self,
        name: str,
        *,
        description: str = "",
        priority: int | None = None,
        concurrency_limit: int | None = None,
        is_paused: bool = False,
        registry: Registry | None = None,
    ) -> WorkQueue:
        """Add a queue; ``priority`` defaults to one below the pool's lowest.

        A priority another queue holds moves that queue (and the next ones, as far as needed)
        one step down, as Prefect's server does.

        Raises:
            ConflictError: the pool already has a queue of that name.
            ValidationError: a field breaks its rule (priority >= 1, limit >= 0).
        """
        WorkQueue(  # validates the fields before anything is written
            pool=self.name, name=name, description=description,
            priority=1 if priority is None else priority,
            concurrency_limit=concurrency_limit, is_paused=is_paused,
        )
        chosen = self._registry_or(registry)
        record = _queues(chosen).create_queue(
            self.name, name, description=description, priority=priority,
            concurrency_limit=concurrency_limit, is_paused=is_paused,
        )
        if self.publish_to_prefect:
            _publish(chosen, self.name)
        return WorkQueue._from_record(record, chosen)

    def delete_queue(self, name: str, *, registry: Registry | None = None) -> None:
        """Delete a queue.

        Raises:
            ConflictError: ``name`` is ``default``, which cannot be deleted.
            WorkQueueNotFound: the pool has no such queue.
        """
        chosen = self._registry_or(registry)
        _queues(chosen).delete_queue(self.name, name)
        if self.publish_to_prefect:
            _publish(chosen, self.name)

    # -- rendering -------------------------------------------------------------------------

    def render_job(
        self,
        values: dict[str, Any] | None = None,
        *,
        queue: str = DEFAULT_QUEUE,
        registry: Registry | None = None,
    ) -> RenderedJob:
        """The job a worker of this pool runs for a flow run with these job variables.

        Defaults, then ``values`` (``env`` merged key by key), checked against the template's
        ``variables`` schema; block placeholders are resolved through the registry, so the
        result holds secrets in clear: print it with ``job.masked()``.

        Args:
            values: job variables, e.g. ``{"image": "repo/app:1.2", "env": {"MODE": "prod"}}``.
            queue: the queue the run was taken from (must exist for a saved pool).
            registry: registry to resolve blocks from.

        Raises:
            ValidationError: a variable is unknown or breaks its schema (path
                ``job_variables.<name>``), or a block placeholder names no block.
            WorkQueueNotFound: the pool has no such queue.
        """
        chosen = self._registry_or(registry)
        if self.version > 0:
            # The stored version this object came from must still authenticate: a pool
            # document edited in the database never reaches the resolver.
            _store(chosen).get_pool(self.name, self.version)
            _queues(chosen).get_queue(self.name, queue)
        validate_base_job_template(self.base_job_template, ref=self._ref())
        return render_job(
            self.base_job_template, values, pool_type=self.type,
            resolver=registry_resolver(chosen), ref=self._ref(), pool=self.name, queue=queue,
        )
