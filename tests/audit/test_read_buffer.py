"""Local read records are appended in batches, not one transaction each (issue 21's speed
target); writes stay in the transaction of their change, and the server's reads stay
fail-closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocks import Registry, Secret
from blocks.errors import AuditUnavailable
from blocks.settings import Settings
from blocks.store import audit_buffer
from tests.audit.helpers import actions
from tests.store.tamper import tamper

REF = "secret/warehouse"


def _stored(registry: Registry) -> int:
    """Audit records in the database (not through ``registry.audit``, which flushes)."""
    conn = registry.store.writer.connection()
    return int(conn.execute("SELECT COUNT(*) FROM event_log WHERE kind = 'audit'").fetchone()[0])


@pytest.fixture
def local(blocks_home: Path) -> Registry:
    registry = Registry(Settings(home=blocks_home, audit_reads=True))
    registry.init()
    Secret(value="pw").save("warehouse", registry=registry)
    yield registry
    registry.close()


def test_reads_wait_for_one_batch(local: Registry) -> None:
    before = local.audit._buffer.batches if local.audit._buffer else 0
    for _ in range(5):
        local.load(REF)
    assert _stored(local) == 1  # the write only: the five reads wait
    assert actions(local)[1:] == [("read", REF, "allowed")] * 5  # reading the trail flushes
    assert _stored(local) == 6
    assert local.audit._buffer is not None and local.audit._buffer.batches == before + 1
    assert local.audit.verify().ok


def test_a_change_takes_the_reads_waiting_in_its_transaction(local: Registry) -> None:
    local.load(REF)
    Secret(value="pw-2").save("warehouse", registry=local, overwrite=True)
    assert _stored(local) == 3  # the read went in with the write, before it
    assert [a for a, _, _ in actions(local)] == ["write", "read", "write"]


def test_close_and_the_flusher_append_what_waits(blocks_home: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry(Settings(home=blocks_home, audit_reads=True))
    registry.init()
    Secret(value="pw").save("warehouse", registry=registry)
    registry.load(REF)
    registry.close()
    again = Registry(Settings(home=blocks_home))
    try:
        assert [a for a, _, _ in actions(again)] == ["write", "read"]
        monkeypatch.setattr(audit_buffer, "INTERVAL", 0.0)
        again.audit.reads = True
        again.load(REF)
        buffer = again.audit._buffer
        assert buffer is not None and buffer._thread is not None  # the flusher runs
        buffer._thread.join(timeout=30)  # idle after its batch, it ends
        assert _stored(again) == 3
    finally:
        again.close()


def test_a_batch_that_cannot_be_written_refuses_reads_until_one_can(local: Registry) -> None:
    tamper(local.store.url, "CREATE TRIGGER no_audit BEFORE INSERT ON event_log WHEN "
                            "NEW.kind = 'audit' BEGIN SELECT RAISE(ABORT, 'no'); END")
    local.load(REF)
    with pytest.raises(AuditUnavailable, match="could not record 1 read"):
        local.audit.flush()
    with pytest.raises(AuditUnavailable, match="reads are refused"):
        local.load(REF)
    tamper(local.store.url, "DROP TRIGGER no_audit")
    assert local.load(REF).get() == "pw"  # type: ignore[attr-defined]
    assert actions(local) == [("write", REF, "allowed"), *[("read", REF, "allowed")] * 2]
    assert local.audit.verify().ok


def test_the_server_trail_does_not_buffer() -> None:
    from blocks.server.audit_requests import ServerAuditTrail

    assert ServerAuditTrail.buffers_reads is False
