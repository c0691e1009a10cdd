"""A write lock held past the busy timeout gives a one-line RegistryLockedError."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from blocks import Registry, Secret, Settings
from blocks.cli.main import main
from blocks.errors import RegistryLockedError
from blocks.pools import WorkPool
from blocks.store import engine


@pytest.fixture
def locked(blocks_home: Path, monkeypatch: pytest.MonkeyPatch) -> sqlite3.Connection:
    """A registry whose database another writer holds locked; writers wait 0.2 s."""
    reg = Registry(Settings(home=blocks_home))
    reg.init()
    Secret(value="x").save("s", registry=reg)
    WorkPool(name="proc", type="process").save(registry=reg)
    reg.close()
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(blocks_home / "blocks.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield holder
    holder.execute("ROLLBACK")
    holder.close()


def test_save_and_pool_save_say_the_registry_is_locked(
    locked: sqlite3.Connection, blocks_home: Path
) -> None:
    reg = Registry(Settings(home=blocks_home))
    assert reg.load("secret/s").get() == "x"  # readers are not blocked
    with pytest.raises(RegistryLockedError, match=r"locked by another writer; waited 0\.\d+ s"):
        reg.save(Secret(value="y"), "s", overwrite=True)
    with pytest.raises(RegistryLockedError, match="locked by another writer"):
        reg.rename("secret/s", "t")
    pool = WorkPool(name="proc", type="process", description="blocked")
    with pytest.raises(RegistryLockedError, match="locked by another writer"):
        pool.save(overwrite=True, registry=reg)
    reg.close()


def test_cli_shows_one_line_and_exits_1(
    locked: sqlite3.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "doc.json"
    doc.write_text('{"value": "y"}')
    assert main(["save", "secret/s", "--file", str(doc), "--overwrite"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "registry is locked by another writer; waited" in err
    assert "internal error" not in err


def test_pool_reads_and_verify_do_not_wait_for_a_writer(
    locked: sqlite3.Connection, blocks_home: Path
) -> None:
    """Reads of pools and queues, ``render_job`` and ``blocks verify`` take a WAL snapshot
    (plain BEGIN), not the write lock (BEGIN IMMEDIATE): a writer holding the lock (here for
    longer than the busy timeout) does not make them fail or wait."""
    from blocks.verify import verify

    reg = Registry(Settings(home=blocks_home))
    pool = WorkPool.load("proc", registry=reg)
    assert pool.type == "process"
    assert [p.name for p in WorkPool.list_pools(registry=reg)] == ["proc"]
    assert [q.name for q in pool.queues()] == ["default"]
    assert len(WorkPool.history("proc", registry=reg)) == 1
    assert pool.render_job({"env": {"MODE": "x"}}, registry=reg).masked()  # renders too
    assert verify(reg).ok
    reg.close()
