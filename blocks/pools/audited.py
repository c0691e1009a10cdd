"""The registry's work pools and queues with each change recorded in the audit trail, in the
transaction of the change (``registry.pool_store()``; see :mod:`blocks.audit_trail`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from blocks.pools.queue_store import QueueRecord
from blocks.pools.store import PoolRecord
from blocks.pools.store_protocol import LocalPoolStore

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from blocks.registry_protocol import RegistryProtocol
    from blocks.store.sealing import KeyringSealer

Recording = Callable[..., AbstractContextManager[Any]]


class AuditedPoolStore(LocalPoolStore):
    """:class:`LocalPoolStore` whose writes are recorded (``recording``: the registry's
    ``audit.recording``)."""

    def __init__(self, engine: Callable[[], Engine], sealer: Callable[[], KeyringSealer], *,
                 registry: RegistryProtocol, recording: Recording) -> None:
        super().__init__(engine, sealer, registry=registry)
        self._recording = recording

    def _pool(self, action: str, name: str, **detail: Any) -> AbstractContextManager[Any]:
        return self._recording(action, kind="pools", obj=name, pool=name, detail=detail)

    def _queue(self, action: str, pool: str, name: str) -> AbstractContextManager[Any]:
        return self._recording(action, kind="queues", obj=f"{pool}/{name}", pool=pool)

    def save_pool(self, name: str, pool_type: str, document: Mapping[str, Any], *,
                  overwrite: bool = False, expected_version: int | None = None,
                  note: str | None = None) -> PoolRecord:
        with self._pool("pool-write", name):
            return super().save_pool(name, pool_type, document, overwrite=overwrite,
                                     expected_version=expected_version, note=note)

    def rename_pool(self, name: str, new_name: str) -> PoolRecord:
        with self._pool("pool-rename", name, to=new_name):
            return super().rename_pool(name, new_name)

    def delete_pool(self, name: str) -> None:
        with self._pool("pool-delete", name):
            super().delete_pool(name)

    def create_queue(self, pool_name: str, name: str, *, description: str = "",
                     priority: int | None = None, concurrency_limit: int | None = None,
                     is_paused: bool = False) -> QueueRecord:
        with self._queue("queue-create", pool_name, name):
            return super().create_queue(pool_name, name, description=description,
                                        priority=priority, concurrency_limit=concurrency_limit,
                                        is_paused=is_paused)

    def update_queue(self, pool_name: str, name: str, changes: Mapping[str, Any], *,
                     expected_version: int | None = None) -> QueueRecord:
        with self._queue("queue-update", pool_name, name):
            return super().update_queue(pool_name, name, changes,
                                        expected_version=expected_version)

    def delete_queue(self, pool_name: str, name: str) -> None:
        with self._queue("queue-delete", pool_name, name):
            super().delete_queue(pool_name, name)
