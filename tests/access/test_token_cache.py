"""A verified token is remembered per value of the token and policy censuses: while no token
or policy changes, an authentication is one indexed read; any change on any replica (a
revoke, a new token, a policy put) is seen by the next request."""

from __future__ import annotations

from typing import Any

import pytest

from blocks import Registry
from blocks.access.store import AccessStore
from blocks.errors import Unauthorized
from tests.access.helpers import Clock, access_store, put

READ = {"blocks": {"secret/app-*": ["read"]}}


def _count_reads(store: AccessStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    sql = store.store
    for name in ("_fetchone", "_fetchall"):
        original = getattr(sql, name)

        def counted(query: str, params: Any, _original: Any = original) -> Any:
            reads.append(query)
            return _original(query, params)

        monkeypatch.setattr(sql, name, counted)
    return reads


def test_a_verified_token_costs_one_read_until_a_token_or_policy_changes(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = access_store(registry)
    put(store, "app", READ)
    token, _ = store.create_token("worker", ["app"])
    store.authenticate(token)
    reads = _count_reads(store, monkeypatch)
    assert store.authenticate(token).name == "worker"
    assert len(reads) == 1 and "sealed_census" in reads[0]
    store.create_token("other", ["app"])  # the token census moves: the row is read again
    reads.clear()
    assert store.authenticate(token).name == "worker"
    assert len(reads) > 1


def test_a_policy_narrowed_on_another_replica_applies_to_a_remembered_token(
    registry: Registry
) -> None:
    one, two = access_store(registry), access_store(registry)
    put(one, "app", {"blocks": {"secret/app-*": ["read", "write"]}})
    token, _ = one.create_token("worker", ["app"])
    assert one.authenticate(token).allows("write", "blocks", "secret/app-db")
    put(two, "app", READ)
    assert not one.authenticate(token).allows("write", "blocks", "secret/app-db")


def test_a_remembered_token_revoked_on_another_replica_is_refused_at_once(
    registry: Registry
) -> None:
    one, two = access_store(registry), access_store(registry)
    put(one, "app", READ)
    token, info = one.create_token("worker", ["app"])
    for _ in range(2):
        assert one.authenticate(token).name == "worker"
    two.revoke(info.id)
    with pytest.raises(Unauthorized):
        one.authenticate(token)


def test_a_remembered_token_still_expires(registry: Registry) -> None:
    from datetime import timedelta

    clock = Clock()
    store = access_store(registry, clock)
    put(store, "app", READ)
    token, _ = store.create_token("worker", ["app"], ttl=timedelta(minutes=5))
    assert store.authenticate(token).name == "worker"
    clock.advance(minutes=5)
    with pytest.raises(Unauthorized):
        store.authenticate(token)
