"""What the pools recipe API needs from a registry's storage: ``registry.pool_store()``.

:class:`WorkPoolStore` is the seam between :mod:`blocks.pools.models` (``WorkPool``,
``WorkQueue``) and where pools live. Two implementations: :class:`LocalPoolStore` (the
registry's database, sealed rows; :mod:`blocks.pools.store` and :mod:`blocks.pools.queue_store`)
and the HTTP one a remote registry returns (``blocks.remote.pools``), so the recipe API works
the same against a database or a ``blocks server``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from blocks.pools.queue_store import QueueRecord, QueueStore
from blocks.pools.store import DEFAULT_QUEUE, PoolRecord, PoolStore

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from blocks.pools.render import RenderedJob
    from blocks.registry_protocol import RegistryProtocol
    from blocks.store.sealing import KeyringSealer


@dataclass(frozen=True)
class RenderedView:
    """A stored pool's rendered job as a caller may see it: masked, or with secrets shown.

    Attributes:
        pool, queue, pool_type: what was rendered.
        has_secrets: a secret was substituted somewhere.
        secrets_masked: ``configuration`` shows each such secret as ``********``.
        configuration: the job (secrets in clear only when asked for).
    """

    pool: str
    queue: str
    pool_type: str
    has_secrets: bool
    secrets_masked: bool
    configuration: dict[str, Any] = field(repr=False)

    @classmethod
    def of(cls, job: RenderedJob, show_secrets: bool) -> RenderedView:
        """The view of ``job``: masked unless ``show_secrets``."""
        return cls(pool=job.pool, queue=job.queue, pool_type=job.pool_type,
                   has_secrets=job.has_secrets,
                   secrets_masked=job.has_secrets and not show_secrets,
                   configuration=job.configuration if show_secrets else job.masked())


class WorkPoolStore(Protocol):
    """Pools and their queues, with compare-and-set writes.

    Every method raises the same errors in every implementation: ``WorkPoolNotFound``,
    ``WorkQueueNotFound``, ``ConflictError`` (a taken name or a stale ``expected_version``),
    ``ValidationError`` (with field paths), ``IntegrityError`` (a record that does not
    authenticate).
    """

    def get_pool(self, name: str, version: int | None = None) -> PoolRecord | None:
        """A pool's current version, or ``version``; ``None`` when there is no such thing."""

    def list_pools(self) -> list[PoolRecord]:
        """Every pool's current version, by name."""

    def pool_history(self, name: str) -> list[PoolRecord]:
        """Every version of a pool, oldest first."""

    def save_pool(
        self,
        name: str,
        pool_type: str,
        document: Mapping[str, Any],
        *,
        overwrite: bool = False,
        expected_version: int | None = None,
        note: str | None = None,
    ) -> PoolRecord:
        """Write a new version of a pool (creating it and its default queue if new)."""

    def rename_pool(self, name: str, new_name: str) -> PoolRecord:
        """Give a pool a new name: same id, versions and queues."""

    def delete_pool(self, name: str) -> None:
        """Delete a pool with its versions and queues."""

    def list_queues(self, pool_name: str) -> list[QueueRecord]:
        """A pool's queues by priority (1 first), then name."""

    def get_queue(self, pool_name: str, name: str) -> QueueRecord:
        """One queue."""

    def create_queue(
        self,
        pool_name: str,
        name: str,
        *,
        description: str = "",
        priority: int | None = None,
        concurrency_limit: int | None = None,
        is_paused: bool = False,
    ) -> QueueRecord:
        """Add a queue to a pool; ``priority`` defaults to one below the lowest."""

    def update_queue(
        self,
        pool_name: str,
        name: str,
        changes: Mapping[str, Any],
        *,
        expected_version: int | None = None,
    ) -> QueueRecord:
        """Change a queue's description, priority, concurrency limit or pause."""

    def delete_queue(self, pool_name: str, name: str) -> None:
        """Delete a queue (never the ``default`` one)."""

    def render(
        self,
        name: str,
        values: Mapping[str, Any] | None = None,
        *,
        queue: str = DEFAULT_QUEUE,
        version: int | None = None,
        show_secrets: bool = False,
    ) -> RenderedView:
        """The job a worker of stored pool ``name`` runs with these job variables, with
        secrets masked unless ``show_secrets`` (the blocks resolve where the pool is stored:
        through a server, a token that may see only masked jobs can render)."""


class LocalPoolStore(PoolStore, QueueStore):
    """Pools and queues in the registry's own database (what ``Registry.pool_store()`` gives).

    Args:
        engine, sealer: as :class:`~blocks.pools.engine_store.EngineStore`.
        registry: the registry they belong to (a render resolves blocks from it).
    """

    def __init__(
        self,
        engine: Callable[[], Engine],
        sealer: Callable[[], KeyringSealer],
        *,
        registry: RegistryProtocol,
    ) -> None:
        super().__init__(engine, sealer)
        self._registry = registry

    def render(
        self,
        name: str,
        values: Mapping[str, Any] | None = None,
        *,
        queue: str = DEFAULT_QUEUE,
        version: int | None = None,
        show_secrets: bool = False,
    ) -> RenderedView:
        """See :meth:`WorkPoolStore.render`."""
        from blocks.pools.models import WorkPool  # the recipe API builds on this module

        pool = WorkPool.load(name, version=version, registry=self._registry)
        job = pool.render_job(dict(values or {}), queue=queue, registry=self._registry)
        return RenderedView.of(job, show_secrets)
