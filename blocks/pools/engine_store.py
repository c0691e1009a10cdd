"""The base of the work-pool stores: the registry's engine and sealer, and shared lookups.

:class:`EngineStore` gives :mod:`blocks.pools.store` (pools) and
:mod:`blocks.pools.queue_store` (queues) the SQLAlchemy engine (a ``reader`` for read-only
transactions), the sealer that MACs every pool head, pool version and queue, and the queue
seal/check; :func:`pool_id_of` finds a pool inside an open transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from blocks.errors import WorkPoolNotFound
from blocks.store.sealing import KeyringSealer, queue_message

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Engine


def tables() -> tuple[Table, Table, Table]:
    """The ``work_pool``, ``work_pool_version`` and ``work_queue`` tables."""
    from blocks.pools.tables import WorkPoolRow, WorkPoolVersionRow, WorkQueueRow

    return (
        WorkPoolRow.__table__,  # type: ignore[attr-defined]
        WorkPoolVersionRow.__table__,  # type: ignore[attr-defined]
        WorkQueueRow.__table__,  # type: ignore[attr-defined]
    )


class EngineStore:
    """Base of the pool and queue stores: the registry's engine, a clock and an id factory.

    Args:
        engine: returns the engine (``lambda: registry.store.engine``), so that opening it and
            migrating the schema happen on first use.
        sealer: returns the registry's sealer (``lambda: registry.sealer``): every pool head,
            pool version and queue is MAC'd on write and checked on read.
        clock: "now" for timestamps.
        new_id: makes row ids.
    """

    def __init__(
        self,
        engine: Callable[[], Engine],
        sealer: Callable[[], KeyringSealer],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._engine = engine
        self._sealer = sealer
        self._clock = clock
        self._new_id = new_id

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine.

        The keyring comes first: it seals a freshly upgraded database, and a first term must
        not be created while one of our write transactions holds the lock.
        """
        self._sealer().keyring.current_term  # noqa: B018
        return self._engine()

    @property
    def reader(self) -> Engine:
        """The engine for read-only transactions (no write lock on SQLite)."""
        from blocks.store.engine import read_only

        return read_only(self.engine)

    @property
    def sealer(self) -> KeyringSealer:
        """The registry's sealer."""
        return self._sealer()

    def check_queue(self, row: tuple[Any, ...], pool_name: str) -> None:
        """Raise IntegrityError unless a queue row (``QUEUE_COLUMNS`` order) authenticates."""
        qid, pool_id, name, version, desc, prio, limit, paused, term, mac = row[:10]
        self.sealer.check(term, mac, queue_message(qid, pool_id, name, version, desc, prio,
                                                   limit, paused),
                          f"queue {name!r} of work pool {pool_name!r}")

    def seal_queue(
        self, qid: str, pool_id: str, name: str, version: int, description: str, priority: int,
        limit: int | None, paused: bool,
    ) -> tuple[int, bytes]:
        """``(mac_term, mac)`` of a queue's new state."""
        return self.sealer.sign(queue_message(qid, pool_id, name, version, description,
                                              priority, limit, paused))


def pool_id_of(conn: Connection, name: str, *, lock: bool = False) -> str:
    """The id of the pool called ``name``, inside an open transaction.

    Args:
        lock: lock the pool's row until the transaction ends (PostgreSQL; SQLite write
            transactions hold the database lock already).

    Raises:
        WorkPoolNotFound: no such pool.
    """
    from sqlalchemy import select

    pool, _, _ = tables()
    query = select(pool.c.id).where(pool.c.name == name)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    pool_id = conn.execute(query).scalar()
    if pool_id is None:
        raise WorkPoolNotFound(no_pool_message(name))
    return str(pool_id)


def no_pool_message(name: str) -> str:
    return f"no work pool {name!r}; see 'blocks pools ls'"
