"""Every change is recorded in the transaction of the change; reads when asked (issue 21)."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocks import Registry, Secret
from blocks.access import policies
from blocks.audit_actor import Actor, acting_as, current_actor, os_actor
from blocks.errors import AuditUnavailable, BlockNotFound
from blocks.settings import Settings
from tests.audit.helpers import actions, records
from tests.store.tamper import tamper

REF = "secret/warehouse"


def test_writes_renames_rollbacks_deletes_are_always_recorded(registry: Registry) -> None:
    Secret(value="pw-1").save("warehouse", registry=registry)
    Secret(value="pw-2").save("warehouse", registry=registry, overwrite=True)
    registry.rollback(REF, 1)
    registry.move_stages(REF, expected_current=3, current=3, previous=2)
    registry.purge(REF, 2)
    registry.rename(REF, "wh")
    registry.delete("secret/wh")
    registry.undelete("secret/wh")
    registry.load("secret/wh")  # reads are not recorded by default
    assert actions(registry) == [
        ("write", REF, "allowed"), ("write", REF, "allowed"), ("rollback", REF, "allowed"),
        ("stage", REF, "allowed"), ("purge", REF, "allowed"), ("rename", REF, "allowed"),
        ("delete", "secret/wh", "allowed"), ("undelete", "secret/wh", "allowed")]
    first, second, rollback = records(registry)[:3]
    assert (first.version, second.version, rollback.version) == (1, 2, 3)
    assert rollback.detail == {"from_version": 1}
    me = os_actor()  # the OS user on this host (via python, or cli once the CLI ran here)
    assert (first.actor.kind, first.actor.name, first.actor.source) == ("os", me.name, me.source)


def test_reads_are_recorded_when_asked(registry: Registry) -> None:
    Secret(value="pw").save("warehouse", registry=registry)
    registry.audit.reads = True
    registry.load(REF)
    registry.history(REF)
    registry.list()
    with pytest.raises(BlockNotFound):
        registry.load("secret/missing")
    assert actions(registry)[1:] == [
        ("read", REF, "allowed"), ("history", REF, "allowed"), ("list", "*", "allowed"),
        ("read", "secret/missing", "error")]
    assert records(registry)[-1].error == "BlockNotFound"
    assert records(registry, action="read")[0].version == 1


def test_the_setting_turns_reads_on(blocks_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOCKS_AUDIT_READS", "1")
    registry = Registry(Settings(home=blocks_home))
    try:
        Secret(value="pw").save("warehouse", registry=registry)
        registry.load(REF)
        assert [a for a, _, _ in actions(registry)] == ["write", "read"]
    finally:
        registry.close()


def test_the_actor_is_whoever_the_context_says(registry: Registry) -> None:
    server = Actor("token", "etl", "tok-123", "server", "10.1.2.3", "req-1")
    with acting_as(server):
        assert current_actor() == server
        Secret(value="pw").save("warehouse", registry=registry)
    assert current_actor().kind == "os"
    (entry,) = records(registry)
    assert entry.actor.name == "etl" and entry.actor.source == "10.1.2.3"
    assert entry.actor.request_id == "req-1" and entry.actor.via == "server"
    # the token id is stored as its HMAC, searchable with the same hash
    assert entry.actor.id == registry.audit.hash(b"tok-123") != "tok-123"
    assert records(registry, actor="tok-123") == [entry]
    assert records(registry, actor=registry.audit.hash(b"tok-123")) == [entry]
    assert records(registry, actor="etl") == [entry]
    assert records(registry, actor="someone-else") == []


def test_tokens_and_policies_changes_are_recorded(registry: Registry) -> None:
    access = registry.access()
    access.put_policy("readers", policies.parse("readers", {"blocks": {"*/*": ["read"]}}))
    token, _ = access.create_token("etl", ["readers"])
    access.revoke("etl")
    assert actions(registry) == [("policy-put", "readers", "allowed"),
                                 ("token-create", "etl", "allowed"),
                                 ("token-revoke", "etl", "allowed")]
    assert token not in str([e.to_json() for e in records(registry)])


def _break_the_trail(registry: Registry) -> None:
    url = registry.store.url
    if registry.store.dialect == "sqlite":
        tamper(url, "CREATE TRIGGER no_audit BEFORE INSERT ON event_log WHEN NEW.kind = "
                    "'audit' BEGIN SELECT RAISE(ABORT, 'audit storage unavailable'); END")
        return
    tamper(url, "CREATE FUNCTION no_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION "
                "'audit storage unavailable'; END $$ LANGUAGE plpgsql")
    tamper(url, "CREATE TRIGGER no_audit BEFORE INSERT ON event_log FOR EACH ROW WHEN "
                "(NEW.kind = 'audit') EXECUTE FUNCTION no_audit()")


def test_a_change_whose_record_cannot_be_written_is_not_made(registry: Registry) -> None:
    Secret(value="pw-1").save("warehouse", registry=registry)
    Secret(value="other").save("other", registry=registry)
    _break_the_trail(registry)
    with pytest.raises(AuditUnavailable, match="could not record the write"):
        Secret(value="pw-2").save("warehouse", registry=registry, overwrite=True)
    with pytest.raises(AuditUnavailable):
        Secret(value="new").save("new", registry=registry)
    with pytest.raises(AuditUnavailable):
        registry.delete("secret/other")
    with pytest.raises(AuditUnavailable):
        registry.rename(REF, "renamed")
    registry.audit.reads = True
    registry.load(REF)  # a local read's record waits for its batch (docs/audit.md)
    with pytest.raises(AuditUnavailable, match="could not record 1 read"):
        registry.audit.flush()
    with pytest.raises(AuditUnavailable, match="reads are refused"):
        registry.load(REF)  # then reads fail closed until a batch can be written
    registry.audit.reads = False
    assert registry.load(REF).get() == "pw-1"  # type: ignore[attr-defined]
    assert [v.version for v in registry.history(REF)] == [1]
    assert sorted(b.ref for b in registry.list()) == ["secret/other", REF]
    assert registry.audit.verify().ok


def test_a_failed_change_is_recorded_with_its_error_class(registry: Registry) -> None:
    Secret(value="pw").save("warehouse", registry=registry)
    with pytest.raises(BlockNotFound):
        registry.delete("secret/nope")
    entry = records(registry)[-1]
    assert (entry.action, entry.outcome, entry.error) == ("delete", "error", "BlockNotFound")


def test_acting_via_marks_the_way_in(registry: Registry) -> None:
    from blocks.audit_actor import acting_via

    with acting_via("terraform"):
        Secret(value="pw").save("warehouse", registry=registry)
    assert records(registry)[0].actor.via == "terraform"


def test_pool_changes_are_recorded_in_their_transaction(registry: Registry) -> None:
    pools = registry.pool_store()
    pools.save_pool("etl", "process", {"job_configuration": {}, "variables": {}})
    pools.create_queue("etl", "fast")
    pools.update_queue("etl", "fast", {"priority": 5})
    pools.rename_pool("etl", "etl2")
    assert [(a, o) for a, o, _ in actions(registry)] == [
        ("pool-write", "etl"), ("queue-create", "etl/fast"), ("queue-update", "etl/fast"),
        ("pool-rename", "etl")]
    pools.save_pool("etl2", "process", {"job_configuration": {}, "variables": {"x": 1}},
                    overwrite=True)
    pools.update_queue("etl2", "fast", {"priority": 1})
    # each write names the version it made, as a block save's record does
    assert [(e.action, e.version) for e in records(registry)
            if e.action != "pool-rename"] == [
        ("pool-write", 1), ("queue-create", 1), ("queue-update", 2), ("pool-write", 2),
        ("queue-update", 3)]
    _break_the_trail(registry)
    with pytest.raises(AuditUnavailable):
        pools.save_pool("etl2", "process", {"job_configuration": {}, "variables": {}},
                        overwrite=True)
    with pytest.raises(AuditUnavailable):
        pools.delete_queue("etl2", "fast")
    assert [p.version for p in pools.pool_history("etl2")] == [1, 2]
    assert sorted(q.name for q in pools.list_queues("etl2")) == ["default", "fast"]


def test_two_writers_take_turns_on_the_one_chain(registry: Registry) -> None:
    # each finds the head moved by the other (PostgreSQL: its one-statement append misses,
    # then it reads and verifies the head) and links onto it
    other = Registry(registry.settings)
    try:
        for i in range(3):
            Secret(value=f"a-{i}").save("a", registry=registry, overwrite=True)
            Secret(value=f"b-{i}").save("b", registry=other, overwrite=True)
        assert [o for _, o, _ in actions(registry)] == ["secret/a", "secret/b"] * 3
        assert registry.audit.verify().ok
    finally:
        other.close()
