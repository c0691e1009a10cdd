"""A database writer without the master key against the rotation tables (issue 17).

Each attack is raw SQL on the database (``tests.store.tamper``), on SQLite and PostgreSQL. It is
refused at use (an ``IntegrityError`` naming the record, before any rotator reaches a server)
or, where nothing acts on it, reported by ``blocks verify``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from blocks import Registry, Secret
from blocks.errors import IntegrityError
from blocks.rotation import Rotation, RotationPolicy, rotation_events, set_rotation
from blocks.store.engine import read_only
from blocks.verify import verify
from tests.conftest import VaultAccess
from tests.rotation.contract import Crash, crash_at
from tests.store.tamper import tamper

REF = "secret/web"
FIRST = "first-value-0123456789"


def _row(registry: Registry, sql: str, *params: Any) -> tuple[Any, ...]:
    with read_only(registry.store.engine).connect() as conn:
        found = conn.exec_driver_sql(registry.store.writer.native(sql), params).first()
    assert found is not None
    return tuple(found)


def _policy_json(registry: Registry, ref: str = REF) -> dict[str, Any]:
    text = _row(registry, "SELECT policy FROM rotation_policy WHERE block_id = ?",
                registry.summary(ref).id)[0]
    return dict(json.loads(text))


def _set_policy_json(registry: Registry, policy: dict[str, Any], ref: str = REF) -> None:
    tamper(registry.store.url, "UPDATE rotation_policy SET policy = ? WHERE block_id = ?",
           json.dumps(policy), registry.summary(ref).id)


def _refused(outcomes: list[Any], what: str) -> None:
    assert len(outcomes) == 1 and outcomes[0].failed
    assert "integrity check failed" in outcomes[0].error and what in outcomes[0].error


def _reported(registry: Registry, kind: str, what: str = "") -> None:
    report = verify(registry)
    assert any(p.kind == kind and what in p.what for p in report.problems), report.problems


class Listener:
    """An HTTP server that records every request (where a rewritten address would point)."""

    def __init__(self) -> None:
        seen: list[dict[str, str]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(dict(self.headers))
                self.send_response(500)
                self.end_headers()

            do_POST = do_PUT = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        self.requests = seen
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.server.shutdown()


# -- bullet 1: vault-kv options ------------------------------------------------------------------


@pytest.mark.vault
def test_rewritten_vault_kv_address_sends_no_token(
    registry: Registry, vault: VaultAccess, listener: Listener
) -> None:
    path = "apps/sealed-" + registry.store.dialect
    vault.client().secrets.kv.v2.create_or_update_secret(path=path, secret={"value": FIRST})
    Secret(value=vault.root_token).save("vault-admin", registry=registry)
    Secret(value=FIRST).save("web", registry=registry)
    set_rotation(REF, RotationPolicy(rotator="vault-kv", interval="30d", options={
        "path": path, "address": vault.url, "token_block": "secret/vault-admin"}),
        registry=registry)
    policy = _policy_json(registry)
    policy["options"]["address"] = listener.url
    _set_policy_json(registry, policy)

    outcomes = Rotation(registry).rotate_due()
    _refused(outcomes, "rotation policy of secret/web")
    assert listener.requests == []
    assert vault.root_token not in outcomes[0].error
    assert registry.load(REF).get() == FIRST
    _reported(registry, "rotation-policy", "secret/web")


# -- bullet 2: aws-iam options and run state -------------------------------------------------------


@pytest.mark.aws
def test_rewritten_aws_iam_user_name_creates_no_key(registry: Registry, moto_auth: Any) -> None:
    from tests.rotation.test_aws_iam import _save, _status

    user, ref = _save(registry, moto_auth, "low")
    set_rotation(ref, RotationPolicy(rotator="aws-iam-access-key", interval="90d",
                                     options={"user_name": user}), registry=registry)
    admin_keys = _status(moto_auth, "admin")
    policy = _policy_json(registry, ref)
    policy["options"]["user_name"] = "admin"
    _set_policy_json(registry, policy, ref)

    _refused(Rotation(registry).rotate_due(), f"rotation policy of {ref}")
    assert _status(moto_auth, "admin") == admin_keys
    assert len(_status(moto_auth, user)) == 1


@pytest.mark.aws
def test_forged_aws_iam_run_state_deletes_no_key(registry: Registry, moto_auth: Any) -> None:
    from tests.rotation.test_aws_iam import _save, _status

    user, ref = _save(registry, moto_auth, "state")
    set_rotation(ref, RotationPolicy(rotator="aws-iam-access-key", interval="90d"),
                 registry=registry)
    with pytest.raises(Crash):
        Rotation(registry, hook=crash_at("create", "recorded")).rotate(ref, force=True)
    keys = _status(moto_auth, user)
    assert len(keys) == 2  # the original and the pending one
    block_id = registry.summary(ref).id
    run = json.loads(_row(registry, "SELECT run FROM rotation_policy WHERE block_id = ?",
                          block_id)[0])
    assert "keys_before_create" in run["state"]
    run["state"]["keys_before_create"] = []
    tamper(registry.store.url, "UPDATE rotation_policy SET run = ? WHERE block_id = ?",
           json.dumps(run), block_id)

    _refused(Rotation(registry).rotate_due(), f"rotation policy of {ref}")
    assert _status(moto_auth, user) == keys
    _reported(registry, "rotation-policy", ref)


# -- bullet 3: a forged run promoting version 1 ----------------------------------------------------


def _rotated_once(registry: Registry) -> str:
    Secret(value=FIRST).save("web", registry=registry)
    set_rotation(REF, RotationPolicy(rotator="generated", interval="30d", grace="0s"),
                 registry=registry)
    assert Rotation(registry).rotate(REF, force=True).status == "rotated"
    value = registry.load(REF).get()
    assert registry.stages(REF)["current"] == 2
    return str(value)


def test_forged_run_promoting_version_1_is_refused(registry: Registry) -> None:
    current = _rotated_once(registry)
    run = {"id": "00000000-0000-0000-0000-000000000001", "step": "test", "base_version": 2,
           "started_at": "2026-01-01T00:00:00+00:00", "actor": "cli:x", "pending_version": 1,
           "cancelling": False, "state": {}}
    tamper(registry.store.url, "UPDATE rotation_policy SET run = ?, state = 'running'",
           json.dumps(run))

    _refused(Rotation(registry).rotate_due(), "rotation policy of secret/web")
    assert registry.load(REF).get() == current
    assert registry.stages(REF)["current"] == 2
    # grace 0: nothing more was revoked (only version 1, by the genuine rotation)
    assert [e.versions for e in rotation_events(REF, registry=registry)
            if e.step == "revoke"] == ["previous=1"]
    _reported(registry, "rotation-policy", REF)


def test_sealed_run_put_back_with_later_events_deleted_promotes_nothing(
    registry: Registry,
) -> None:
    # A genuine sealed row of an earlier run, put back after its own events were cut off:
    # the row authenticates, but the run does not match the sealed head (point 3).
    Secret(value=FIRST).save("web", registry=registry)
    set_rotation(REF, RotationPolicy(rotator="generated", interval="30d", grace="0s"),
                 registry=registry)
    block_id = registry.summary(REF).id
    with pytest.raises(Crash):
        Rotation(registry, hook=crash_at("test", "recorded")).rotate(REF, force=True)
    columns = ("policy, next_due_at, last_rotated_at, run, revoke_version, revoke_due_at, "
               "revoke_state, event_seq, mac_term, mac, state")
    old = _row(registry, f"SELECT {columns} FROM rotation_policy WHERE block_id = ?", block_id)
    assert Rotation(registry).rotate(REF).status == "rotated"  # resumed: version 2
    assert Rotation(registry).rotate(REF, force=True).status == "rotated"  # version 3
    current = registry.load(REF).get()
    sets = ", ".join(f"{c.strip()} = ?" for c in columns.split(","))
    tamper(registry.store.url, f"UPDATE rotation_policy SET {sets} WHERE block_id = ?",
           *old, block_id)
    tamper(registry.store.url, "DELETE FROM event_log WHERE subject = ? AND seq > ?",
           block_id, old[7])

    with pytest.raises(IntegrityError, match="rotation run of secret/web: version 2 is not"):
        Rotation(registry).rotate(REF)
    assert registry.load(REF).get() == current  # the head was not moved back onto version 2
    assert registry.stages(REF)["current"] == 3
    _reported(registry, "event-chain")


# -- bullet 4: policy downgraded, deleted, put back; events deleted, edited, reordered ------------


def test_downgraded_generated_policy_is_refused(registry: Registry) -> None:
    Secret(value=FIRST).save("web", registry=registry)
    set_rotation(REF, RotationPolicy(rotator="generated", interval="30d",
                                     options={"length": 40}), registry=registry)
    policy = _policy_json(registry)
    policy["options"] = {"length": 8, "classes": ["digits"]}
    _set_policy_json(registry, policy)

    _refused(Rotation(registry).rotate_due(), "rotation policy of secret/web")
    assert registry.load(REF).get() == FIRST
    with pytest.raises(IntegrityError, match="rotation policy of secret/web"):
        Rotation(registry).policy(REF)
    _reported(registry, "rotation-policy", REF)


def test_an_older_sealed_policy_put_back_is_refused(registry: Registry) -> None:
    Secret(value=FIRST).save("web", registry=registry)
    block_id = registry.summary(REF).id
    set_rotation(REF, RotationPolicy(rotator="generated", interval="30d",
                                     options={"length": 8, "classes": ["digits"]}),
                 registry=registry)
    columns = "policy, next_due_at, event_seq, mac_term, mac"
    weak = _row(registry, f"SELECT {columns} FROM rotation_policy WHERE block_id = ?", block_id)
    set_rotation(REF, RotationPolicy(rotator="generated", interval="30d",
                                     options={"length": 40}), registry=registry)
    sets = ", ".join(f"{c.strip()} = ?" for c in columns.split(","))
    tamper(registry.store.url, f"UPDATE rotation_policy SET {sets} WHERE block_id = ?",
           *weak, block_id)

    _refused(Rotation(registry).rotate_due(), "older than the block's newest rotation event")
    assert registry.load(REF).get() == FIRST
    _reported(registry, "rotation-policy", REF)


def test_a_deleted_policy_is_reported(registry: Registry) -> None:
    Secret(value=FIRST).save("web", registry=registry)
    set_rotation(REF, RotationPolicy(rotator="generated", interval="30d"), registry=registry)
    Secret(value=FIRST).save("other", registry=registry)
    set_rotation("secret/other", RotationPolicy(rotator="generated", interval="30d"),
                 registry=registry)
    Rotation(registry).drop_policy("secret/other")  # dropped by Blocks: not a problem
    assert verify(registry).ok
    tamper(registry.store.url, "DELETE FROM rotation_policy")

    report = verify(registry)
    assert [(p.kind, p.what) for p in report.problems] == [
        ("rotation-policy", "secret/web (rotation policy)")]
    assert "missing" in report.problems[0].detail


EVENT_ATTACKS: dict[str, list[tuple[str, ...]]] = {
    "deleted": [("DELETE FROM event_log WHERE body LIKE ?", "%promote%")],
    "edited": [("UPDATE event_log SET body = REPLACE(body, 'current=2', 'current=9') "
                "WHERE body LIKE ?", "%promote%current=2%")],
    "reordered": [("UPDATE event_log SET seq = 1000 WHERE seq = 2",),
                  ("UPDATE event_log SET seq = 2 WHERE seq = 3",),
                  ("UPDATE event_log SET seq = 3 WHERE seq = 1000",)],
    "tail-cut": [("DELETE FROM event_log WHERE seq > (SELECT MAX(seq) - 2 FROM event_log)",)],
    "all-deleted": [("DELETE FROM event_log WHERE kind = 'rotation'",)],
}


@pytest.mark.parametrize("attack", sorted(EVENT_ATTACKS))
def test_altered_rotation_events_are_reported_and_refused(registry: Registry, attack: str) -> None:
    _rotated_once(registry)
    assert Rotation(registry).promoted_versions(REF) == {2}
    assert verify(registry).ok
    for statement, *params in EVENT_ATTACKS[attack]:
        tamper(registry.store.url, statement, *params)

    report = verify(registry)
    assert any(p.kind in ("event", "event-chain") for p in report.problems), report.problems
    # A new process (as each Terraform command starts one) walks the chain again.
    fresh = Registry(registry.settings)
    with pytest.raises(IntegrityError, match="the event log"):
        Rotation(fresh).promoted_versions(REF)
    fresh.close()


def test_rewrap_and_retire_move_the_rotation_macs(registry: Registry) -> None:
    from blocks.key_management import KeyManager

    _rotated_once(registry)
    keys = KeyManager(registry)
    old = registry.keyring.current_term
    keys.rotate()
    keys.rewrap(old)
    with read_only(registry.store.engine).connect() as conn:
        for table in ("rotation_policy", "event_log", "event_chain"):
            terms = {t for (t,) in conn.exec_driver_sql(f"SELECT mac_term FROM {table}")}
            assert terms == {old + 1}, table
    keys.retire(old)
    assert verify(registry).ok, verify(registry).problems
    assert Rotation(registry).rotate(REF, force=True).status == "rotated"
    assert Rotation(registry).promoted_versions(REF) == {2, 3}


@pytest.mark.postgres
def test_downgraded_postgres_password_policy_leaves_the_role_password(
    sqlite_registry: Registry, roles: dict[str, Any], private_postgres: Any
) -> None:
    ref = "database-credentials/app"
    set_rotation(ref, RotationPolicy(rotator="postgres-password", interval="30d", options={
        "admin_block": "database-credentials/pg-admin", "password": {"length": 40}}),
        registry=sqlite_registry)
    policy = _policy_json(sqlite_registry, ref)
    policy["options"]["password"] = {"length": 8, "classes": ["digits"]}
    _set_policy_json(sqlite_registry, policy, ref)

    _refused(Rotation(sqlite_registry).rotate_due(), f"rotation policy of {ref}")
    app = roles["names"]["app"]
    assert private_postgres.can_login(app, roles["passwords"]["app"])  # not set to 8 digits


def test_events_appended_after_a_walk_are_checked_by_the_same_process(
    registry: Registry,
) -> None:
    _rotated_once(registry)
    rotation = Rotation(registry)
    assert rotation.promoted_versions(REF) == {2}  # walked and kept
    assert rotation.rotate(REF, force=True).status == "rotated"
    tamper(registry.store.url, "DELETE FROM event_log WHERE seq = (SELECT MAX(seq) - 1 "
           "FROM event_log)")
    with pytest.raises(IntegrityError, match="the event log"):
        rotation.promoted_versions(REF)
