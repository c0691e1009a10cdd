"""Retention (a sealed checkpoint) and key rotation keep the trail verifiable (issue 21)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from blocks import Registry, Secret
from blocks.errors import IntegrityError, KeyringError
from blocks.key_management import KeyManager
from tests.audit.helpers import actions, problems, records
from tests.store.tamper import tamper


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_prune_keeps_the_rest_verifiable(registry: Registry) -> None:
    clock = Clock()
    registry._clock = clock
    registry.audit.reads = True
    for day in range(10):
        clock.now = datetime(2026, 1, 1 + day, tzinfo=UTC)
        Secret(value=f"pw-{day}").save("warehouse", registry=registry, overwrite=True)
        registry.load("secret/warehouse")
    # local reads are appended in batches: one may land after a later write (its time is its own)
    older = [e.seq for e in records(registry) if e.at < datetime(2026, 1, 6, tzinfo=UTC)]
    assert registry.audit.prune("2026-01-06") == len(older) == 10
    kept = records(registry)
    assert kept[0].at.date().isoformat() == "2026-01-06"
    assert [a for a, _, _ in actions(registry)][-1] == "prune"
    report = registry.audit.verify()
    assert report.pruned_through == max(older) and report.records == len(kept)
    assert problems(registry) == ([], [])
    assert registry.audit.prune("2026-01-06") == 0  # nothing older is left
    clock.now = datetime(2026, 2, 1, tzinfo=UTC)
    Secret(value="later").save("warehouse", registry=registry, overwrite=True)
    assert registry.audit.prune("2026-01-09") == 6
    assert problems(registry) == ([], [])


def test_a_prune_keeps_rotation_events_and_their_checkpoint_is_sealed(
        registry: Registry) -> None:
    from blocks.store import chain
    from blocks.store.chain import NewEvent

    clock = Clock()
    registry._clock = clock
    Secret(value="pw").save("warehouse", registry=registry)
    writer, sealer = registry.store.writer, registry.sealer
    with writer.transaction() as conn:  # a rotation step among the audit records
        chain.append(conn, writer, sealer, [NewEvent("rotation", "b1", clock.now, "t", "{}")])
    Secret(value="pw2").save("warehouse", registry=registry, overwrite=True)
    assert registry.audit.prune(clock.now + timedelta(seconds=1)) == 2
    assert problems(registry) == ([], [])
    kinds = [r[0] for r in registry.store._fetchall(
        "SELECT kind FROM event_log ORDER BY seq", ())]
    assert kinds == ["rotation", "audit"]  # the kept rotation step, then the prune's record
    tamper(registry.store.url, "DELETE FROM event_log WHERE kind = 'rotation'")
    audit, full = problems(registry)
    assert any("kept by its last prune" in p for p in audit) and full


def test_a_removed_checkpoint_is_found(registry: Registry) -> None:
    Secret(value="pw").save("warehouse", registry=registry)
    Secret(value="pw2").save("warehouse", registry=registry, overwrite=True)
    registry.audit.prune(datetime.now(UTC) + timedelta(days=1))
    tamper(registry.store.url,
           "DELETE FROM event_chain WHERE name IN ('events:pruned', 'events:kept')")
    audit, full = problems(registry)
    assert any("event 1 is missing" in p for p in audit) and full


def test_prune_refuses_a_tampered_chain(registry: Registry) -> None:
    Secret(value="pw").save("warehouse", registry=registry)
    Secret(value="pw2").save("warehouse", registry=registry, overwrite=True)
    tamper(registry.store.url, "UPDATE event_log SET actor = 'x' WHERE seq = 1")
    with pytest.raises(IntegrityError, match="nothing was pruned"):
        registry.audit.prune(datetime.now(UTC) + timedelta(days=1))
    kept = registry.store._fetchall("SELECT seq FROM event_log WHERE seq <= 2", ())
    assert len(kept) == 2
    assert records(registry, action="prune")[0].outcome == "error"


def test_key_rotation_rewrap_and_retire_keep_records_verifiable(registry: Registry) -> None:
    from blocks.audit_actor import Actor, acting_as

    with acting_as(Actor("token", "etl", "tok-1", "server")):
        Secret(value="pw").save("warehouse", registry=registry)
    before = registry.audit.hash(b"tok-1")
    keys = KeyManager(registry)
    old = registry.keyring.current_term
    keys.rotate()
    with pytest.raises(KeyringError, match="rewrap"):
        keys.retire(old)
    keys.rewrap()
    keys.retire(old)
    assert problems(registry) == ([], [])
    assert [a for a, _, _ in actions(registry)] == [
        "write", "keys-rotate", "keys-rewrap", "keys-retire"]
    fresh = Registry(registry.settings)  # a new process: the hash key read again
    try:
        assert fresh.audit.hash(b"tok-1") == before
        assert [e.action for e in fresh.audit.ls(actor="tok-1")] == ["write"]
    finally:
        fresh.close()


def test_blocks_verify_checks_the_audit_hash_key(registry: Registry) -> None:
    registry.audit.hash(b"x")
    assert registry.verify().ok
    forged = '{"term": 1, "wrapped": "AAAA"}'
    tamper(registry.store.url, "UPDATE registry_state SET value = ? WHERE name = ?", forged,
           "audit-hash-key")
    fresh = Registry(registry.settings)  # a new process: the key is read again
    try:
        assert [p.kind for p in fresh.verify().problems] == ["audit-key"]
    finally:
        fresh.close()
