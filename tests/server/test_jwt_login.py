"""Machine identities through a real ``blocks server`` (issue 21, point 5): JWTs the tests
sign (RS256 and ES256) are exchanged at ``POST /v1/auth/jwt/login`` for Blocks tokens that
read exactly what the role's policy grants; a wrong issuer, a wrong audience, an expired JWT,
``alg: none``, a key not in the JWKS, an HS256 JWT keyed with the public key and claims no
role accepts are refused with a message naming what failed; the JWT never shows up in an
answer or a log line; the client (``BLOCKS_API_JWT_FILE``) renews before expiry."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from blocks import Registry, Secret, Settings
from blocks.access.jwt_config import parse_role
from blocks.access.jwt_store import JwtStore
from blocks.access.store import AccessStore
from blocks.errors import ConfigurationError, Forbidden, Unauthorized
from blocks.remote.jwt_auth import JwtExchange
from blocks.remote.registry import RemoteRegistry
from blocks.server.app import create_app
from blocks.server.auth import Throttle, TokenAuthenticator
from tests.access.jwt_helpers import (
    AUD,
    ISS,
    JwksServer,
    Key,
    claims,
    ec_key,
    jwks,
    rsa_key,
    serve_jwks,
    setup_config,
    unsigned,
)
from tests.server_fixtures import remote_settings, serve_app

PRINCIPAL = "jwt:etl-worker:system:serviceaccount:etl:worker"
LOGIN = "/v1/auth/jwt/login"


@pytest.fixture(scope="module")
def keys() -> dict[str, Key]:
    return {"RS256": rsa_key(), "ES256": ec_key(), "stranger": rsa_key("rsa-9")}


@pytest.fixture
def jwks_server(keys: dict[str, Key]) -> Iterator[JwksServer]:
    with serve_jwks(jwks(keys["RS256"], keys["ES256"])) as served:
        yield served


@pytest.fixture
def access(served_registry: Registry, jwks_server: JwksServer) -> AccessStore:
    store = AccessStore(served_registry.store, served_registry.sealer)
    setup_config(store, JwtStore(served_registry.store, served_registry.sealer),
                 {"jwks_url": jwks_server.url})
    served_registry.save(Secret(value="etl-value"), "etl-db")
    served_registry.save(Secret(value="admin-value"), "admin")
    return store


@pytest.fixture
def throttle() -> Throttle:
    return Throttle(free=50)


@pytest.fixture
def url(served_registry: Registry, access: AccessStore, throttle: Throttle) -> Iterator[str]:
    authenticator = TokenAuthenticator(served_registry, access=access, throttle=throttle)
    with serve_app(create_app(served_registry, authenticator=authenticator)) as base:
        yield base


def login(url: str, token: str, role: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"jwt": token}
    if role is not None:
        body["role"] = role
    return httpx.post(url + LOGIN, json=body, timeout=10)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_a_jwt_is_exchanged_for_a_token_that_reads_exactly_what_the_policy_grants(
    url: str, keys: dict[str, Key], alg: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    signed = keys[alg].sign(claims())
    answer = login(url, signed)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token"].startswith("blj_") and body["principal"] == PRINCIPAL
    assert body["role"] == "etl-worker" and body["issuer"] == ISS
    assert body["policies"] == ["etl-read"] and 890 <= body["ttl_seconds"] <= 900
    client = RemoteRegistry(remote_settings(url, body["token"]))
    try:
        assert client.load("secret/etl-db").value.get_secret_value() == "etl-value"
        with pytest.raises(Forbidden, match=f"{PRINCIPAL}.*'read'.*secret/admin"):
            client.load("secret/admin")
        with pytest.raises(Forbidden, match="'write'"):
            client.save(Secret(value="x"), "etl-db", overwrite=True)
        refused = httpx.get(url + "/v1/tokens", timeout=10,
                            headers={"authorization": f"Bearer {body['token']}"})
        assert refused.status_code == 403
    finally:
        client.close()
    assert signed not in caplog.text and signed.split(".")[2] not in caplog.text
    assert body["token"] not in caplog.text


def test_the_role_can_be_named_and_the_token_ends_when_the_role_changes(
    url: str, keys: dict[str, Key], served_registry: Registry
) -> None:
    answer = login(url, keys["RS256"].sign(claims()), role="etl-worker")
    assert answer.status_code == 200, answer.text
    token = answer.json()["token"]
    headers = {"authorization": f"Bearer {token}"}
    assert httpx.get(url + "/v1/blocks/secret/etl-db", headers=headers).status_code == 200
    JwtStore(served_registry.store, served_registry.sealer).put_role(parse_role("etl-worker", {
        "issuer": "k8s", "token_policies": ["etl-read"], "token_ttl": "5m",
        "bound_claims": {"kubernetes.io.namespace": "etl"}}))
    refused = httpx.get(url + "/v1/blocks/secret/etl-db", headers=headers)
    assert refused.status_code == 401
    assert "changed since this token was issued" in refused.json()["error"]["message"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    refused = httpx.get(url + "/v1/blocks/secret/etl-db",
                        headers={"authorization": f"Bearer {forged}"})
    assert refused.status_code == 401 and forged not in refused.text


def _refusals(keys: dict[str, Key]) -> dict[str, tuple[str, str]]:
    rs = keys["RS256"]
    now = int(time.time())
    public_pem = rs.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    # HS256 keyed with the RSA public key: the classic key-confusion attack.
    confused = _hs256(claims(), public_pem, rs.kid)
    return {
        "wrong issuer": (rs.sign(claims(iss="https://evil.example.com")),
                         "'https://evil.example.com' is not a trusted JWT issuer"),
        "wrong audience": (rs.sign(claims(aud=["someone-else"])),
                           "audience ('aud') is not one JWT issuer 'k8s' accepts"),
        "expired": (rs.sign(claims(exp=now - 120, iat=now - 700, nbf=now - 700)),
                    "the JWT has expired"),
        "not yet valid": (rs.sign(claims(nbf=now + 600)), "not valid yet"),
        "alg none": (unsigned(claims()), "unsigned (alg 'none'): never accepted"),
        "key not in the JWKS": (keys["stranger"].sign(claims()),
                                "key (kid 'rsa-9') is not in the JWKS of JWT issuer 'k8s'"),
        "hs256 with the public key": (confused, "algorithm 'HS256' is not allowed"),
        "no role matches": (rs.sign(claims(**{"kubernetes.io": {
            "namespace": "other", "serviceaccount": {"name": "worker"}}})),
            "no role of JWT issuer 'k8s' accepts this JWT: role 'etl-worker' needs claim "
            "'kubernetes.io.namespace' to match"),
        "bad signature": (rs.sign(claims())[:-6] + "AAAAAA", "signature does not verify"),
        "no sub": (rs.sign(claims(sub=None)), "lacks the 'sub' claim"),
        "not a jwt": ("not-a-jwt", "not well-formed"),
    }


def _hs256(payload: dict[str, Any], secret: bytes, kid: str) -> str:
    import hashlib
    import hmac
    import json

    def part(value: Any) -> str:
        return jwt.utils.base64url_encode(json.dumps(value).encode()).decode()

    head = f"{part({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{part(payload)}"
    mac = hmac.new(secret, head.encode(), hashlib.sha256).digest()
    return head + "." + jwt.utils.base64url_encode(mac).decode()


CASES = ["wrong issuer", "wrong audience", "expired", "not yet valid", "alg none",
         "key not in the JWKS", "hs256 with the public key", "no role matches", "bad signature",
         "no sub", "not a jwt"]


def test_bad_jwts_are_refused_naming_what_failed_and_never_echoed(
    url: str, keys: dict[str, Key], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cases = _refusals(keys)
    assert sorted(cases) == sorted(CASES)
    for case, (token, message) in cases.items():
        answer = login(url, token)
        assert answer.status_code == 401, (case, answer.text)
        error = answer.json()["error"]
        assert error["type"] == "Unauthorized", case
        assert message in error["message"], (case, error["message"])
        parts = [p for p in token.split(".") if len(p) > 8]
        assert all(p not in answer.text for p in parts), case
        assert all(p not in caplog.text for p in parts), case


def test_a_named_role_that_does_not_accept_the_jwt_is_refused(
    url: str, keys: dict[str, Key]
) -> None:
    other = keys["RS256"].sign(claims(**{"kubernetes.io": {"namespace": "etl",
                                                           "serviceaccount": {"name": "x"}}}))
    answer = login(url, other, role="etl-worker")
    assert answer.status_code == 401
    assert ("role 'etl-worker' needs claim 'kubernetes.io.serviceaccount.name' to match"
            in answer.json()["error"]["message"])
    answer = login(url, keys["RS256"].sign(claims()), role="nobody")
    assert answer.status_code == 401 and "no JWT role named 'nobody'" in answer.text


def test_failed_logins_are_slowed_down(url: str, keys: dict[str, Key],
                                       throttle: Throttle) -> None:
    throttle.free = 2
    bad = keys["stranger"].sign(claims())
    statuses = [login(url, bad).status_code for _ in range(4)]
    assert statuses[:3] == [401, 401, 401] and statuses[3] == 429
    assert login(url, keys["RS256"].sign(claims())).status_code == 429


def test_an_unknown_kid_fetches_the_jwks_again_but_not_at_every_request(
    url: str, keys: dict[str, Key], jwks_server: JwksServer
) -> None:
    assert login(url, keys["RS256"].sign(claims())).status_code == 200
    assert len(jwks_server.hits) == 1
    assert login(url, keys["ES256"].sign(claims())).status_code == 200
    assert len(jwks_server.hits) == 1  # cached
    newcomer = rsa_key("rsa-2")
    jwks_server.document = jwks(keys["RS256"], newcomer)
    # Fetched less than REFETCH_SECONDS ago: the unknown kid does not fetch again yet.
    assert login(url, newcomer.sign(claims())).status_code == 401
    assert len(jwks_server.hits) == 1


def test_the_client_exchanges_the_jwt_file_and_renews_before_expiry(
    url: str, keys: dict[str, Key], served_registry: Registry, tmp_path: Path,
    caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    JwtStore(served_registry.store, served_registry.sealer).put_role(parse_role("etl-worker", {
        "issuer": "k8s", "token_policies": ["etl-read"], "token_ttl": "6s",
        "bound_subject": "system:serviceaccount:etl:*",
        "bound_claims": {"kubernetes.io.namespace": "etl"}}))
    path = tmp_path / "token"
    first = keys["RS256"].sign(claims())
    path.write_text(first + "\n")
    client = RemoteRegistry(Settings(api_url=url, api_jwt_file=path,
                                     api_jwt_role="etl-worker"))
    try:
        exchange = client.transport.client.auth
        assert isinstance(exchange, JwtExchange)
        assert client.load("secret/etl-db").value.get_secret_value() == "etl-value"
        assert exchange.exchanges == 1 and exchange.principal == PRINCIPAL
        expires = exchange.expires_at
        # Kubernetes rewrites the projected token: the next exchange reads the new one.
        second = keys["ES256"].sign(claims(sub="system:serviceaccount:etl:worker-2"))
        path.write_text(second)
        # One second before the token's end: past two thirds of its lifetime.
        time.sleep(max(0.0, expires - time.time() - 1.0))
        assert time.time() < expires
        assert client.load("secret/etl-db").value.get_secret_value() == "etl-value"
        assert exchange.exchanges == 2
        assert exchange.principal == "jwt:etl-worker:system:serviceaccount:etl:worker-2"
        assert exchange.expires_at > expires
        with pytest.raises(Forbidden):
            client.load("secret/admin")
        assert exchange.exchanges == 2
        assert "JwtExchange(file=" in repr(exchange) and second not in repr(exchange)
    finally:
        client.close()
    for token in (first, second):
        assert token.split(".")[2] not in caplog.text


def test_the_client_names_a_refused_exchange(url: str, keys: dict[str, Key],
                                             tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text(keys["stranger"].sign(claims()))
    client = RemoteRegistry(Settings(api_url=url, api_jwt_file=path))
    try:
        with pytest.raises(Unauthorized, match="is not in the JWKS") as caught:
            client.load("secret/etl-db")
        assert path.read_text().split(".")[2] not in str(caught.value)
        path.write_text("not a jwt")
        with pytest.raises(ConfigurationError, match="does not hold a JWT"):
            client.load("secret/etl-db")
        path.unlink()
        with pytest.raises(ConfigurationError, match="cannot be read"):
            client.load("secret/etl-db")
    finally:
        client.close()


def test_a_token_and_a_jwt_file_together_are_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError,
                       match="BLOCKS_API_TOKEN and BLOCKS_API_JWT_FILE are both set"):
        Settings(api_url="http://127.0.0.1:1", api_token="blk_x",  # type: ignore[arg-type]
                 api_jwt_file=tmp_path / "token")


def test_an_issuer_whose_keys_are_in_its_record(
    served_registry: Registry, keys: dict[str, Key], throttle: Throttle
) -> None:
    access = AccessStore(served_registry.store, served_registry.sealer)
    setup_config(access, JwtStore(served_registry.store, served_registry.sealer),
                 {"jwks": jwks(keys["ES256"]), "algorithms": ["ES256"]})
    served_registry.save(Secret(value="etl-value"), "etl-db")
    authenticator = TokenAuthenticator(served_registry, access=access, throttle=throttle)
    with serve_app(create_app(served_registry, authenticator=authenticator)) as base:
        assert login(base, keys["ES256"].sign(claims())).status_code == 200
        refused = login(base, keys["RS256"].sign(claims()))
        assert refused.status_code == 401
        assert "algorithm 'RS256' is not allowed for JWT issuer 'k8s'" in refused.text
    assert AUD == "blocks"


def test_the_client_exchanges_again_when_its_role_was_edited(
    url: str, keys: dict[str, Key], served_registry: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "token"
    path.write_text(keys["RS256"].sign(claims()))
    client = RemoteRegistry(Settings(api_url=url, api_jwt_file=path))
    try:
        exchange = client.transport.client.auth
        assert isinstance(exchange, JwtExchange)
        assert client.load("secret/etl-db").get() == "etl-value"
        JwtStore(served_registry.store, served_registry.sealer).put_role(parse_role(
            "etl-worker", {"issuer": "k8s", "token_policies": ["etl-read"], "token_ttl": "1h",
                           "bound_claims": {"kubernetes.io.namespace": "etl"}}))
        assert client.load("secret/etl-db").get() == "etl-value"  # 401, exchanged, retried
        assert exchange.exchanges == 2
        assert 3500 < exchange.expires_at - time.time() <= 3600
    finally:
        client.close()
