"""The SQL store: blocks, versions, references and keyring terms on SQLite or PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from blocks import _nowait
from blocks.crypto.keyring import TermRecord
from blocks.errors import BlocksError, StoreError
from blocks.store import audit_log, census, chain, generation, terms
from blocks.store.deletion import delete_block
from blocks.store.engine import (
    ReadConnections,
    create_engine,
    display_url,
    is_lock_timeout,
    native_sql,
)
from blocks.store.migrations import HEAD_REVISION
from blocks.store.ports import HeadSealer
from blocks.store.records import (
    BlockSummary,
    Head,
    SealedVersion,
    StoredVersion,
    VersionInfo,
    check_expected_version,
)
from blocks.store.records import utc as utc
from blocks.store.writer import Writer

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

T = TypeVar("T")
# A LEFT JOIN: a head whose version row is gone must be seen (and refused), not look absent.
_VERSION_COLUMNS = (
    "SELECT b.id, b.type_slug, b.name, v.version, b.current_version, v.term, v.wrapped_key, "
    "v.ciphertext, b.latest_version, b.stages, b.head_term, b.head_mac, "
    # one indexed lookup: an old sealed head put back while newer versions exist is refused
    "EXISTS (SELECT 1 FROM block_version n WHERE n.block_id = b.id "
    "AND n.version > b.latest_version) OR EXISTS (SELECT 1 FROM block_deletion d "
    "WHERE d.block_id = b.id AND substr(b.name, 1, 1) <> '~') "
    "FROM block b LEFT JOIN block_version v ON v.block_id = b.id "
)
_SQL_CURRENT = _VERSION_COLUMNS + (
    "AND v.version = b.current_version WHERE b.type_slug = ? AND b.name = ?"
)
_SQL_AT_VERSION = _VERSION_COLUMNS + "AND v.version = ? WHERE b.type_slug = ? AND b.name = ?"
# A deleted block (its head named "~" + id) is out of reference resolution at once.
_SQL_BY_ID = _VERSION_COLUMNS + (
    "AND v.version = b.current_version WHERE b.id = ? AND substr(b.name, 1, 1) <> '~'"
)


class SqlStore:
    """Blocks and keyring terms in one SQL database.

    Args:
        url: SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://...``).
        synchronous: SQLite ``synchronous`` pragma.
        auto_migrate: apply migrations on first use when the schema is behind.
    """

    def __init__(self, url: str, *, synchronous: str = "NORMAL", auto_migrate: bool = True):
        self.url = url
        self._synchronous = synchronous
        self._auto_migrate = auto_migrate
        self._reads = ReadConnections(url, synchronous)
        self.writer = Writer(self._reads.get, self._reads.sqlite)
        self.writer.before_commit = self._before_commit
        self.sealer: HeadSealer | None = None  # set by the Registry that owns the keyring
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._schema_ok = False

    def __repr__(self) -> str:
        return f"SqlStore({display_url(self.url)!r})"

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return "sqlite" if self._reads.sqlite else "postgresql"

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (created, and the schema checked, on first use)."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = self._audited(create_engine(self.url, self._synchronous))
        self.ensure_schema()
        return self._engine

    def _before_commit(self, conn: Any) -> None:
        """Append the audit records staged for this transaction's change (same connection)."""
        if audit_log.has_pending():
            audit_log.flush(conn, self.writer, self.sealer)

    def _audited(self, engine: Engine) -> Engine:
        from sqlalchemy import event

        def commit(conn: Any) -> None:
            if audit_log.has_pending():
                audit_log.flush(conn.connection.driver_connection, self.writer, self.sealer)

        event.listen(engine, "commit", commit)
        return engine

    def mark(self) -> generation.Mark | None:
        """A mark that stays equal while the database is unchanged as this thread reads it
        (:mod:`blocks.store.generation`; ``None`` on PostgreSQL)."""
        return self._reads.mark()

    def close(self) -> None:
        """Close every connection."""
        self._reads.close()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # -- schema ---------------------------------------------------------------------------

    def schema_revision(self) -> str | None:
        """The database's alembic revision, or ``None`` for an empty database."""
        try:
            row = self._fetchone("SELECT version_num FROM alembic_version", ())
        except Exception as exc:
            if _is_missing_table(exc):  # read connections autocommit: nothing to roll back
                return None
            raise
        return row[0] if row else None

    def ensure_schema(self) -> None:
        """Migrate to the head revision if needed (once per store object)."""
        if self._schema_ok:
            return
        _nowait.check()  # a migration may run
        if self.schema_revision() != HEAD_REVISION:
            if not self._auto_migrate:
                raise StoreError(
                    f"the database at {display_url(self.url)} is not initialised or is behind; "
                    "run 'blocks init'"
                )
            if self._engine is None:
                with self._lock:
                    if self._engine is None:
                        self._engine = self._audited(create_engine(self.url, self._synchronous))
            from blocks.store.migrate import upgrade

            upgrade(self._engine)
        self._schema_ok = True

    def checkpoint(self) -> None:
        """Move the SQLite write-ahead log into the database file and truncate it to zero.

        Called after shredding (delete, purge, retire): until a checkpoint, ``blocks.db-wal``
        still holds the pages written before, wrapped data keys and ciphertexts included.
        Best effort: a reader in another process holding an old snapshot keeps those frames
        until it finishes. A no-op on PostgreSQL.
        """
        if not self._reads.sqlite:
            return
        self._reads.get().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    # -- reads (DB-API fast path) ---------------------------------------------------------

    def get_version(self, slug: str, name: str, version: int | None = None) -> StoredVersion | None:
        """One version of a block (the current one by default)."""
        self.ensure_schema()
        if version is None:
            row = self._fetchone(_SQL_CURRENT, (slug, name))
        else:
            row = self._fetchone(_SQL_AT_VERSION, (version, slug, name))
        return StoredVersion(*row) if row else None

    def get_current_by_id(self, block_id: str) -> StoredVersion | None:
        """The current version of the block with this id."""
        self.ensure_schema()
        row = self._fetchone(_SQL_BY_ID, (block_id,))
        return StoredVersion(*row) if row else None

    def _read(self, sql: str, params: tuple[Any, ...], fetch: Callable[[Any], T]) -> T:
        try:
            cursor = self._reads.get().execute(native_sql(sql, self._reads.sqlite), params)
            return fetch(cursor)
        except Exception as exc:
            if is_lock_timeout(exc) and _nowait.active():
                raise _nowait.WouldBlock from None
            raise translate(exc, self.url) from None

    def row_exists(self, table: str, column: str, value: str) -> bool:
        """Whether ``table`` has a row whose ``column`` is ``value``: one indexed read on the
        DB-API connection of the load path, for the tables of packages above the store (the
        mirrors' ``block_mirror``). ``table`` and ``column`` are names from code, never input.
        """
        sql = f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1"  # noqa: S608 - names from code
        return self._fetchone(sql, (value,)) is not None

    def _fetchone(self, sql: str, params: tuple[Any, ...]) -> Any:
        return self._read(sql, params, lambda cursor: cursor.fetchone())

    def _fetchall(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        return self._read(sql, params, lambda cursor: list(cursor.fetchall()))

    # -- keyring terms --------------------------------------------------------------------

    def load_terms(self) -> Sequence[TermRecord]:
        """Every keyring term, oldest first."""
        self.ensure_schema()
        return terms.records(self._fetchall(terms.SQL_TERMS, ()))

    def has_terms(self) -> bool:
        """True when the keyring has a term (no migration is run: for a schema of any age)."""
        try:
            return self._fetchone("SELECT 1 FROM keyring_term LIMIT 1", ()) is not None
        except Exception as exc:
            if _is_missing_table(exc):
                return False
            raise

    def insert_term(self, record: TermRecord) -> None:
        """Add a keyring term (``ConflictError`` if the number is taken); see
        :func:`blocks.store.terms.insert_term`."""
        terms.insert_term(self.engine, self.dialect, record)

    # -- block writes ---------------------------------------------------------------------

    def save_version(
        self,
        slug: str,
        name: str,
        *,
        overwrite: bool,
        expected_version: int | None,
        seal: Callable[[str, int], SealedVersion],
        refs: Mapping[str, str],
        schema_checksum: str,
        schema_version: str,
        note: str | None,
        now: datetime,
        new_id: Callable[[], str],
        stage: str | None = None,
    ) -> VersionInfo:
        """Append a version and move the sealed head, atomically (compare-and-set).

        ``seal(block_id, version)`` is called inside the transaction, once the id and the new
        version number are known, so the ciphertext is bound to exactly that row. ``stage``
        stages the version (head's current stays; see ``Writer.save_version``).
        """
        check_expected_version(expected_version, f"{slug}/{name}")
        self.ensure_schema()
        return self._guard(lambda: self.writer.save_version(
            self._require_sealer(), slug, name, overwrite=overwrite,
            expected_version=expected_version, seal=seal, refs=refs,
            schema_checksum=schema_checksum, schema_version=schema_version, note=note, now=now,
            new_id=new_id, stage=stage,
        ))

    def rename_block(
        self, slug: str, name: str, new_name: str, *, expected_version: int | None, now: datetime
    ) -> BlockSummary:
        """Give a block a new name: same id, versions and references (they are by id).

        Raises:
            BlockNotFound: no such block.
            ConflictError: ``new_name`` is taken, or the version is not ``expected_version``.
            IntegrityError: the stored head does not authenticate.
        """
        check_expected_version(expected_version, f"{slug}/{name}")
        self.ensure_schema()
        return self._guard(lambda: self.writer.rename(
            self._require_sealer(), slug, name, new_name, expected_version=expected_version,
            now=now,
        ))

    def move_head(
        self, slug: str, name: str, *, current: int, stages: Mapping[str, int],
        expected_latest: int, now: datetime,
    ) -> Head:
        """Move a block's current pointer and stages under compare-and-set on the latest version."""
        self.ensure_schema()
        return self._guard(lambda: self.writer.move_head(
            self._require_sealer(), slug, name, current=current, stages=stages,
            expected_latest=expected_latest, now=now,
        ))

    def _require_sealer(self) -> HeadSealer:
        if self.sealer is None:
            raise StoreError("this store has no head sealer; write through a Registry")
        return self.sealer

    def _guard(self, write: Callable[[], T]) -> T:
        try:
            return write()
        except (BlocksError, ValueError, TypeError):
            raise
        except Exception as exc:  # a DB-API error: one line, no SQL parameters
            raise translate(exc, self.url) from None

    def delete_block(self, slug: str, name: str) -> None:
        """Delete a block with every version (refused while other blocks reference it); see
        :func:`blocks.store.deletion.delete_block`."""
        delete_block(self, self._require_sealer(), slug, name)

    def executor(self, conn: Connection) -> census.Execute:
        """Runs ``?``-placeholder SQL on a SQLAlchemy connection of this store."""
        sqlite = self._reads.sqlite
        return lambda sql, params: conn.exec_driver_sql(native_sql(sql, sqlite), params)

    # -- listings -------------------------------------------------------------------------

    def list_blocks(self, slug: str | None = None) -> list[BlockSummary]:
        """Blocks ordered by type and name, optionally of one type."""
        sql = ("SELECT id, type_slug, name, current_version, created_at, updated_at FROM block "
               "WHERE substr(name, 1, 1) <> '~'")  # deleted blocks wait under "~" + id
        params: tuple[Any, ...] = ()
        if slug is not None:
            sql, params = sql + " AND type_slug = ?", (slug,)
        self.ensure_schema()
        rows = self._fetchall(sql + " ORDER BY type_slug, name", params)
        return [BlockSummary(i, s, n, v, utc(c), utc(u)) for i, s, n, v, c, u in rows]

    def summary(self, slug: str, name: str) -> BlockSummary | None:
        """One block's summary."""
        self.ensure_schema()
        row = self._fetchone(
            "SELECT id, type_slug, name, current_version, created_at, updated_at FROM block "
            "WHERE type_slug = ? AND name = ?", (slug, name),
        )
        if row is None:
            return None
        return BlockSummary(row[0], row[1], row[2], row[3], utc(row[4]), utc(row[5]))

    def snapshot(self) -> AbstractContextManager[Any]:
        """Reads inside see the database as of one moment, though other connections commit
        meanwhile (a read transaction: SQLite's WAL snapshot, PostgreSQL's repeatable read).
        For reads checked against each other, such as a history against its sealed head."""
        return chain.snapshot(self.writer)

    def history(self, slug: str, name: str) -> list[VersionInfo]:
        """Every version's metadata, oldest first."""
        self.ensure_schema()
        rows = self._fetchall(
            "SELECT b.id, v.version, v.created_at, v.term, v.schema_checksum, v.note, "
            "v.wrapped_key IS NULL FROM block b JOIN block_version v ON v.block_id = b.id "
            "WHERE b.type_slug = ? AND b.name = ? ORDER BY v.version", (slug, name),
        )
        return [
            VersionInfo(i, slug, name, v, utc(c), t, cs, note, bool(shred))
            for i, v, c, t, cs, note, shred in rows
        ]


def _is_missing_table(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def translate(exc: Exception, url: str) -> Exception:
    """A DB-API error as the one-line error Blocks raises (no SQL parameters)."""
    if _is_missing_table(exc):
        return exc
    if isinstance(exc, StoreError):
        return exc
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StoreError(f"database error at {display_url(url)}: {first}")
