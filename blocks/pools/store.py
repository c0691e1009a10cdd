"""Persistence of work pools in the registry database (compare-and-set writes).

Every pool save writes an immutable version (its settings as canonical JSON) and moves the
pool's current pointer only if nobody else moved it first. Creating a pool creates its
``default`` queue in the same transaction; the other queue operations are in
:mod:`blocks.pools.queue_store`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from blocks.crypto.integrity import canonical_json
from blocks.errors import ConflictError, ValidationError, WorkPoolNotFound
from blocks.pool_types.records import DEFAULT_QUEUE as DEFAULT_QUEUE
from blocks.pool_types.records import PoolRecord as PoolRecord
from blocks.pools.engine_store import EngineStore, no_pool_message, pool_id_of, tables
from blocks.store import audit_log
from blocks.store.records import check_expected_version
from blocks.store.sealing import (
    pool_head_message,
    pool_version_message,
)
from blocks.store.sql import utc

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Row

DEFAULT_QUEUE_DESCRIPTION = "The pool's default queue; runs that name no queue go here."
QUEUE_FIELDS = ("description", "priority", "concurrency_limit", "is_paused")
_RETRIES = 5


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
        with self.reader.connect() as conn:
            row = conn.execute(query).first()
            if row is None:
                head = conn.execute(_head_select(pool).where(pool.c.name == name)).first()
                if head is not None:  # the pool exists: its head must be authentic
                    self._check_head(tuple(head))
                    if version is None or version <= head[3]:
                        from blocks.errors import IntegrityError

                        raise IntegrityError(f"work pool {name!r}", "a version is missing")
                return None
        return self._verified(row)

    def list_pools(self) -> list[PoolRecord]:
        """Every pool's current version, by name."""
        pool, vers, _ = tables()
        query = (
            _pool_select(pool, vers)
            .where(vers.c.version == pool.c.current_version)
            .order_by(pool.c.name)
        )
        with self.reader.connect() as conn:
            return [self._verified(row) for row in conn.execute(query).all()]

    def pool_history(self, name: str) -> list[PoolRecord]:
        """Every version of a pool, oldest first.

        Raises:
            WorkPoolNotFound: no such pool.
        """
        pool, vers, _ = tables()
        query = _pool_select(pool, vers).where(pool.c.name == name).order_by(vers.c.version)
        with self.reader.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            raise WorkPoolNotFound(no_pool_message(name))
        records = [self._verified(row) for row in rows]
        if [r.version for r in records] != list(range(1, records[0].current_version + 1)):
            from blocks.errors import IntegrityError

            raise IntegrityError(f"work pool {name!r}", "versions are missing from its history")
        return records

    def _check_head(self, head: tuple[Any, ...]) -> None:
        pool_id, name, pool_type, current, term, mac = head
        self.sealer.check(term, mac, pool_head_message(pool_id, name, pool_type, current),
                          f"work pool {name!r}")

    def _verified(self, row: Row[Any]) -> PoolRecord:
        """A pool version row whose head and document authenticate, as a record."""
        values = tuple(row)
        pool_id, name, pool_type, version, current = values[:5]
        document = values[5]
        self._check_head((pool_id, name, pool_type, current, values[9], values[10]))
        self.sealer.check(
            values[11], values[12],
            pool_version_message(pool_id, name, pool_type, version, document),
            f"work pool {name!r} version {version}",
        )
        if not isinstance(version, int) or not 1 <= version <= current or values[13]:
            from blocks.errors import IntegrityError

            raise IntegrityError(f"work pool {name!r}", "a version is beyond the sealed head "
                                                        "(an old head put back?)")
        return _pool_record(values[:9])

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

        check_expected_version(expected_version, f"work pool {name}")
        body = canonical_json(dict(document)).decode()
        for _attempt in range(_RETRIES):
            try:
                with self.engine.begin() as conn:
                    version = self._save_pool_in(
                        conn, name, pool_type, body, overwrite, expected_version, note
                    )
                break
            except IntegrityError:
                # a concurrent writer created the pool or took the version, or the cached
                # term was retired: refresh the keyring and re-read
                self.sealer.stale()
                continue
        else:
            raise ConflictError(f"work pool {name!r}: too many concurrent writers; retry")
        record = self.get_pool(name, version)
        assert record is not None
        return record

    def _save_pool_in(
        self, conn: Connection, name: str, pool_type: str, body: str, overwrite: bool,
        expected_version: int | None, note: str | None,
    ) -> int:
        from sqlalchemy import insert, update

        pool, vers, queue = tables()
        now = self._clock()
        query = _head_select(pool).where(pool.c.name == name)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is not None:
            self._check_head(tuple(row))
            _refuse_beyond_head(conn, vers, row[0], row[3], name)
        if row is None:
            if expected_version not in (None, 0):
                raise ConflictError(
                    f"work pool {name!r} does not exist, but version {expected_version} was "
                    "expected; it may have been deleted"
                )
            pool_id, version = self._new_id(), 1
            head_term, head_mac = self.sealer.sign(pool_head_message(pool_id, name, pool_type, 1))
            conn.execute(insert(pool).values(
                id=pool_id, name=name, type=pool_type, current_version=1,
                created_at=now, updated_at=now, head_term=head_term, head_mac=head_mac,
            ))
            qid = self._new_id()
            q_term, q_mac = self.seal_queue(qid, pool_id, DEFAULT_QUEUE, 1,
                                            DEFAULT_QUEUE_DESCRIPTION, 1, None, False)
            conn.execute(insert(queue).values(
                id=qid, pool_id=pool_id, name=DEFAULT_QUEUE,
                description=DEFAULT_QUEUE_DESCRIPTION, priority=1, concurrency_limit=None,
                is_paused=False, version=1, created_at=now, updated_at=now,
                mac_term=q_term, mac=q_mac,
            ))
        else:
            pool_id, _, stored_type, current = row[:4]
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
            head_term, head_mac = self.sealer.sign(
                pool_head_message(pool_id, name, pool_type, version)
            )
            moved = conn.execute(
                update(pool)
                .where(pool.c.id == pool_id, pool.c.current_version == current)
                .values(current_version=version, updated_at=now, head_term=head_term,
                        head_mac=head_mac)
            )
            if moved.rowcount != 1:
                raise ConflictError(f"work pool {name!r} changed during the save; retry")
        mac_term, mac = self.sealer.sign(
            pool_version_message(pool_id, name, pool_type, version, body)
        )
        conn.execute(insert(vers).values(
            pool_id=pool_id, version=version, document=body, note=note, created_at=now,
            mac_term=mac_term, mac=mac,
        ))
        audit_log.annotate(version=version)  # the save's audit record names the new version
        return version

    def rename_pool(self, name: str, new_name: str) -> PoolRecord:
        """Give a pool a new name: same id, versions and queues (they follow the pool id).

        Raises:
            WorkPoolNotFound: no such pool.
            ConflictError: ``new_name`` is taken.
        """
        from sqlalchemy import select, update
        from sqlalchemy.exc import IntegrityError

        pool, vers, _ = tables()
        try:
            with self.engine.begin() as conn:
                query = _head_select(pool).where(pool.c.name == name)
                if conn.dialect.name == "postgresql":
                    query = query.with_for_update()
                head = conn.execute(query).first()
                if head is None:
                    raise WorkPoolNotFound(no_pool_message(name))
                self._check_head(tuple(head))
                pool_id, _, pool_type, current = head[:4]
                if new_name != name:
                    # Every version is bound to the pool's name: check each, then re-seal it.
                    rows = conn.execute(
                        select(vers.c.version, vers.c.document, vers.c.mac_term, vers.c.mac)
                        .where(vers.c.pool_id == pool_id)
                    ).all()
                    for version, document, term, mac in rows:
                        self.sealer.check(
                            term, mac,
                            pool_version_message(pool_id, name, pool_type, version, document),
                            f"work pool {name!r} version {version}",
                        )
                        new_term, new_mac = self.sealer.sign(
                            pool_version_message(pool_id, new_name, pool_type, version, document)
                        )
                        conn.execute(
                            update(vers)
                            .where(vers.c.pool_id == pool_id, vers.c.version == version)
                            .values(mac_term=new_term, mac=new_mac)
                        )
                    head_term, head_mac = self.sealer.sign(
                        pool_head_message(pool_id, new_name, pool_type, current)
                    )
                    conn.execute(update(pool).where(pool.c.id == pool_id).values(
                        name=new_name, head_term=head_term, head_mac=head_mac
                    ))
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


def _refuse_beyond_head(
    conn: Connection, vers: Table, pool_id: str, current: int, name: str
) -> None:
    """An old sealed head put back while newer versions exist is not written over."""
    from sqlalchemy import exists, select

    if conn.execute(select(exists().where(vers.c.pool_id == pool_id,
                                          vers.c.version > current))).scalar():
        from blocks.errors import IntegrityError

        raise IntegrityError(f"work pool {name!r}", "a version is beyond the sealed head "
                                                    "(an old head put back?)")


def _head_select(pool: Table) -> Any:
    from sqlalchemy import select

    return select(pool.c.id, pool.c.name, pool.c.type, pool.c.current_version,
                  pool.c.head_term, pool.c.head_mac)


def _pool_select(pool: Table, vers: Table) -> Any:
    from sqlalchemy import exists, select

    newer = vers.alias("newer")
    # one indexed lookup: an old sealed head put back while newer versions exist is refused
    beyond = exists().where(newer.c.pool_id == pool.c.id,
                            newer.c.version > pool.c.current_version)
    return select(
        pool.c.id, pool.c.name, pool.c.type, vers.c.version, pool.c.current_version,
        vers.c.document, pool.c.created_at, vers.c.created_at, vers.c.note,
        pool.c.head_term, pool.c.head_mac, vers.c.mac_term, vers.c.mac, beyond,
    ).join(vers, vers.c.pool_id == pool.c.id)


def _pool_record(row: tuple[Any, ...]) -> PoolRecord:
    pool_id, name, pool_type, version, current, document, created, updated, note = row
    return PoolRecord(
        id=pool_id, name=name, type=pool_type, version=version, current_version=current,
        document=json.loads(document), created_at=utc(created), updated_at=utc(updated),
        note=note,
    )
