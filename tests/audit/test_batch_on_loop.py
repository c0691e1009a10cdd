"""The server's group commit of audit records: on the event loop when nothing has to wait,
in the writer thread otherwise; fail closed either way (issue 21's throughput target)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from blocks import Registry, Secret, Settings
from blocks.audit_trail import AuditTrail
from blocks.errors import AuditUnavailable
from blocks.server import audit_batch
from blocks.server.audit_batch import AuditBatcher
from blocks.store import engine
from blocks.store.audit_log import Pending
from tests.store.tamper import tamper


@pytest.fixture
def local(blocks_home: Path) -> Registry:
    registry = Registry(Settings(home=blocks_home))
    registry.init()
    Secret(value="pw").save("warehouse", registry=registry)
    yield registry
    registry.close()


def _records(registry: Registry, batcher: AuditBatcher, count: int) -> None:
    trail = registry.audit

    def make() -> Pending:
        return AuditTrail._pending(trail, "read", "blocks", "secret/warehouse", None, None,
                                   None, None)

    async def requests() -> None:
        await asyncio.gather(*(batcher.record(make) for _ in range(count)))

    asyncio.run(requests())


def test_one_turn_of_the_loop_commits_its_records_on_the_loop(local: Registry) -> None:
    batcher = AuditBatcher(local)
    try:
        _records(local, batcher, 3)
        assert (batcher.batches, batcher.loop_batches) == (1, 1)
        assert [e.action for e in local.audit.ls()] == ["read", "read", "read", "write"]
        assert local.audit.verify().ok
    finally:
        batcher.close()


def test_a_lock_held_elsewhere_sends_the_batch_to_the_writer_thread(local: Registry) -> None:
    batcher = AuditBatcher(local)
    other = sqlite3.connect(engine.sqlite_path(local.store.url), isolation_level=None,
                            check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    release = threading.Timer(0.2, lambda: other.execute("COMMIT"))
    release.start()
    try:
        _records(local, batcher, 2)  # answered once the thread could write them
        assert (batcher.batches, batcher.loop_batches) == (1, 0)
        assert local.audit.verify().records == 3
    finally:
        release.join()
        other.close()
        batcher.close()


def test_a_record_that_cannot_be_written_fails_every_request_of_its_batch(
        local: Registry) -> None:
    tamper(local.store.url, "CREATE TRIGGER no_audit BEFORE INSERT ON event_log WHEN "
                            "NEW.kind = 'audit' BEGIN SELECT RAISE(ABORT, 'no'); END")
    batcher = AuditBatcher(local)
    try:
        with pytest.raises(AuditUnavailable, match="could not record this request"):
            _records(local, batcher, 2)
        assert batcher.batches == 0
    finally:
        batcher.close()
    assert local.audit.verify().records == 1


def test_the_wal_starts_over_under_steady_load(local: Registry,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches committed on the loop while the writer thread checkpoints kept SQLite from ever
    starting the WAL over: it grew ~14 KB a record without bound (41 MB after 3,000)."""
    monkeypatch.setattr(audit_batch, "CHECKPOINT_EVERY", 50)
    wal = Path(engine.sqlite_path(local.store.url) + "-wal")
    trail = local.audit
    batcher = AuditBatcher(local)

    def make() -> Pending:
        return AuditTrail._pending(trail, "read", "blocks", "secret/warehouse", None, None,
                                   None, None)

    async def steady() -> list[int]:  # one request after another, no pause between them
        sizes = []
        for i in range(2000):
            await batcher.record(make)
            if i % 250 == 249:
                sizes.append(wal.stat().st_size)
        return sizes

    try:
        sizes = asyncio.run(steady())
    finally:
        batcher.close()
    # 50 transactions of ~3 pages between checkpoints, plus the batches queued behind one.
    assert max(sizes) < 2_000_000, sizes
    assert batcher.loop_batches > batcher.batches * 0.9  # the loop still writes nearly all
    report = local.audit.verify()
    assert report.ok and report.records == 2001
