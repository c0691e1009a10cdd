"""The SQLite mark that says "nothing changed" (blocks/store/generation.py) and the memos built on
it: a repeated load or authentication skips its reads while the database is unchanged, and any
change (by another connection, another process, or this very connection) is seen at once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from blocks import Registry, Secret, Settings
from blocks.errors import BlockNotFound, Unauthorized
from blocks.store import chain, generation
from blocks.store.generation import Memo
from tests.access.helpers import access_store, put


def _db(tmp_path: Path) -> tuple[sqlite3.Connection, Path]:
    path = tmp_path / "g.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (x INTEGER)")
    return conn, path


def test_the_mark_moves_with_another_connections_commit(tmp_path: Path) -> None:
    conn, path = _db(tmp_path)
    first = generation.mark(conn)
    assert generation.mark(conn) == first
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("INSERT INTO t VALUES (1)")
    assert generation.mark(conn) != first


def test_the_mark_moves_with_another_process_commit(tmp_path: Path) -> None:
    conn, path = _db(tmp_path)
    first = generation.mark(conn)
    subprocess.run([sys.executable, "-c", "import sqlite3, sys; "
                    "sqlite3.connect(sys.argv[1], isolation_level=None)"
                    ".execute('INSERT INTO t VALUES (2)')", str(path)], check=True)
    assert generation.mark(conn) != first


def test_the_mark_moves_with_the_connections_own_write_unless_exempt(tmp_path: Path) -> None:
    conn, _ = _db(tmp_path)
    first = generation.mark(conn)
    conn.execute("INSERT INTO t VALUES (3)")  # data_version alone would not move here
    second = generation.mark(conn)
    assert second != first
    with generation.exempt(conn):
        conn.execute("INSERT INTO t VALUES (4)")
    assert generation.mark(conn) == second
    conn.execute("DELETE FROM t")
    assert generation.mark(conn) != second


def test_a_memo_serves_only_under_the_mark_it_was_made_under() -> None:
    memo: Memo[int] = Memo(size=2)
    made: list[int] = []

    def make(value: int) -> Any:
        return lambda: made.append(value) or value

    assert memo.get("k", (1, 1, 0), make(1)) == 1
    assert memo.get("k", (1, 1, 0), make(2)) == 1
    assert memo.get("k", (1, 2, 0), make(3)) == 3
    assert memo.get("k", None, make(4)) == 4  # no mark: made, never kept
    assert memo.get("k", None, make(5)) == 5
    assert made == [1, 3, 4, 5]


def _count_statements(registry: Registry) -> list[str]:
    statements: list[str] = []
    registry.store.writer.connection().set_trace_callback(statements.append)
    return statements


def test_a_repeated_load_reads_no_row_while_nothing_changed(sqlite_registry: Registry) -> None:
    Secret(value="v1").save("api", registry=sqlite_registry)
    assert Secret.load("api", registry=sqlite_registry).value.get_secret_value() == "v1"
    statements = _count_statements(sqlite_registry)
    assert Secret.load("api", registry=sqlite_registry).value.get_secret_value() == "v1"
    assert statements and all(s.startswith("PRAGMA data_version") for s in statements), statements


def test_a_save_through_the_same_connection_is_loaded_at_once(sqlite_registry: Registry) -> None:
    Secret(value="v1").save("api", registry=sqlite_registry)
    assert Secret.load("api", registry=sqlite_registry).value.get_secret_value() == "v1"
    Secret(value="v2").save("api", registry=sqlite_registry, overwrite=True)
    assert Secret.load("api", registry=sqlite_registry).value.get_secret_value() == "v2"


def test_a_change_by_another_registry_is_seen_by_the_next_load(
        sqlite_registry: Registry, blocks_home: Path) -> None:
    Secret(value="v1").save("api", registry=sqlite_registry)
    assert Secret.load("api", registry=sqlite_registry).value.get_secret_value() == "v1"
    other = Registry(Settings(home=blocks_home))
    try:
        Secret(value="v2").save("api", registry=other, overwrite=True)
        assert Secret.load("api", registry=sqlite_registry).value.get_secret_value() == "v2"
        other.delete("secret/api", recovery_window=0)
    finally:
        other.close()
    with pytest.raises(BlockNotFound):
        Secret.load("api", registry=sqlite_registry)


def test_each_thread_reads_under_its_own_mark(sqlite_registry: Registry) -> None:
    Secret(value="v1").save("api", registry=sqlite_registry)
    assert Secret.load("api", registry=sqlite_registry).value.get_secret_value() == "v1"
    seen: list[str] = []

    def other_thread() -> None:
        Secret(value="v2").save("api", registry=sqlite_registry, overwrite=True)
        seen.append(Secret.load("api", registry=sqlite_registry).value.get_secret_value())

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(30)
    assert seen == ["v2"]
    assert Secret.load("api", registry=sqlite_registry).value.get_secret_value() == "v2"


def test_audit_appends_on_the_connection_keep_the_memo_but_a_revoke_does_not(
        sqlite_registry: Registry) -> None:
    store = access_store(sqlite_registry)
    put(store, "app", {"blocks": {"secret/*": ["read"]}})
    token, info = store.create_token("worker", ["app"])
    store.authenticate(token)
    conn = sqlite_registry.store.writer.connection()
    before = sqlite_registry.store.mark()
    with generation.exempt(conn):  # what the server's audit batcher does on its connection
        conn.execute("BEGIN IMMEDIATE")
        chain.append(conn, sqlite_registry.store.writer, sqlite_registry.sealer, [
            chain.NewEvent(chain.AUDIT, "", datetime.now(UTC), "test", "{}")])
        conn.execute("COMMIT")
    assert conn.total_changes > 0 and sqlite_registry.store.mark() == before
    other = access_store(Registry(Settings(home=sqlite_registry.settings.home)))
    other.revoke(info.id)
    with pytest.raises(Unauthorized):
        store.authenticate(token)
