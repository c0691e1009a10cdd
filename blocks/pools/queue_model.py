"""Work queues, and what pools and queues share: the stored-model base and store helpers.

Split from :mod:`blocks.pools.models` (which re-exports :class:`WorkQueue`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Self

import pydantic
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from blocks import hooks
from blocks.core import pydantic_errors, validate_name
from blocks.errors import ValidationError
from blocks.pools.queue_store import QueueRecord, QueueStore
from blocks.pools.store import PoolStore
from blocks.registry import Registry

IMMUTABLE = {
    "name": "a {what}'s name cannot change; create a new {what} instead",
    "type": "a pool's type cannot change; create a new pool of the other type",
    "pool": "a queue cannot move to another pool; create it there instead",
}


class _Stored(BaseModel):
    """Shared behaviour: blocks-style errors, immutable identity, a remembered registry."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, hide_input_in_errors=True)
    _what: ClassVar[str] = "object"
    _registry: Registry | None = PrivateAttr(default=None)

    def __init__(self, /, **data: Any) -> None:
        if "name" in data:
            validate_name(data["name"], f"{type(self)._what} name")
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise ValidationError(self._ref_for(data), pydantic_errors(exc)) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name in IMMUTABLE and name in type(self).model_fields:
            raise ValidationError(self._ref(), [(name, IMMUTABLE[name].format(what=self._what))])
        try:
            super().__setattr__(name, value)
        except pydantic.ValidationError as exc:
            raise ValidationError(self._ref(), pydantic_errors(exc)) from None

    def _ref_for(self, data: dict[str, Any]) -> str:
        return f"{self._what.replace(' ', '-')}/{data.get('name', '')}"

    def _ref(self) -> str:
        return self._ref_for(self.__dict__)

    def _registry_or(self, registry: Registry | None) -> Registry:
        chosen = registry or self._registry or Registry.default_local("work queues")
        self._registry = chosen
        return chosen


def _store(registry: Registry) -> PoolStore:
    return PoolStore(lambda: registry.store.engine, lambda: registry.sealer)


def _queues(registry: Registry) -> QueueStore:
    return QueueStore(lambda: registry.store.engine, lambda: registry.sealer)


def _publish(registry: Registry, name: str) -> None:
    # The Prefect bridge registers this hook; it loads only for pools that publish.
    hooks.get(hooks.POOLS_PUBLISH)(registry, name)


def _publish_if_wanted(registry: Registry, name: str) -> None:
    record = _store(registry).get_pool(name)
    if record is not None and record.document.get("publish_to_prefect"):
        _publish(registry, name)


class WorkQueue(_Stored):
    """A queue of a work pool. Workers take runs from the highest-priority (1) queue first.

    Get queues through their pool: ``pool.queues()``, ``pool.queue(name)``,
    ``pool.create_queue(name, ...)``.
    """

    _what: ClassVar[str] = "work queue"

    def _ref_for(self, data: dict[str, Any]) -> str:
        return f"work-pool/{data.get('pool', '')}/queue/{data.get('name', '')}"

    pool: str = Field(description="Name of the pool the queue belongs to (immutable).")
    name: str = Field(description="Name, unique within the pool (immutable).")
    description: str = Field(default="", description="What the queue is for.")
    priority: int = Field(default=1, ge=1, description="1 is the highest priority.")
    concurrency_limit: int | None = Field(
        default=None, ge=0, description="Most runs in flight from this queue; none if unset."
    )
    is_paused: bool = Field(default=False, description="A paused queue hands out no runs.")
    version: int = Field(default=0, ge=0, description="Stored version; 0 for a new queue.")
    created_at: datetime | None = Field(default=None, description="When it was created.")
    updated_at: datetime | None = Field(default=None, description="When it last changed.")

    @classmethod
    def _from_record(cls, record: QueueRecord, registry: Registry) -> WorkQueue:
        queue = cls(
            pool=record.pool, name=record.name, description=record.description,
            priority=record.priority, concurrency_limit=record.concurrency_limit,
            is_paused=record.is_paused, version=record.version, created_at=record.created_at,
            updated_at=record.updated_at,
        )
        queue._registry = registry
        return queue

    def save(
        self, *, expected_version: int | None = None, registry: Registry | None = None
    ) -> Self:
        """Create the queue (``version`` 0) or store its changes (compare-and-set).

        Args:
            expected_version: the version the stored queue must be at; defaults to the version
                this object was loaded at, so a concurrent change is never overwritten.
            registry: registry to use; the one the queue came from, or the process default.

        Returns:
            ``self``, with ``version`` and timestamps updated.

        Raises:
            ConflictError: the name is taken (new queue) or someone else wrote first.
            WorkPoolNotFound, WorkQueueNotFound.
        """
        store = _queues(self._registry_or(registry))
        if self.version == 0 and expected_version is None:
            record = store.create_queue(
                self.pool, self.name, description=self.description, priority=self.priority,
                concurrency_limit=self.concurrency_limit, is_paused=self.is_paused,
            )
        else:
            changes = {
                "description": self.description, "priority": self.priority,
                "concurrency_limit": self.concurrency_limit, "is_paused": self.is_paused,
            }
            expected = expected_version if expected_version is not None else self.version
            record = store.update_queue(self.pool, self.name, changes, expected_version=expected)
        self._refresh(record)
        _publish_if_wanted(self._registry_or(registry), self.pool)
        return self

    def delete(self, *, registry: Registry | None = None) -> None:
        """Delete the queue.

        Raises:
            ConflictError: it is the pool's ``default`` queue, which cannot be deleted.
        """
        chosen = self._registry_or(registry)
        _queues(chosen).delete_queue(self.pool, self.name)
        _publish_if_wanted(chosen, self.pool)

    def pause(self, *, registry: Registry | None = None) -> Self:
        """Pause the queue and save."""
        self.is_paused = True
        return self.save(registry=registry)

    def resume(self, *, registry: Registry | None = None) -> Self:
        """Resume the queue and save."""
        self.is_paused = False
        return self.save(registry=registry)

    def _refresh(self, record: QueueRecord) -> None:
        for key in ("description", "priority", "concurrency_limit", "is_paused", "version",
                    "created_at", "updated_at"):
            object.__setattr__(self, key, getattr(record, key))
