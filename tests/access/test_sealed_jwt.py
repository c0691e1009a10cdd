"""A database writer without the master key against the JWT issuer and role rows (issue 21,
point 5): each edit is raw SQL (``tests.store.tamper``) on SQLite and PostgreSQL; the login
(and an exchanged token's next request) refuses it with ``IntegrityError`` and ``blocks verify``
reports it. Rewrap and retire cover the rows."""

from __future__ import annotations

import json
from typing import Any

import pytest

from blocks import Registry
from blocks.access.jwt_config import parse_role
from blocks.access.jwt_sessions import JwtSessions
from blocks.access.jwt_store import JwtStore
from blocks.errors import IntegrityError
from blocks.server.jwt_login import JwtLogin
from blocks.store.engine import read_only
from blocks.verify import verify
from tests.access.helpers import access_store
from tests.access.jwt_helpers import Key, claims, ec_key, jwks, rsa_key, setup_config
from tests.store.tamper import tamper

ROLE = {"issuer": "k8s", "token_policies": ["etl-read"],
        "bound_claims": {"kubernetes.io.namespace": "etl"}}


@pytest.fixture(scope="module")
def key() -> Key:
    return ec_key()


def _row(registry: Registry, sql: str, *params: Any) -> tuple[Any, ...]:
    with read_only(registry.store.engine).connect() as conn:
        found = conn.exec_driver_sql(registry.store.writer.native(sql), params).first()
    assert found is not None
    return tuple(found)


def _login(registry: Registry) -> JwtLogin:
    """A second server process: nothing cached."""
    sessions = JwtSessions(JwtStore(registry.store, registry.sealer), access_store(registry))
    return JwtLogin(sessions)


def _reported(registry: Registry, kind: str, what: str) -> None:
    report = verify(registry)
    assert any(p.kind == kind and what in p.what for p in report.problems), report.problems


@pytest.fixture
def setup(registry: Registry, key: Key) -> str:
    setup_config(access_store(registry), JwtStore(registry.store, registry.sealer),
                 {"jwks": jwks(key), "algorithms": ["ES256"]}, role_doc=ROLE)
    signed = key.sign(claims())
    assert _login(registry).login(signed).name.startswith("jwt:etl-worker:")
    assert verify(registry).ok
    return signed


def test_a_key_added_to_an_issuers_jwks_is_refused_and_reported(
    registry: Registry, setup: str
) -> None:
    mine = rsa_key("attacker")
    stored = _row(registry, "SELECT document FROM jwt_config WHERE kind = 'issuer'")[0]
    document = json.loads(stored)
    document["jwks"]["keys"].append(mine.jwk())
    document["algorithms"] = ["ES256", "RS256"]
    tamper(registry.store.url, "UPDATE jwt_config SET document = ? WHERE kind = 'issuer'",
           json.dumps(document, sort_keys=True, separators=(",", ":")))
    with pytest.raises(IntegrityError, match="JWT issuer 'k8s'"):
        _login(registry).login(mine.sign(claims()))
    _reported(registry, "jwt-config", "JWT issuer 'k8s'")


def test_a_widened_role_is_refused_and_reported(registry: Registry, setup: str) -> None:
    session = _login(registry).login(setup)
    sessions = _login(registry).sessions
    assert sessions.authenticate(session.token).name == session.name
    wide = {**ROLE, "bound_claims": {"kubernetes.io.namespace": "*"}, "token_policies":
            ["admin", "etl-read"]}
    tamper(registry.store.url, "UPDATE jwt_config SET document = ? WHERE kind = 'role'",
           json.dumps(wide, sort_keys=True, separators=(",", ":")))
    with pytest.raises(IntegrityError, match="JWT role 'etl-worker'"):
        _login(registry).login(setup)
    with pytest.raises(IntegrityError, match="JWT role 'etl-worker'"):
        _login(registry).sessions.authenticate(session.token)
    _reported(registry, "jwt-config", "JWT role 'etl-worker'")


def test_a_role_put_back_from_when_it_was_wider_is_refused_and_reported(
    registry: Registry, setup: str, key: Key
) -> None:
    store = JwtStore(registry.store, registry.sealer)
    wide = {**ROLE, "bound_claims": {"kubernetes.io.namespace": "*"}}
    store.put_role(parse_role("etl-worker", wide))
    old = _row(registry, "SELECT document, mac_term, mac FROM jwt_config WHERE kind = 'role'")
    store.put_role(parse_role("etl-worker", ROLE))
    other = key.sign(claims(**{"kubernetes.io": {"namespace": "prod"}}))
    tamper(registry.store.url, "UPDATE jwt_config SET document = ?, mac_term = ?, mac = ? "
                               "WHERE kind = 'role'", *old)
    with pytest.raises(IntegrityError, match="JWT issuers and roles"):
        _login(registry).login(other)
    _reported(registry, "census", "JWT issuers and roles")


def test_an_inserted_role_is_refused_and_reported(registry: Registry, setup: str) -> None:
    mac = _row(registry, "SELECT updated_at, mac_term, mac FROM jwt_config WHERE kind = 'role'")
    rogue = json.dumps({**ROLE, "bound_claims": {"sub": "*"}, "token_policies": ["admin"]})
    tamper(registry.store.url, "INSERT INTO jwt_config (kind, name, document, updated_at, "
                               "mac_term, mac) VALUES ('role', 'rogue', ?, ?, ?, ?)",
           rogue, *mac)
    with pytest.raises(IntegrityError, match="JWT role 'rogue'"):
        _login(registry).login(setup, "rogue")
    _reported(registry, "jwt-config", "JWT role 'rogue'")
    _reported(registry, "census", "JWT issuers and roles")


def test_a_deleted_role_row_is_reported(registry: Registry, setup: str) -> None:
    tamper(registry.store.url, "DELETE FROM jwt_config WHERE kind = 'role'")
    with pytest.raises(IntegrityError, match="JWT issuers and roles"):
        _login(registry).login(setup)
    _reported(registry, "census", "JWT issuers and roles")


def test_rewrap_and_retire_cover_issuers_and_roles(registry: Registry, setup: str) -> None:
    from blocks.key_management import KeyManager

    keys = KeyManager(registry)
    old = registry.keyring.current_term
    keys.rotate()
    with pytest.raises(Exception, match="still seals") as refused:
        keys.retire(old)
    assert "in jwt_config" in str(refused.value)  # the message names what the term seals
    keys.rewrap()
    assert {r[0] for r in [_row(registry, "SELECT mac_term FROM jwt_config WHERE kind = ?", k)
                           for k in ("issuer", "role")]} == {registry.keyring.current_term}
    keys.retire(old)
    assert _login(registry).login(setup).role == "etl-worker"
    assert verify(registry).ok
