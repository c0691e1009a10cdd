"""The block write path on the DB-API connection: save, rename, move the head.

Like the load path, writes skip SQLAlchemy: building and compiling expressions cost more than
the commit itself. Each write is one short transaction that takes the write lock first
(SQLite ``BEGIN IMMEDIATE``, PostgreSQL ``SELECT ... FOR UPDATE`` on the block's row), reads
and *verifies* the sealed head, and moves it with a compare-and-set on ``latest_version``, so a
tampered head is never re-sealed as if it were authentic.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from blocks import _nowait
from blocks.crypto import integrity
from blocks.errors import (
    BlockAlreadyExists,
    BlockNotFound,
    BlocksError,
    ConflictError,
    IntegrityError,
    RegistryLockedError,
    ValidationError,
)
from blocks.store import audit_log, census
from blocks.store.engine import is_lock_timeout
from blocks.store.ports import HeadSealer
from blocks.store.records import (
    BlockSummary,
    Head,
    SealedVersion,
    VersionInfo,
    saved_stages,
    stages_json,
    utc,
)

_HEAD = (
    "SELECT id, type_slug, name, current_version, latest_version, stages, head_term, head_mac, "
    "created_at, EXISTS (SELECT 1 FROM block_version v WHERE v.block_id = block.id "
    "AND v.version > block.latest_version) OR EXISTS (SELECT 1 FROM block_deletion d "
    "WHERE d.block_id = block.id) FROM block WHERE type_slug = ? AND name = ?"
)
BEYOND_HEAD = (
    "a version beyond its sealed head, or its scheduled deletion, is stored (an old head put "
    "back?)"
)
_CREATE = (
    "INSERT INTO block (id, type_slug, name, current_version, latest_version, stages, "
    "head_term, head_mac, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Two statements rather than one: setting ``name`` (even to itself) rewrites the unique
# (type_slug, name) index entry, a third of the cost of a save.
_MOVE = (
    "UPDATE block SET current_version = ?, latest_version = ?, stages = ?, "
    "head_term = ?, head_mac = ?, updated_at = ? WHERE id = ? AND latest_version = ?"
)
_RENAME = (
    "UPDATE block SET name = ?, current_version = ?, latest_version = ?, stages = ?, "
    "head_term = ?, head_mac = ?, updated_at = ? WHERE id = ? AND latest_version = ?"
)
_ADD_VERSION = (
    "INSERT INTO block_version (block_id, version, term, wrapped_key, ciphertext, "
    "schema_checksum, schema_version, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_CLEAR_REFS = "DELETE FROM block_ref WHERE block_id = ?"
_ADD_REF = (
    "INSERT INTO block_ref (block_id, path, ref_block_id, mac_term, mac) VALUES (?, ?, ?, ?, ?)"
)
_VERSION_EXISTS = (
    "SELECT wrapped_key IS NOT NULL FROM block_version WHERE block_id = ? AND version = ?"
)
_RETRIES = 5


class Writer:
    """Write transactions on a store's DB-API connection.

    Args:
        connection: returns this thread's DB-API connection (autocommit mode).
        sqlite: SQLite (``?`` placeholders, ``BEGIN IMMEDIATE``) or PostgreSQL (psycopg).
    """

    def __init__(self, connection: Callable[[], Any], sqlite: bool) -> None:
        self._connection = connection
        self.sqlite = sqlite
        native: Callable[[str], str] = (lambda q: q) if sqlite else (
            lambda q: q.replace("?", "%s")
        )
        self._q = native
        self._head = native(_HEAD) + ("" if sqlite else " FOR UPDATE")
        self._create = native(_CREATE)
        self._move = native(_MOVE)
        self._rename = native(_RENAME)
        self._add_version = native(_ADD_VERSION)
        self._clear_refs = native(_CLEAR_REFS)
        self._add_ref = native(_ADD_REF)
        self._exists = native(_VERSION_EXISTS)
        self.lock = "" if sqlite else " FOR UPDATE"
        self.before_commit: Callable[[Any], None] | None = None
        """Called with the connection at the end of each transaction, before its commit (the
        store appends the audit records staged for the change here)."""

    # -- transactions ---------------------------------------------------------------------

    def connection(self) -> Any:
        """This thread's DB-API connection (autocommit: reads outside a transaction)."""
        return self._connection()

    def native(self, sql: str) -> str:
        """``sql`` written with ``?`` placeholders, in the driver's paramstyle."""
        return self._q(sql)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """One write transaction holding the write lock; commits, or rolls back on error.
        Never inside ``blocks._nowait.without_waiting`` (the lock may be held): raises
        ``WouldBlock`` there, and the caller goes to a worker thread."""
        _nowait.check()
        conn = self._connection()
        started = time.monotonic()
        if self.sqlite:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise _locked(exc, started) from None
            try:
                yield conn
                if self.before_commit is not None:
                    self.before_commit(conn)
                conn.execute("COMMIT")
            except BaseException as exc:
                conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise _locked(exc, started) from None
                raise
            return
        with conn.transaction():
            yield conn
            if self.before_commit is not None:
                self.before_commit(conn)

    def is_constraint(self, exc: BaseException) -> bool:
        """True for a unique or foreign-key violation (a concurrent writer, a stale term)."""
        if self.sqlite:
            return isinstance(exc, sqlite3.IntegrityError)
        import psycopg

        return isinstance(exc, psycopg.errors.IntegrityError)

    # -- block writes ---------------------------------------------------------------------

    def save_version(
        self, sealer: HeadSealer, slug: str, name: str, *, overwrite: bool,
        expected_version: int | None, seal: Callable[[str, int], SealedVersion],
        refs: Mapping[str, str], schema_checksum: str, schema_version: str,
        note: str | None, now: datetime, new_id: Callable[[], str], stage: str | None = None,
    ) -> VersionInfo:
        """Append a version and move the sealed head to it, atomically (compare-and-set).

        With ``stage`` (``"pending"``) the version is staged instead: the head's current
        version stays, its stage map gains ``stage`` -> the new version (block must exist).
        """
        stamp = self.stamp(now)
        for _attempt in range(_RETRIES):
            try:
                with self.transaction() as conn:
                    return self._save_in(
                        conn, sealer, slug, name, overwrite, expected_version, seal, refs,
                        schema_checksum, schema_version, note, now, stamp, new_id, stage,
                    )
            except BlocksError:
                raise
            except Exception as exc:
                if not self.is_constraint(exc):
                    raise
                sealer.stale()  # a retired term, a concurrent create, or a deleted target
                self.check_refs_exist(slug, name, refs)
        raise ConflictError(f"{slug}/{name}: too many concurrent writers; retry")

    def _save_in(
        self, conn: Any, sealer: HeadSealer, slug: str, name: str, overwrite: bool,
        expected_version: int | None, seal: Callable[[str, int], SealedVersion],
        refs: Mapping[str, str], schema_checksum: str, schema_version: str, note: str | None,
        now: datetime, stamp: Any, new_id: Callable[[], str], stage: str | None = None,
    ) -> VersionInfo:
        ref_name = f"{slug}/{name}"
        head, _ = self._read_head(conn, sealer, slug, name)
        if head is None and stage is not None:
            raise BlockNotFound(f"no block {ref_name}; a staged version needs an existing block")
        restored = False
        if head is None and expected_version in (None, 0):
            head = self._restore(conn, sealer, slug, name, now)
            restored = head is not None
        if restored:
            assert head is not None
            version = int(head.latest_version or head.current_version) + 1
            block_id = head.block_id
        elif head is None:
            if expected_version not in (None, 0):
                raise ConflictError(
                    f"{ref_name} does not exist, but version {expected_version} was expected; "
                    "it may have been deleted"
                )
            block_id, version = new_id(), 1
        else:
            block_id, current = head.block_id, head.current_version
            if expected_version == 0:
                raise BlockAlreadyExists(
                    f"{ref_name} already exists (version {current}), but expected_version=0 "
                    "asks for a new block"
                )
            if expected_version is not None and expected_version != current:
                raise ConflictError(
                    f"{ref_name} is at version {current}, not the expected {expected_version}: "
                    "someone else wrote first; load it again and re-apply your change"
                )
            if expected_version is None and not overwrite:
                raise BlockAlreadyExists(
                    f"{ref_name} already exists; pass overwrite=True (CLI: --overwrite) to add "
                    "a new version"
                )
            version = int(head.latest_version or current) + 1
        sealed = seal(block_id, version)
        audit_log.annotate(subject=block_id, version=version)
        if head is not None and stage is not None:
            stages = {**head.stage_map(), stage: version}
            new_head = sealer.seal_head(replace(
                head, latest_version=version, stages=stages_json(stages), term=None, mac=None
            ))
        else:
            new_head = sealer.seal_head(Head(
                block_id, slug, name, version, version,
                stages_json(saved_stages(head, version)), None, None,
            ))
        if head is None:
            conn.execute(self._create, (
                block_id, slug, name, version, version, new_head.stages, new_head.term,
                new_head.mac, stamp, stamp,
            ))
            census.adjust(self.executor(conn), sealer, census.blocks_of(slug),
                          add=[census.block_member(block_id, slug, name)], lock=self.lock)
        else:
            self._cas(conn, head, new_head, stamp)
        conn.execute(self._add_version, (
            block_id, version, sealed.term, sealed.wrapped_key, sealed.ciphertext,
            schema_checksum, schema_version, note, stamp,
        ))
        if stage is not None:  # references follow the current version only
            return VersionInfo(block_id, slug, name, version, now, sealed.term, schema_checksum,
                               note)
        conn.execute(self._clear_refs, (block_id,))
        if refs:
            conn.cursor().executemany(self._add_ref, [
                (block_id, path, target, *sealer.sign(ref_message(block_id, path, target)))
                for path, target in sorted(refs.items())
            ])
        return VersionInfo(block_id, slug, name, version, now, sealed.term, schema_checksum, note)

    def _restore(
        self, conn: Any, sealer: HeadSealer, slug: str, name: str, now: datetime
    ) -> Head | None:
        """Bring back ``slug/name`` if it is in its recovery window (a save of its name)."""
        found = conn.execute(self._q(
            "SELECT 1 FROM block_deletion WHERE type_slug = ? AND name = ?"), (slug, name)
        ).fetchone()
        if found is None:
            return None
        from blocks.store.recovery import Schedule  # recovery reads timestamps as sql does

        schedule = Schedule(self.executor(conn), sealer, self.lock, self.stamp)
        deleted = schedule.find(slug, name)
        # the new version's references replace the old ones: they need not be live
        return schedule.restore(deleted, now, check_refs=False) if deleted else None

    def rename(
        self, sealer: HeadSealer, slug: str, name: str, new_name: str, *,
        expected_version: int | None, now: datetime,
    ) -> BlockSummary:
        """Give a block a new name under a re-sealed head (same id, versions, references)."""
        ref_name = f"{slug}/{name}"
        stamp = self.stamp(now)
        try:
            with self.transaction() as conn:
                head, created = self._read_head(conn, sealer, slug, name)
                if head is None:
                    raise BlockNotFound(f"no block {ref_name}; see 'blocks ls {slug}'")
                if expected_version is not None and expected_version != head.current_version:
                    raise ConflictError(
                        f"{ref_name} is at version {head.current_version}, not the expected "
                        f"{expected_version}: someone else wrote first"
                    )
                if new_name != name:
                    self._cas(conn, head, sealer.seal_head(replace(head, name=new_name)), stamp)
                    census.adjust(
                        self.executor(conn), sealer, census.blocks_of(slug), lock=self.lock,
                        add=[census.block_member(head.block_id, slug, new_name)],
                        remove=[census.block_member(head.block_id, slug, name)],
                    )
        except BlocksError:
            raise
        except Exception as exc:
            if not self.is_constraint(exc):
                raise
            raise ConflictError(
                f"cannot rename {ref_name}: {slug}/{new_name} already exists; delete or rename "
                "it first"
            ) from None
        return BlockSummary(head.block_id, slug, new_name, head.current_version, utc(created),
                            now)

    def move_head(
        self, sealer: HeadSealer, slug: str, name: str, *, current: int,
        stages: Mapping[str, int], expected_latest: int, now: datetime,
    ) -> Head:
        """Point the head at ``current`` with ``stages``, if ``latest_version`` is as expected."""
        ref_name = f"{slug}/{name}"
        if stages.get("current") != current:
            raise ValueError("stages['current'] must equal current")
        with self.transaction() as conn:
            head, _ = self._read_head(conn, sealer, slug, name)
            if head is None:
                raise BlockNotFound(f"no block {ref_name}; see 'blocks ls {slug}'")
            if head.latest_version != expected_latest:
                raise ConflictError(
                    f"{ref_name} has latest version {head.latest_version}, not the expected "
                    f"{expected_latest}: someone else wrote first"
                )
            for stage, version in stages.items():
                if not 1 <= int(version) <= expected_latest:
                    raise ValueError(f"stage {stage!r}: {ref_name} has no version {version}")
                row = conn.execute(self._exists, (head.block_id, int(version))).fetchone()
                if row is None or not row[0]:
                    raise BlockNotFound(
                        f"{ref_name} version {version} does not exist or was purged"
                    )
            new_head = sealer.seal_head(replace(
                head, current_version=current, stages=stages_json(stages), term=None, mac=None
            ))
            self._cas(conn, head, new_head, self.stamp(now))
        return new_head

    def check_refs_exist(self, slug: str, name: str, refs: Mapping[str, str]) -> None:
        """After a failed save: name the referenced blocks that no longer exist."""
        if not refs:
            return
        conn = self._connection()
        sql = self._q("SELECT 1 FROM block WHERE id = ?")
        missing = [
            (path, "the referenced block no longer exists; save it again or drop the field")
            for path, target in refs.items()
            if conn.execute(sql, (target,)).fetchone() is None
        ]
        if missing:
            raise ValidationError(f"{slug}/{name}", missing)

    # -- helpers --------------------------------------------------------------------------

    def executor(self, conn: Any) -> census.Execute:
        """Runs ``?``-placeholder SQL on ``conn`` (a DB-API connection of this writer)."""
        return lambda sql, params: conn.execute(self._q(sql), params)

    def stamp(self, now: datetime) -> Any:
        """A timestamp as the dialect stores it (SQLAlchemy's SQLite text format)."""
        if not self.sqlite:
            return now
        if now.tzinfo is not UTC:  # already UTC (every clock here): no conversion
            now = now.astimezone(UTC)
        return now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    def _read_head(
        self, conn: Any, sealer: HeadSealer, slug: str, name: str
    ) -> tuple[Head | None, Any]:
        """The verified head (locked until the transaction ends) and the creation time."""
        row = conn.execute(self._head, (slug, name)).fetchone()
        if row is None:
            return None, None
        head = Head(*row[:8])
        sealer.check_head(head, f"{slug}/{name}")
        if row[9]:
            raise IntegrityError(f"{slug}/{name}", BEYOND_HEAD)
        return head, row[8]

    def _cas(self, conn: Any, old: Head, new: Head, stamp: Any) -> None:
        params = (new.current_version, new.latest_version, new.stages, new.term, new.mac,
                  stamp, old.block_id, old.latest_version)
        if new.name != old.name:
            moved = conn.execute(self._rename, (new.name, *params)).rowcount
        else:
            moved = conn.execute(self._move, params).rowcount
        if moved != 1:
            raise ConflictError(f"{old.type_slug}/{old.name} changed during the write; retry")


def ref_message(block_id: str, path: str, target: str) -> Callable[[int], bytes]:
    """What a reference row's MAC covers."""
    return lambda t: integrity.ref_message(block_id, path, target, t)


def _locked(exc: sqlite3.OperationalError, started: float) -> Exception:
    if is_lock_timeout(exc):
        return RegistryLockedError(round(time.monotonic() - started, 1))
    return exc
