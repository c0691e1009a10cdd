"""After rm, keys purge and keys retire the shredded bytes are in no file, WAL included."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from blocks import Registry, Secret, Settings
from blocks.key_management import KeyManager
from tests.cli_process import run_cli


def wrapped_keys(db: Path, name: str, version: int | None = None) -> list[bytes]:
    """The wrapped data keys of block ``secret/name`` (one version, or all)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT v.version, v.wrapped_key FROM block_version v JOIN block b "
            "ON b.id = v.block_id WHERE b.name = ? AND v.wrapped_key IS NOT NULL", (name,)
        ).fetchall()
    return [bytes(k) for v, k in rows if version is None or v == version]


def term_key(db: Path, term: int) -> bytes:
    with sqlite3.connect(db) as conn:
        return bytes(conn.execute("SELECT wrapped_key FROM keyring_term WHERE term = ?",
                                  (term,)).fetchone()[0])


def files(db: Path) -> bytes:
    """Every file of the database as it is right now (no checkpoint by the test)."""
    return b"".join(p.read_bytes() for p in sorted(db.parent.glob("blocks.db*")))


def test_purge_rm_retire_leave_nothing_in_the_wal(sqlite_registry: Registry) -> None:
    reg = sqlite_registry
    db = reg.settings.home / "blocks.db"
    reg.save(Secret(value="one"), "api")
    reg.save(Secret(value="two"), "api", overwrite=True)
    reg.save(Secret(value="gone"), "gone")
    old = wrapped_keys(db, "api", 1)
    assert old and old[0] in files(db)

    KeyManager(reg).purge("secret/api", 1)
    assert old[0] not in files(db)

    gone = wrapped_keys(db, "gone")
    reg.delete("secret/gone")
    assert gone and gone[0] in files(db)  # kept for an undo within the recovery window
    assert [d.ref for d in reg.gc(now=datetime.now(UTC) + timedelta(days=8)).shredded] == [
        "secret/gone"]
    assert gone[0] not in files(db)

    keys = KeyManager(reg)
    keys.rotate()
    keys.rewrap()
    retired = term_key(db, 1)
    keys.retire(1)
    assert retired not in files(db)
    assert (db.parent / "blocks.db-wal").stat().st_size == 0


@pytest.mark.slow
def test_cli_rm_and_purge_leave_nothing_in_the_wal(blocks_home: Path) -> None:
    reg = Registry(Settings(home=blocks_home))
    reg.save(Secret(value="one"), "api")
    reg.save(Secret(value="two"), "api", overwrite=True)
    reg.save(Secret(value="gone"), "gone")
    db = blocks_home / "blocks.db"
    old, gone = wrapped_keys(db, "api", 1), wrapped_keys(db, "gone")
    reg.close()
    env = {**os.environ, "BLOCKS_HOME": str(blocks_home)}
    for argv in (["keys", "purge", "secret/api", "--version", "1", "--yes"],
                 ["rm", "secret/gone", "--now", "--yes"]):
        run_cli(argv, env=env, check=True)
    on_disk = files(db)
    assert len(old + gone) == 2 and all(k not in on_disk for k in old + gone)
    retired = term_key(db, 1)
    for argv in (["keys", "rotate"], ["keys", "rewrap"], ["keys", "retire", "1", "--yes"]):
        run_cli(argv, env=env, check=True)
    assert retired not in files(db)
