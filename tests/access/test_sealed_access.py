"""A database writer without the master key against the token and policy rows (issue 20).

Each attack is raw SQL (``tests.store.tamper``) on SQLite and PostgreSQL: the authenticator
refuses it at use (``IntegrityError``, so the server answers no request as the changed
token) and ``blocks verify`` reports it. A process that verified a token before the attack
keeps that verification while the sealed censuses do not move, so the changed row grants
nothing there either.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from blocks import Registry
from blocks.access.store import AccessStore
from blocks.access.tokens import new_token, token_hash
from blocks.errors import IntegrityError
from blocks.store.engine import read_only
from blocks.verify import verify
from tests.access.helpers import access_store, put
from tests.store.tamper import tamper

NARROW = {"blocks": {"secret/app-*": ["read"]}}
WIDE = {"blocks": {"*/*": ["read", "write", "delete"]}}


def _row(registry: Registry, sql: str, *params: Any) -> tuple[Any, ...]:
    with read_only(registry.store.engine).connect() as conn:
        found = conn.exec_driver_sql(registry.store.writer.native(sql), params).first()
    assert found is not None
    return tuple(found)


def _reported(registry: Registry, kind: str, what: str) -> None:
    report = verify(registry)
    assert any(p.kind == kind and what in p.what for p in report.problems), report.problems


def _fresh(registry: Registry) -> AccessStore:
    """A second server process: no census cached."""
    return access_store(registry)


@pytest.fixture
def setup(registry: Registry) -> tuple[AccessStore, str]:
    store = access_store(registry)
    put(store, "app-read", NARROW)
    token, _ = store.create_token("worker", ["app-read"], ttl=None)
    assert store.authenticate(token).name == "worker"
    assert verify(registry).ok
    return store, token


def test_an_inserted_token_hash_is_refused_and_reported(
    registry: Registry, setup: tuple[AccessStore, str]
) -> None:
    mine = new_token()
    row = _row(registry, "SELECT created_at, mac_term, mac FROM api_token WHERE name = 'worker'")
    tamper(registry.store.url,
           "INSERT INTO api_token (id, name, token_hash, owner, policies, created_at, mac_term, "
           "mac) VALUES ('00000000-0000-0000-0000-000000000001', 'intruder', ?, '', "
           "'[\"app-read\"]', ?, ?, ?)", token_hash(mine), *row)
    with pytest.raises(IntegrityError, match="API token 'intruder'"):
        _fresh(registry).authenticate(mine)
    _reported(registry, "token", "intruder")
    _reported(registry, "census", "API tokens")


def test_a_token_hash_swapped_into_a_row_is_refused(
    registry: Registry, setup: tuple[AccessStore, str]
) -> None:
    mine = new_token()
    tamper(registry.store.url, "UPDATE api_token SET token_hash = ? WHERE name = 'worker'",
           token_hash(mine))
    with pytest.raises(IntegrityError, match="API token 'worker'"):
        _fresh(registry).authenticate(mine)
    _reported(registry, "token", "worker")


def test_an_unrevoked_token_is_refused_and_reported(
    registry: Registry, setup: tuple[AccessStore, str]
) -> None:
    store, token = setup
    store.revoke("worker")
    tamper(registry.store.url, "UPDATE api_token SET revoked_at = NULL WHERE name = 'worker'")
    with pytest.raises(IntegrityError, match="API token 'worker'"):
        _fresh(registry).authenticate(token)
    with pytest.raises(IntegrityError):
        store.authenticate(token)  # the process that cached the census refuses it too
    _reported(registry, "token", "worker")


def test_a_token_row_put_back_from_before_its_revocation_is_refused_and_reported(
    registry: Registry, setup: tuple[AccessStore, str]
) -> None:
    store, token = setup
    before = _row(registry, "SELECT revoked_at, mac_term, mac FROM api_token WHERE name = "
                            "'worker'")
    store.revoke("worker")
    tamper(registry.store.url, "UPDATE api_token SET revoked_at = ?, mac_term = ?, mac = ? "
                               "WHERE name = 'worker'", *before)
    for server in (store, _fresh(registry)):
        with pytest.raises(IntegrityError, match="API tokens"):
            server.authenticate(token)
    _reported(registry, "census", "API tokens")


def test_an_extended_expiry_is_refused_and_reported(registry: Registry) -> None:
    from datetime import timedelta

    store = access_store(registry)
    put(store, "app-read", NARROW)
    token, info = store.create_token("worker", ["app-read"], ttl=timedelta(hours=1))
    later = info.created_at + timedelta(days=3650)
    tamper(registry.store.url, "UPDATE api_token SET expires_at = ? WHERE name = 'worker'",
           registry.store.writer.stamp(later))
    with pytest.raises(IntegrityError, match="API token 'worker'"):
        _fresh(registry).authenticate(token)
    tamper(registry.store.url, "UPDATE api_token SET expires_at = NULL WHERE name = 'worker'")
    with pytest.raises(IntegrityError, match="API token 'worker'"):
        _fresh(registry).authenticate(token)
    _reported(registry, "token", "worker")


def test_a_policy_added_to_a_token_is_refused_and_reported(
    registry: Registry, setup: tuple[AccessStore, str]
) -> None:
    store, token = setup
    put(store, "everything", {"admin": True})
    tamper(registry.store.url, "UPDATE api_token SET policies = ? WHERE name = 'worker'",
           json.dumps(["app-read", "everything"]))
    with pytest.raises(IntegrityError, match="API token 'worker'"):
        _fresh(registry).authenticate(token)
    _reported(registry, "token", "worker")


def test_a_widened_policy_is_refused_and_reported(
    registry: Registry, setup: tuple[AccessStore, str]
) -> None:
    _, token = setup
    tamper(registry.store.url, "UPDATE access_policy SET document = ? WHERE name = 'app-read'",
           json.dumps(WIDE, sort_keys=True, separators=(",", ":")))
    with pytest.raises(IntegrityError, match="access policy 'app-read'"):
        _fresh(registry).authenticate(token)
    _reported(registry, "access-policy", "app-read")


def test_a_policy_put_back_from_when_it_was_wider_is_refused_and_reported(
    registry: Registry
) -> None:
    store = access_store(registry)
    put(store, "app", WIDE)
    token, _ = store.create_token("worker", ["app"])
    wide = _row(registry, "SELECT document, mac_term, mac FROM access_policy WHERE name = 'app'")
    put(store, "app", NARROW)
    assert not store.authenticate(token).allows("write", "blocks", "secret/admin")
    tamper(registry.store.url, "UPDATE access_policy SET document = ?, mac_term = ?, mac = ? "
                               "WHERE name = 'app'", *wide)
    with pytest.raises(IntegrityError, match="access policies"):
        _fresh(registry).authenticate(token)
    # The process that verified the token under the narrow policy remembers that verification
    # while the sealed censuses stay as they were (blocks/access/store.py): the put-back row
    # is never read there, so it grants nothing; any token or policy change, or a restart,
    # reads it and refuses it.
    assert not store.authenticate(token).allows("write", "blocks", "secret/admin")
    put(store, "other", NARROW)
    with pytest.raises(IntegrityError, match="access policies"):
        store.authenticate(token)
    _reported(registry, "census", "access policies")


def test_an_inserted_policy_is_reported(
    registry: Registry, setup: tuple[AccessStore, str]
) -> None:
    mac = _row(registry, "SELECT updated_at, mac_term, mac FROM access_policy")
    tamper(registry.store.url, "INSERT INTO access_policy (name, document, updated_at, "
                               "mac_term, mac) VALUES ('rogue', '{\"admin\":true}', ?, ?, ?)",
           *mac)
    with pytest.raises(IntegrityError, match="access policy 'rogue'"):
        _fresh(registry).policies()
    _reported(registry, "access-policy", "rogue")
    _reported(registry, "census", "access policies")


def test_a_deleted_census_refuses_every_token(
    registry: Registry, setup: tuple[AccessStore, str]
) -> None:
    _, token = setup
    tamper(registry.store.url, "DELETE FROM sealed_census WHERE name = 'access:tokens'")
    with pytest.raises(IntegrityError, match="census of API tokens"):
        _fresh(registry).authenticate(token)
    _reported(registry, "census", "API tokens")


def test_rewrap_and_retire_cover_tokens_and_policies(
    registry: Registry, setup: tuple[AccessStore, str]
) -> None:
    from blocks.key_management import KeyManager

    _, token = setup
    keys = KeyManager(registry)
    old = registry.keyring.current_term
    keys.rotate()
    with pytest.raises(Exception, match="still seals"):
        keys.retire(old)
    keys.rewrap()
    assert _row(registry, "SELECT mac_term FROM api_token")[0] != old
    assert _row(registry, "SELECT mac_term FROM access_policy")[0] != old
    keys.retire(old)
    assert _fresh(registry).authenticate(token).name == "worker"
    assert verify(registry).ok
