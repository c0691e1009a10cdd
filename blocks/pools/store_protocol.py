"""What the pools recipe API needs from a registry's storage: ``registry.pool_store()``.

:class:`WorkPoolStore` is the seam between :mod:`blocks.pools.models` (``WorkPool``,
``WorkQueue``) and where pools live. Two implementations: :class:`LocalPoolStore` (the
registry's database, sealed rows; :mod:`blocks.pools.store` and :mod:`blocks.pools.queue_store`)
and the HTTP one a remote registry returns (``blocks.remote.pools``), so the recipe API works
the same against a database or a ``blocks server``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from blocks.pools.queue_store import QueueRecord, QueueStore
from blocks.pools.store import PoolRecord, PoolStore


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


class LocalPoolStore(PoolStore, QueueStore):
    """Pools and queues in the registry's own database (what ``Registry.pool_store()`` gives)."""
