"""The :class:`WorkPoolStore` protocol: what ``registry.pool_store()`` returns, local or
through a ``blocks server``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from blocks.pool_types.records import DEFAULT_QUEUE, PoolRecord, QueueRecord, RenderedView


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
