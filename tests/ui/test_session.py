"""The UI's session cookie and checks without a browser: the app in-process (real registry,
real token authenticator), cookies made by the same code with other times."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from blocks import Registry, Settings
from blocks.access import policies
from blocks.server.ui import session as sessions

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

BASE = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, str]]:
    registry = Registry(Settings(home=Path(tmp_path_factory.mktemp("ui-session"))))
    registry.init()
    access = registry.access()
    access.put_policy("reader", policies.parse("reader", {"blocks": {"*/*": ["read"]}}))
    token, _ = access.create_token("reader", ["reader"])
    yield registry, token
    registry.close()


def _client(registry: Registry, base: str = BASE) -> TestClient:
    from blocks.server.app import create_app

    return TestClient(create_app(registry), base_url=base, follow_redirects=False)


def _sign_in(client: TestClient, token: str, base: str = BASE) -> None:
    answer = client.post("/ui/sign-in", data={"token": token}, headers={"origin": base})
    assert answer.status_code == 303, answer.text


def test_the_cookie_never_holds_the_token_and_is_bound_to_the_registry(
        served: tuple[Registry, str]) -> None:
    registry, token = served
    client = _client(registry)
    _sign_in(client, token)
    value = client.cookies["blocks_ui"]
    assert token not in value and token.removeprefix("blk_") not in value
    assert client.get("/ui/blocks").status_code == 200
    tampered = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    client.cookies.set("blocks_ui", tampered, path="/ui")
    answer = client.get("/ui/blocks")
    assert answer.status_code == 303 and "/ui/sign-in" in answer.headers["location"]


@pytest.mark.parametrize(("issued", "seen", "why"), [
    (-sessions.LIFETIME - 5, -5, "older than its lifetime"),
    (-600 - sessions.IDLE, -sessions.IDLE - 5, "idle too long"),
])
def test_an_expired_session_sends_back_to_sign_in(
        served: tuple[Registry, str], issued: float, seen: float, why: str) -> None:
    registry, token = served
    now = time.time()
    old = sessions.Session(token, now + issued, now + seen, "c" * 43)
    client = _client(registry)
    client.cookies.set("blocks_ui", sessions.session_cookie(registry, old), path="/ui")
    answer = client.get("/ui/blocks")
    assert answer.status_code == 303, why
    assert answer.headers["location"] == "/ui/sign-in?next=/ui/blocks"
    assert 'blocks_ui=""' in answer.headers["set-cookie"]  # cleared


def test_a_recent_session_is_refreshed_and_kept(served: tuple[Registry, str]) -> None:
    registry, token = served
    now = time.time()
    client = _client(registry)
    session = sessions.Session(token, now - 3600, now - 120, "c" * 43)
    client.cookies.set("blocks_ui", sessions.session_cookie(registry, session), path="/ui")
    answer = client.get("/ui/blocks")
    assert answer.status_code == 200
    header = next(c for c in answer.headers.get_list("set-cookie")
                  if c.startswith("blocks_ui="))
    renewed = sessions.read_session(registry, header.split(";")[0].split("=", 1)[1])
    assert renewed is not None and renewed.issued == session.issued and renewed.seen >= now


def test_the_cookie_is_secure_under_tls_and_pages_carry_the_headers(
        served: tuple[Registry, str]) -> None:
    registry, token = served
    base = "https://127.0.0.1:8443"
    client = _client(registry, base)
    answer = client.post("/ui/sign-in", data={"token": token}, headers={"origin": base})
    cookie = [c for c in answer.headers.get_list("set-cookie") if c.startswith("blocks_ui=")]
    assert cookie and "Secure" in cookie[0] and "HttpOnly" in cookie[0]
    assert "SameSite=strict" in cookie[0] and "Path=/ui" in cookie[0]
    page = client.get("/ui/sign-in")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"


def test_sign_in_never_redirects_to_another_site(served: tuple[Registry, str]) -> None:
    registry, token = served
    client = _client(registry)
    for target in ("//evil.example/x", "https://evil.example/", "/v1/blocks", "/ui\\@evil"):
        answer = client.post("/ui/sign-in", data={"token": token, "next": target},
                             headers={"origin": BASE})
        assert answer.headers["location"] == "/ui/blocks", target


def test_sign_in_from_another_origin_is_refused(served: tuple[Registry, str]) -> None:
    registry, token = served
    client = _client(registry)
    answer = client.post("/ui/sign-in", data={"token": token},
                         headers={"origin": "http://evil.example"})
    assert answer.status_code == 403
    assert "blocks_ui=" not in answer.headers.get("set-cookie", "")


def test_the_ui_is_not_in_the_api_document(served: tuple[Registry, str]) -> None:
    registry, _ = served
    paths = _client(registry).get("/v1/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/ui")]


def test_no_token_or_secret_in_the_logs_of_a_ui_session(
        served: tuple[Registry, str], caplog: pytest.LogCaptureFixture) -> None:
    import io
    import re

    from blocks import catalog
    from blocks.server import access_log

    registry, token = served
    secret = "wJalr-logged-" + "q" * 8
    registry.save(catalog.get("secret")(value=secret), "log-check")
    stream = io.StringIO()
    access_log.configure(stream)
    try:
        from blocks.server.app import create_app

        app = access_log.AccessLog(create_app(registry))
        client = TestClient(app, base_url=BASE, follow_redirects=False)
        caplog.set_level("DEBUG")
        _sign_in(client, token)
        page = client.get("/ui/blocks/secret/log-check")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        shown = client.post("/ui/blocks/secret/log-check/reveal",
                            data={"csrf": csrf.group(1), "field": "value"},
                            headers={"origin": BASE, "accept": "application/json"})
        assert shown.json()["value"] == secret
        assert client.get("/ui/blocks/secret/nope").status_code == 404
    finally:
        access_log.configure(io.StringIO(), enabled=False)
    logged = stream.getvalue() + caplog.text
    assert '"principal":"reader"' in stream.getvalue()
    for value in (token, token.removeprefix("blk_"), secret, csrf.group(1)):
        assert value not in logged


def test_another_replica_accepts_the_session(served: tuple[Registry, str]) -> None:
    """Two server processes over one database: a session opened on one works on the other
    (nothing about it lives in a replica's memory)."""
    registry, token = served
    first = _client(registry)
    _sign_in(first, token)
    other_registry = Registry(registry.settings)  # a second "replica": its own keyring copy
    try:
        second = _client(other_registry)
        for cookie in first.cookies.jar:
            second.cookies.set(cookie.name, cookie.value or "", path="/ui")
        answer = second.get("/ui/blocks")
        assert answer.status_code == 200 and "Blocks" in answer.text
    finally:
        other_registry.close()


def test_reveal_without_javascript_and_only_of_secret_fields(
        served: tuple[Registry, str]) -> None:
    import re

    from blocks import catalog

    registry, token = served
    registry.save(catalog.get("aws-credentials")(aws_access_key_id="AKIAREVEAL",
                                                 aws_secret_access_key="wJalr-nojs"), "nojs")
    client = _client(registry)
    _sign_in(client, token)
    page = client.get("/ui/blocks/aws-credentials/nojs")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    form = {"csrf": found.group(1)}
    url, own = "/ui/blocks/aws-credentials/nojs/reveal", {"origin": BASE}
    shown = client.post(url, data={**form, "field": "aws_secret_access_key"}, headers=own)
    assert shown.status_code == 200 and "wJalr-nojs" in shown.text  # a page, not JSON
    for field in ("aws_access_key_id", "nope", ""):
        refused = client.post(url, data={**form, "field": field},
                              headers={**own, "accept": "application/json"})
        assert refused.status_code == 422, field
        assert "no secret field has that path" in refused.json()["error"]
        assert "AKIAREVEAL" not in refused.text
