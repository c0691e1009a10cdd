"""Token, policy and JWT rows checked against their sealed census while another process (a
replica, the CLI) changes them: the reads see one moment, so an intact set never looks
altered (before, a token created between two reads made an authentication or a listing fail
with ``IntegrityError``, and the server answered a valid token with 409)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from blocks import Registry
from blocks.access.jwt_config import parse_role
from blocks.access.jwt_store import JwtStore
from blocks.store.sql import SqlStore
from tests.access.helpers import access_store, put
from tests.access.jwt_helpers import ec_key, jwks, setup_config
from tests.concurrency import reopened


@pytest.fixture
def other(registry: Registry) -> Iterator[Registry]:
    """The same registry opened again: its own connections, as another process."""
    found = reopened(registry)
    yield found
    found.close()


def after_first_read(monkeypatch: pytest.MonkeyPatch, store: SqlStore, table: str,
                     action: Callable[[], Any]) -> list[bool]:
    """Run ``action`` (a commit on another connection) once, right after the first read
    of ``table`` through ``store``; the returned list is non-empty once it ran."""
    ran: list[bool] = []
    for attr in ("_fetchone", "_fetchall"):
        read = getattr(store, attr)

        def interleaved(sql: str, params: tuple[Any, ...], _read: Any = read) -> Any:
            found = _read(sql, params)
            if not ran and f"FROM {table}" in sql:
                ran.append(True)
                action()
            return found

        monkeypatch.setattr(store, attr, interleaved)
    return ran


def test_a_token_created_elsewhere_during_an_authentication(
    registry: Registry, other: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = access_store(registry)
    put(store, "app-read", {"blocks": {"secret/app-*": ["read"]}})
    token, _ = store.create_token("worker", ["app-read"], ttl=None)
    fresh = access_store(registry)  # another server process: nothing verified yet
    ran = after_first_read(monkeypatch, registry.store, "sealed_census",
                           lambda: access_store(other).create_token("late", ["app-read"]))
    assert fresh.authenticate(token).name == "worker"
    assert ran
    assert fresh.authenticate(token).name == "worker"  # and again, the censuses moved


def test_a_token_revoked_elsewhere_during_a_listing(
    registry: Registry, other: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = access_store(registry)
    put(store, "app-read", {"blocks": {"secret/app-*": ["read"]}})
    store.create_token("worker", ["app-read"], ttl=None)
    ran = after_first_read(monkeypatch, registry.store, "api_token",
                           lambda: access_store(other).revoke("worker"))
    listed = access_store(registry).list_tokens()
    assert ran
    assert [(t.name, t.revoked_at) for t in listed] == [("worker", None)]  # as it was
    monkeypatch.undo()
    assert access_store(registry).list_tokens()[0].revoked_at is not None


def test_a_policy_replaced_elsewhere_during_a_listing(
    registry: Registry, other: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(access_store(registry), "app-read", {"blocks": {"secret/app-*": ["read"]}})
    ran = after_first_read(monkeypatch, registry.store, "access_policy",
                           lambda: put(access_store(other), "app-read", {"pools": {"*": ["read"]}}))
    found = access_store(registry).policies()
    assert ran
    assert dict(found["app-read"].document) == {"blocks": {"secret/app-*": ["read"]}}


def test_a_role_put_elsewhere_while_the_jwt_configuration_is_read(
    registry: Registry, other: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_config(access_store(registry), JwtStore(registry.store, registry.sealer),
                 {"jwks": jwks(ec_key()), "algorithms": ["ES256"]})
    late = parse_role("late", {"issuer": "k8s", "token_policies": ["etl-read"],
                               "bound_claims": {"sub": "x"}})
    ran = after_first_read(monkeypatch, registry.store, "jwt_config",
                           lambda: JwtStore(other.store, other.sealer).put_role(late))
    assert sorted(JwtStore(registry.store, registry.sealer).roles()) == ["etl-worker"]
    assert ran
    monkeypatch.undo()
    ran = after_first_read(monkeypatch, registry.store, "jwt_config",
                           lambda: JwtStore(other.store, other.sealer).put_role(
                               parse_role("later", {"issuer": "k8s", "token_policies": [
                                   "etl-read"], "bound_claims": {"sub": "y"}})))
    role, _ = JwtStore(registry.store, registry.sealer).role("etl-worker")
    assert role.policies == ("etl-read",)
    assert ran
