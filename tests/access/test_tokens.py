"""API tokens: created once, stored as a hash, expire, revoke, record their last use
(issue 20, point 4), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from blocks import Registry
from blocks.access.tokens import parse_ttl, well_formed
from blocks.errors import (
    ConflictError,
    InvalidArgument,
    InvalidName,
    PolicyNotFound,
    TokenNotFound,
    Unauthorized,
)
from blocks.store.engine import read_only
from tests.access.helpers import Clock, access_store, put

READ = {"blocks": {"secret/app-*": ["read"]}}


def _dump(registry: Registry) -> str:
    """Every column of every token row, as text."""
    with read_only(registry.store.engine).connect() as conn:
        return repr(conn.exec_driver_sql("SELECT * FROM api_token").all())


def test_a_token_is_256_random_bits_with_a_prefix_stored_only_as_its_hash(
    registry: Registry,
) -> None:
    store = access_store(registry)
    put(store, "app", READ)
    token, info = store.create_token("worker", ["app"], owner="etl team")
    other, _ = store.create_token("worker-2", ["app"])
    assert well_formed(token) and token.startswith("blk_") and len(token) == 47
    assert token != other
    stored = _dump(registry)
    assert token not in stored and token[4:] not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert token not in repr(info) and token not in repr(store.list_tokens())
    principal = store.authenticate(token)
    assert (principal.name, principal.token_id) == ("worker", info.id)
    assert principal.allows("read", "blocks", "secret/app-db")
    assert info.owner == "etl team" and info.policies == ("app",)


def test_a_missing_or_unknown_or_malformed_token_is_unauthorized(registry: Registry) -> None:
    store = access_store(registry)
    put(store, "app", READ)
    token, _ = store.create_token("worker", ["app"])
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (None, "", "not-a-token", forged, "blk_" + "x" * 43, token + "x"):
        with pytest.raises(Unauthorized) as caught:
            store.authenticate(bad)
        assert token[4:] not in str(caught.value)
        assert (bad or "blk_") not in str(caught.value) or not bad


def test_an_expired_token_is_unauthorized(registry: Registry) -> None:
    clock = Clock()
    store = access_store(registry, clock)
    put(store, "app", READ)
    token, info = store.create_token("worker", ["app"], ttl=parse_ttl("30d"))
    assert info.expires_at == info.created_at + timedelta(days=30)
    clock.advance(days=29, hours=23)
    assert store.authenticate(token).name == "worker"
    clock.advance(hours=1)
    with pytest.raises(Unauthorized, match="unknown, expired or revoked"):
        store.authenticate(token)
    assert store.list_tokens()[0].state(clock.now) == "expired"


def test_a_revoked_token_is_unauthorized_at_once_on_every_replica(registry: Registry) -> None:
    one, two = access_store(registry), access_store(registry)
    put(one, "app", READ)
    token, info = one.create_token("worker", ["app"])
    assert two.authenticate(token).name == "worker"
    assert one.revoke(info.id).revoked_at is not None  # by id
    for replica in (one, two):
        with pytest.raises(Unauthorized):
            replica.authenticate(token)
    assert one.revoke("worker").revoked_at is not None  # again: a no-op
    with pytest.raises(TokenNotFound, match="no API token named 'nobody'"):
        one.revoke("nobody")


def test_last_use_is_recorded_at_most_once_a_minute(registry: Registry) -> None:
    clock = Clock()
    store = access_store(registry, clock)
    put(store, "app", READ)
    token, _ = store.create_token("worker", ["app"])
    assert store.list_tokens()[0].last_used_at is None
    store.authenticate(token)
    first = store.list_tokens()[0].last_used_at
    assert first is not None and abs((first - clock.now).total_seconds()) < 0.001
    clock.advance(seconds=30)
    store.authenticate(token)
    assert store.list_tokens()[0].last_used_at == first
    other = access_store(registry, clock)  # another replica: the stored time is recent too
    other.authenticate(token)
    assert store.list_tokens()[0].last_used_at == first
    clock.advance(seconds=31)
    other.authenticate(token)
    assert store.list_tokens()[0].last_used_at == clock.now


def test_creating_a_token_checks_its_name_policies_and_ttl(registry: Registry) -> None:
    store = access_store(registry)
    put(store, "app", READ)
    store.create_token("worker", ["app"])
    with pytest.raises(ConflictError, match="a token named 'worker' exists"):
        store.create_token("worker", ["app"])
    with pytest.raises(PolicyNotFound, match=r"no access policy .nope.*blocks policies put nope"):
        store.create_token("w2", ["app", "nope"])
    with pytest.raises(InvalidArgument, match="at least one policy"):
        store.create_token("w3", [])
    with pytest.raises(InvalidName, match="invalid token name"):
        store.create_token("Bad Name", ["app"])
    for text in ("30", "1y", "-1d", "0s", "9999d"):
        with pytest.raises(InvalidArgument, match="--ttl"):
            parse_ttl(text)
    assert [t.name for t in store.list_tokens()] == ["worker"]


def test_a_policy_in_use_cannot_be_removed_and_the_tokens_are_named(registry: Registry) -> None:
    store = access_store(registry)
    put(store, "app", READ)
    store.create_token("worker-a", ["app"])
    store.create_token("worker-b", ["app"])
    with pytest.raises(ConflictError, match=r"used by token.s. worker-a, worker-b"):
        store.remove_policy("app")
    store.revoke("worker-a")
    store.revoke("worker-b")
    store.remove_policy("app")
    assert store.policies() == {}
    with pytest.raises(PolicyNotFound, match="no access policy 'app'"):
        store.remove_policy("app")


def test_replacing_a_policy_takes_effect_on_the_next_request(registry: Registry) -> None:
    store = access_store(registry)
    put(store, "app", READ)
    token, _ = store.create_token("worker", ["app"])
    assert not store.authenticate(token).allows("write", "blocks", "secret/app-db")
    put(store, "app", {"blocks": {"secret/app-*": ["read", "write"]}})
    assert store.authenticate(token).allows("write", "blocks", "secret/app-db")
    assert store.get_policy("app").document == {"blocks": {"secret/app-*": ["read", "write"]}}


def test_server_init_creates_the_admin_token_once(registry: Registry) -> None:
    store = access_store(registry)
    assert not store.initialized()
    token, info = store.initialize(owner="ops")
    assert info.name == "admin" and info.policies == ("admin",)
    assert store.authenticate(token).is_admin
    assert store.get_policy("admin").admin
    with pytest.raises(ConflictError, match="already initialised"):
        store.initialize()
