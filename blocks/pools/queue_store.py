"""Persistence of work queues: compare-and-set updates, the ``default`` queue kept.

Queues live in the registry database beside their pool (see :mod:`blocks.pools.store`); the
``default`` queue is created with the pool and cannot be deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from blocks.errors import ConflictError, WorkQueueNotFound
from blocks.pool_types.records import QueueRecord as QueueRecord
from blocks.pools.engine_store import EngineStore, pool_id_of, tables
from blocks.pools.priorities import shifted
from blocks.pools.store import DEFAULT_QUEUE, QUEUE_FIELDS
from blocks.store import audit_log
from blocks.store.records import check_expected_version
from blocks.store.sql import utc

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Row





class QueueStore(EngineStore):
    """The queues of work pools on the registry's SQLAlchemy engine."""

    def list_queues(self, pool_name: str) -> list[QueueRecord]:
        """A pool's queues by priority (1 first), then name.

        Raises:
            WorkPoolNotFound: no such pool.
        """
        pool, _, queue = tables()
        with self.reader.connect() as conn:
            pool_id = pool_id_of(conn, pool_name)
            rows = conn.execute(
                _queue_select(pool, queue)
                .where(queue.c.pool_id == pool_id)
                .order_by(queue.c.priority, queue.c.name)
            ).all()
        return [self._verified_queue(row, pool_name) for row in rows]

    def get_queue(self, pool_name: str, name: str) -> QueueRecord:
        """One queue.

        Raises:
            WorkPoolNotFound, WorkQueueNotFound.
        """
        pool, _, queue = tables()
        with self.reader.connect() as conn:
            pool_id = pool_id_of(conn, pool_name)
            row = conn.execute(
                _queue_select(pool, queue).where(queue.c.pool_id == pool_id, queue.c.name == name)
            ).first()
        if row is None:
            raise WorkQueueNotFound(_no_queue(pool_name, name))
        return self._verified_queue(row, pool_name)

    def _verified_queue(self, row: Row[Any], pool_name: str) -> QueueRecord:
        values = tuple(row)
        self.check_queue(values[10:], pool_name)
        return _queue_record(values[:10])

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
        """Add a queue to a pool; ``priority`` defaults to one below the lowest.

        A priority another queue holds moves that queue (and the next ones, as far as needed)
        one step down, as Prefect's server does (see :mod:`blocks.pools.priorities`).

        Raises:
            WorkPoolNotFound: no such pool.
            ConflictError: the pool already has a queue of that name.
        """
        from sqlalchemy import func, insert, select
        from sqlalchemy.exc import IntegrityError

        _, _, queue = tables()
        now = self._clock()
        try:
            with self.engine.begin() as conn:
                pool_id = pool_id_of(conn, pool_name, lock=priority is not None)
                if priority is None:
                    lowest = conn.execute(
                        select(func.max(queue.c.priority)).where(queue.c.pool_id == pool_id)
                    ).scalar()
                    priority = (lowest or 0) + 1
                else:
                    self._make_room(conn, pool_id, pool_name, name, priority)
                qid = self._new_id()
                term, mac = self.seal_queue(qid, pool_id, name, 1, description, priority,
                                            concurrency_limit, is_paused)
                conn.execute(insert(queue).values(
                    id=qid, pool_id=pool_id, name=name, description=description,
                    priority=priority, concurrency_limit=concurrency_limit, is_paused=is_paused,
                    version=1, created_at=now, updated_at=now, mac_term=term, mac=mac,
                ))
                audit_log.annotate(version=1)
        except IntegrityError:
            raise ConflictError(
                f"work pool {pool_name!r} already has a queue {name!r}; update it instead"
            ) from None
        return self.get_queue(pool_name, name)

    def update_queue(
        self,
        pool_name: str,
        name: str,
        changes: Mapping[str, Any],
        *,
        expected_version: int | None = None,
    ) -> QueueRecord:
        """Change a queue's ``description``, ``priority``, ``concurrency_limit``, ``is_paused``.

        A new priority that another queue holds moves the others as in :meth:`create_queue`.

        Raises:
            WorkPoolNotFound, WorkQueueNotFound.
            ConflictError: the queue's version is not ``expected_version``.
            ValueError: ``changes`` names another field (name and pool never change).
        """
        from sqlalchemy import update

        check_expected_version(expected_version, f"work queue {pool_name}/{name}")
        unknown = sorted(set(changes) - set(QUEUE_FIELDS))
        if unknown:
            raise ValueError(f"queue fields {unknown} cannot be changed; only {QUEUE_FIELDS}")
        pool, _, queue = tables()
        with self.engine.begin() as conn:
            pool_id = pool_id_of(conn, pool_name, lock=True)
            row = conn.execute(
                _queue_select(pool, queue).where(queue.c.pool_id == pool_id, queue.c.name == name)
            ).first()
            if row is None:
                raise WorkQueueNotFound(_no_queue(pool_name, name))
            old = self._verified_queue(row, pool_name)
            if expected_version is not None and old.version != expected_version:
                raise ConflictError(
                    f"queue {name!r} of work pool {pool_name!r} is at version {old.version}, "
                    f"not the expected {expected_version}: someone else wrote first"
                )
            new = {key: changes.get(key, getattr(old, key)) for key in QUEUE_FIELDS}
            if new["priority"] != old.priority:
                self._make_room(conn, pool_id, pool_name, name, new["priority"])
            term, mac = self.seal_queue(
                old.id, pool_id, name, old.version + 1, new["description"], new["priority"],
                new["concurrency_limit"], new["is_paused"],
            )
            result = conn.execute(
                update(queue)
                .where(queue.c.id == old.id, queue.c.version == old.version)
                .values(**new, version=old.version + 1, updated_at=self._clock(),
                        mac_term=term, mac=mac)
            )
            if result.rowcount != 1:
                raise ConflictError(
                    f"queue {name!r} of work pool {pool_name!r} changed during the update; retry"
                )
            audit_log.annotate(version=old.version + 1)
        return self.get_queue(pool_name, name)

    def _make_room(
        self, conn: Any, pool_id: str, pool_name: str, name: str, priority: int
    ) -> None:
        """Move the pool's other queues down where ``name`` taking ``priority`` needs it (each
        moved queue gets a new version, sealed), inside the caller's transaction."""
        from sqlalchemy import update

        pool, _, queue = tables()
        rows = conn.execute(_queue_select(pool, queue).where(queue.c.pool_id == pool_id)).all()
        others = {record.name: record for record in
                  (self._verified_queue(row, pool_name) for row in rows)}
        moves = shifted({n: r.priority for n, r in others.items()}, name, priority)
        for other, new_priority in moves.items():
            record = others[other]
            term, mac = self.seal_queue(
                record.id, pool_id, other, record.version + 1, record.description,
                new_priority, record.concurrency_limit, record.is_paused,
            )
            result = conn.execute(
                update(queue)
                .where(queue.c.id == record.id, queue.c.version == record.version)
                .values(priority=new_priority, version=record.version + 1,
                        updated_at=self._clock(), mac_term=term, mac=mac)
            )
            if result.rowcount != 1:
                raise ConflictError(
                    f"queue {other!r} of work pool {pool_name!r} changed while making room "
                    f"for priority {priority}; retry"
                )

    def delete_queue(self, pool_name: str, name: str) -> None:
        """Delete a queue (never the ``default`` one).

        Raises:
            WorkPoolNotFound, WorkQueueNotFound.
            ConflictError: ``name`` is ``default``.
        """
        from sqlalchemy import delete

        if name == DEFAULT_QUEUE:
            raise ConflictError(
                f"the default queue of work pool {pool_name!r} cannot be deleted; "
                "delete the pool to remove it"
            )
        _, _, queue = tables()
        with self.engine.begin() as conn:
            pool_id = pool_id_of(conn, pool_name)
            result = conn.execute(
                delete(queue).where(queue.c.pool_id == pool_id, queue.c.name == name)
            )
            if result.rowcount != 1:
                raise WorkQueueNotFound(_no_queue(pool_name, name))


def _queue_select(pool: Table, queue: Table) -> Any:
    from sqlalchemy import select

    return select(
        queue.c.id, pool.c.name, queue.c.name, queue.c.description, queue.c.priority,
        queue.c.concurrency_limit, queue.c.is_paused, queue.c.version, queue.c.created_at,
        queue.c.updated_at,
        # what the queue's MAC covers, in check_queue's order
        queue.c.id, queue.c.pool_id, queue.c.name, queue.c.version, queue.c.description,
        queue.c.priority, queue.c.concurrency_limit, queue.c.is_paused, queue.c.mac_term,
        queue.c.mac,
    ).join(pool, pool.c.id == queue.c.pool_id)


def _queue_record(row: tuple[Any, ...]) -> QueueRecord:
    qid, pool, name, description, priority, limit, paused, version, created, updated = row
    return QueueRecord(
        id=qid, pool=pool, name=name, description=description, priority=priority,
        concurrency_limit=limit, is_paused=bool(paused), version=version,
        created_at=utc(created), updated_at=utc(updated),
    )



def _no_queue(pool: str, name: str) -> str:
    return f"work pool {pool!r} has no queue {name!r}; see 'blocks pools queues ls {pool}'"
