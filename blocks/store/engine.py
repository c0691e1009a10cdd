"""Connections: a SQLAlchemy engine for writes and migrations, raw DB-API for hot reads.

Point reads (``load``) skip SQLAlchemy entirely: a fresh process loading one block must not pay
for importing it, and a load must cost tens of microseconds. Each thread keeps one read
connection; a forked child opens its own.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from blocks import _nowait
from blocks.errors import ConfigurationError, MissingExtraError, RegistryLockedError, StoreError
from blocks.private_files import private_file
from blocks.store import generation

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

SQLITE_PREFIX = "sqlite:///"
BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    """True for ``sqlite:///path`` URLs."""
    return url.startswith("sqlite:")


def sqlite_path(url: str) -> str:
    """The file path of a ``sqlite:///path`` URL (in-memory databases are refused)."""
    if not url.startswith(SQLITE_PREFIX):
        raise ConfigurationError(
            f"SQLite URL must look like sqlite:///path/to/file.db, got {url!r}"
        )
    path = unquote(url[len(SQLITE_PREFIX) :].split("?", 1)[0])
    if path in ("", ":memory:"):
        raise ConfigurationError(
            "an in-memory SQLite database cannot be shared between connections; "
            "use a file: sqlite:///path/to/blocks.db"
        )
    return path


def normalise_url(url: str) -> str:
    """Use the psycopg (v3) driver for plain ``postgresql://`` URLs."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def display_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages and status output)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


def ensure_parent(path: str) -> None:
    """Create the database file (0600) and its directory (0700) if they do not exist."""
    private_file(path)


def busy_timeout_seconds() -> float:
    """How long a writer waits for another writer's lock before giving up."""
    return BUSY_TIMEOUT_MS / 1000


def is_lock_timeout(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" (the busy timeout ran out)."""
    return isinstance(exc, sqlite3.OperationalError) and (
        "database is locked" in str(exc) or "database table is locked" in str(exc)
    )


def native_sql(sql: str, sqlite: bool) -> str:
    """Our DB-API SQL is written with ``?`` placeholders; psycopg wants ``%s``."""
    return sql if sqlite else sql.replace("?", "%s")


def sqlite_pragmas(conn: Any, synchronous: str, *, busy_ms: int | None = None) -> None:
    """Per-connection settings every SQLite connection of ours uses (``busy_ms``: the busy
    timeout, set first as the other pragmas may meet a lock)."""
    cur = conn.cursor()
    busy = int(busy_timeout_seconds() * 1000) if busy_ms is None else busy_ms
    cur.execute(f"PRAGMA busy_timeout = {busy}")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute(f"PRAGMA synchronous = {synchronous}")
    # Deleted rows (shredded data keys) are overwritten, not left in free pages.
    cur.execute("PRAGMA secure_delete = ON")
    cur.close()


def create_engine(url: str, synchronous: str) -> Engine:
    """A SQLAlchemy engine for writes and migrations."""
    import sqlalchemy
    from sqlalchemy import event

    url = normalise_url(url)
    if is_sqlite(url):
        ensure_parent(sqlite_path(url))
        engine = sqlalchemy.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": busy_timeout_seconds()}
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode = WAL")
            cur.close()
            sqlite_pragmas(dbapi_conn, synchronous)

        @event.listens_for(engine, "handle_error")
        def _on_error(context: Any) -> None:
            # A writer held the lock past the busy timeout: say so, in one line.
            if is_lock_timeout(context.original_exception):
                raise RegistryLockedError(busy_timeout_seconds()) from None

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Take the write lock up front: two deferred transactions that both read and then
            # write would otherwise fail with "database is locked" instead of waiting. Readers
            # (``read_only(engine)``) take a plain snapshot: WAL lets them read beside a writer.
            if conn.get_execution_options().get(READ_ONLY_OPTION):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql+psycopg"):
        _require_psycopg()
        return sqlalchemy.create_engine(url, pool_pre_ping=True)
    raise ConfigurationError(
        f"unsupported database URL {display_url(url)!r}: use sqlite:///path or "
        "postgresql+psycopg://user@host/db"
    )


READ_ONLY_OPTION = "blocks_read_only"


def read_only(engine: Engine) -> Engine:
    """``engine`` for transactions that only read, each seeing the database as of one moment
    though writers commit meanwhile (reads in one are checked against each other: heads
    against versions, censuses against rows). On SQLite they begin with a plain ``BEGIN`` (a
    WAL snapshot that neither waits for nor blocks a writer) instead of ``BEGIN IMMEDIATE``;
    on PostgreSQL they are ``REPEATABLE READ`` (its default, read committed, gives each
    statement a snapshot of its own). A write inside one can fail at once with "database is
    locked" or a serialization error: never write through it."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(**{READ_ONLY_OPTION: True},
                                        isolation_level="REPEATABLE READ")
    return engine.execution_options(**{READ_ONLY_OPTION: True})


class ReadConnections:
    """One DB-API connection per thread (and per process) for point reads."""

    def __init__(self, url: str, synchronous: str) -> None:
        self.url = normalise_url(url)
        self.sqlite = is_sqlite(self.url)
        self.paramstyle = "qmark" if self.sqlite else "format"
        self._synchronous = synchronous
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    def get(self) -> Any:
        """This thread's connection (opened on first use); inside ``without_waiting``, its
        SQLite connection without a busy timeout (a lock raises ``WouldBlock`` at once)."""
        local = self._local
        if _nowait.active():
            return self._nowait_connection(local)
        if getattr(local, "pid", None) != os.getpid():
            local.conn = self._connect()
            local.pid = os.getpid()
            with self._lock:
                self._all.append(local.conn)
        return local.conn

    def _nowait_connection(self, local: Any) -> Any:
        if not self.sqlite:
            raise _nowait.WouldBlock  # a network round trip
        if getattr(local, "nowait_pid", None) != os.getpid():
            conn = self._connect(busy_ms=0)
            local.nowait_conn, local.nowait_pid = conn, os.getpid()
            with self._lock:
                self._all.append(conn)
        return local.nowait_conn

    def mark(self) -> generation.Mark | None:
        """This thread's connection's :func:`blocks.store.generation.mark` (SQLite; ``None``
        for PostgreSQL, which has none)."""
        if not self.sqlite:
            return None
        try:
            conn = self.get()
        except sqlite3.Error:  # opening met a lock (no busy timeout here): the read says more
            return None
        return generation.mark(conn)

    def close(self) -> None:
        """Close every connection this process opened."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            generation.forget(conn)
            with contextlib.suppress(Exception):  # closing is best effort
                conn.close()
        self._local = threading.local()

    def _connect(self, *, busy_ms: int | None = None) -> Any:
        if self.sqlite:
            path = sqlite_path(self.url)
            ensure_parent(path)
            timeout = busy_timeout_seconds() if busy_ms is None else busy_ms / 1000
            try:
                conn = sqlite3.connect(
                    path, timeout=timeout, isolation_level=None,
                    check_same_thread=False, cached_statements=64,
                )
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open the SQLite database {path}: {exc}") from None
            try:
                sqlite_pragmas(conn, self._synchronous, busy_ms=busy_ms)
            except BaseException:
                conn.close()
                raise
            return conn
        psycopg = _require_psycopg()
        from sqlalchemy.engine import make_url

        conninfo = make_url(self.url).set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        try:
            return psycopg.connect(conninfo, autocommit=True)
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(
                f"cannot connect to {display_url(self.url)}: {reason}"
            ) from None


def _require_psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise MissingExtraError("psycopg", "postgres", "a PostgreSQL store") from None
    return psycopg
