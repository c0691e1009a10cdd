"""Persistence of work pools in the registry database (compare-and-set writes).

Every pool save writes an immutable version (its settings as canonical JSON) and moves the
pool's current pointer only if nobody else moved it first. Creating a pool creates its
``default`` queue in the same transaction; the other queue operations are in
:mod:`blocks.pools.queue_store`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from blocks.codec import canonical_json
from blocks.errors import ConflictError, ValidationError, WorkPoolNotFound
from blocks.store.sql import utc

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Engine, Row

DEFAULT_QUEUE = "default"
DEFAULT_QUEUE_DESCRIPTION = "The pool's default queue; runs that name no queue go here."
QUEUE_FIELDS = ("description", "priority", "concurrency_limit", "is_paused")
_RETRIES = 5


@dataclass(frozen=True)
class PoolRecord:
    """One version of a pool as stored."""

    id: str
    name: str
    type: str
    version: int
    current_version: int
    document: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    note: str | None = None


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
        clock: "now" for timestamps.
        new_id: makes row ids.
    """

    def __init__(
        self,
        engine: Callable[[], Engine],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._new_id = new_id

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine."""
        return self._engine()


class PoolStore(EngineStore):
    """Work pools on the registry's SQLAlchemy engine."""

    # -- pools ----------------------------------------------------------------------------

    def get_pool(self, name: str, version: int | None = None) -> PoolRecord | None:
        """A pool's current version, or ``version``; ``None`` when there is no such thing."""
        pool, vers, _ = tables()
        query = _pool_select(pool, vers).where(pool.c.name == name)
        if version is None:
            query = query.where(vers.c.version == pool.c.current_version)
        else:
            query = query.where(vers.c.version == version)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _pool_record(row) if row is not None else None

    def list_pools(self) -> list[PoolRecord]:
        """Every pool's current version, by name."""
        pool, vers, _ = tables()
        query = (
            _pool_select(pool, vers)
            .where(vers.c.version == pool.c.current_version)
            .order_by(pool.c.name)
        )
        with self.engine.connect() as conn:
            return [_pool_record(row) for row in conn.execute(query).all()]

    def pool_history(self, name: str) -> list[PoolRecord]:
        """Every version of a pool, oldest first.

        Raises:
            WorkPoolNotFound: no such pool.
        """
        pool, vers, _ = tables()
        query = _pool_select(pool, vers).where(pool.c.name == name).order_by(vers.c.version)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            raise WorkPoolNotFound(_no_pool(name))
        return [_pool_record(row) for row in rows]

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
        """Write a new version of a pool (creating it and its default queue if new).

        Args:
            name: pool name.
            pool_type: the pool's type; must match the stored one.
            document: ``description``, ``base_job_template``, ``concurrency_limit``,
                ``is_paused``.
            overwrite: allow a new version of an existing pool without ``expected_version``.
            expected_version: compare-and-set: the pool's current version must be this one
                (0: the pool must not exist yet).
            note: a short note stored with the version.

        Raises:
            ConflictError: the pool exists (no ``overwrite``), or its version is not
                ``expected_version`` (someone else wrote first).
            ValidationError: ``pool_type`` differs from the stored type.
        """
        from sqlalchemy.exc import IntegrityError

        body = canonical_json(dict(document)).decode()
        for _attempt in range(_RETRIES):
            try:
                with self.engine.begin() as conn:
                    version = self._save_pool_in(
                        conn, name, pool_type, body, overwrite, expected_version, note
                    )
                break
            except IntegrityError:
                continue  # a concurrent writer created the pool or took the version: re-read
        else:
            raise ConflictError(f"work pool {name!r}: too many concurrent writers; retry")
        record = self.get_pool(name, version)
        assert record is not None
        return record

    def _save_pool_in(
        self, conn: Connection, name: str, pool_type: str, body: str, overwrite: bool,
        expected_version: int | None, note: str | None,
    ) -> int:
        from sqlalchemy import insert, select, update

        pool, vers, queue = tables()
        now = self._clock()
        query = select(pool.c.id, pool.c.type, pool.c.current_version).where(pool.c.name == name)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            if expected_version not in (None, 0):
                raise ConflictError(
                    f"work pool {name!r} does not exist, but version {expected_version} was "
                    "expected; it may have been deleted"
                )
            pool_id, version = self._new_id(), 1
            conn.execute(insert(pool).values(
                id=pool_id, name=name, type=pool_type, current_version=1,
                created_at=now, updated_at=now,
            ))
            conn.execute(insert(queue).values(
                id=self._new_id(), pool_id=pool_id, name=DEFAULT_QUEUE,
                description=DEFAULT_QUEUE_DESCRIPTION, priority=1, concurrency_limit=None,
                is_paused=False, version=1, created_at=now, updated_at=now,
            ))
        else:
            pool_id, stored_type, current = row
            if stored_type != pool_type:
                raise ValidationError(
                    f"work-pool/{name}",
                    [("type", f"a pool's type cannot change (it is {stored_type!r}); "
                              "create a new pool for another type")],
                )
            if expected_version is not None and expected_version != current:
                raise ConflictError(
                    f"work pool {name!r} is at version {current}, not the expected "
                    f"{expected_version}: someone else wrote first; load it again and re-apply "
                    "your change"
                )
            if expected_version is None and not overwrite:
                raise ConflictError(
                    f"work pool {name!r} already exists; load it and save, or pass "
                    "overwrite=True (CLI: 'blocks pools update')"
                )
            version = current + 1
            moved = conn.execute(
                update(pool)
                .where(pool.c.id == pool_id, pool.c.current_version == current)
                .values(current_version=version, updated_at=now)
            )
            if moved.rowcount != 1:
                raise ConflictError(f"work pool {name!r} changed during the save; retry")
        conn.execute(insert(vers).values(
            pool_id=pool_id, version=version, document=body, note=note, created_at=now
        ))
        return version

    def rename_pool(self, name: str, new_name: str) -> PoolRecord:
        """Give a pool a new name: same id, versions and queues (they follow the pool id).

        Raises:
            WorkPoolNotFound: no such pool.
            ConflictError: ``new_name`` is taken.
        """
        from sqlalchemy import update
        from sqlalchemy.exc import IntegrityError

        pool, _, _ = tables()
        try:
            with self.engine.begin() as conn:
                pool_id = pool_id_of(conn, name, lock=True)
                if new_name != name:
                    conn.execute(update(pool).where(pool.c.id == pool_id).values(name=new_name))
        except IntegrityError:
            raise ConflictError(
                f"cannot rename work pool {name!r}: a pool {new_name!r} already exists; delete "
                "or rename it first"
            ) from None
        record = self.get_pool(new_name)
        assert record is not None
        return record

    def delete_pool(self, name: str) -> None:
        """Delete a pool with its versions and queues.

        Raises:
            WorkPoolNotFound: no such pool.
        """
        from sqlalchemy import delete

        pool, vers, queue = tables()
        with self.engine.begin() as conn:
            pool_id = pool_id_of(conn, name)
            conn.execute(delete(queue).where(queue.c.pool_id == pool_id))
            conn.execute(delete(vers).where(vers.c.pool_id == pool_id))
            conn.execute(delete(pool).where(pool.c.id == pool_id))


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
        raise WorkPoolNotFound(_no_pool(name))
    return str(pool_id)


def _pool_select(pool: Table, vers: Table) -> Any:
    from sqlalchemy import select

    return select(
        pool.c.id, pool.c.name, pool.c.type, vers.c.version, pool.c.current_version,
        vers.c.document, pool.c.created_at, vers.c.created_at, vers.c.note,
    ).join(vers, vers.c.pool_id == pool.c.id)


def _pool_record(row: Row[Any]) -> PoolRecord:
    pool_id, name, pool_type, version, current, document, created, updated, note = tuple(row)
    return PoolRecord(
        id=pool_id, name=name, type=pool_type, version=version, current_version=current,
        document=json.loads(document), created_at=utc(created), updated_at=utc(updated),
        note=note,
    )


def _no_pool(name: str) -> str:
    return f"no work pool {name!r}; see 'blocks pools ls'"
