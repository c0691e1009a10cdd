"""Every request to a real server leaves exactly one audit record (issue 21): allowed and
denied (401, 403, 429), with the token's name and id (hashed), the client's address, the
request id (the client's if well formed, echoed in X-Request-Id), the action and object, the
outcome and the error class; the registry's own records carry the server's actor. Fail closed:
when the record cannot be written the request is a 503 that returns no value and changes
nothing (a real SQLite write lock held past the busy timeout; a real trigger refusing the
audit insert)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from blocks import Registry, Secret, Settings
from blocks.access import policies
from blocks.access.store import AccessStore
from blocks.server.app import create_app
from blocks.server.auth import Throttle, TokenAuthenticator
from blocks.store import engine
from tests.server_fixtures import serve_app

VALUE = "audit-s3cr3t-value-42"


@pytest.fixture
def audited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    # A short busy timeout, so a held write lock outlasts it within the test.
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 400)
    reg = Registry(Settings(home=tmp_path / "server"))
    reg.init()
    Secret(value=VALUE).save("api", registry=reg)
    Secret(value="other").save("admin", registry=reg)
    yield reg
    reg.close()


@pytest.fixture
def token(audited: Registry) -> str:
    access = AccessStore(audited.store, audited.sealer)
    access.put_policy("rw", policies.parse("rw", {"blocks": {"secret/api": ["read", "write"]}}))
    return access.create_token("ci", ["rw"])[0]


@pytest.fixture
def url(audited: Registry) -> Iterator[str]:
    authenticator = TokenAuthenticator(audited, throttle=Throttle(free=2, base=30))
    with serve_app(create_app(audited, authenticator=authenticator)) as base:
        yield base


def records(audited: Registry) -> list[Any]:
    return list(audited.audit.ls(oldest_first=True))


def server_records(audited: Registry) -> list[Any]:
    return [e for e in records(audited) if e.actor.via == "server"]


def test_each_request_is_recorded_once_with_who_what_and_outcome(
        audited: Registry, token: str, url: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url) as http:
        load = http.get("/v1/blocks/secret/api", headers={**auth, "X-Request-Id": "req-7"})
        assert load.status_code == 200 and load.headers["x-request-id"] == "req-7"
        odd = http.get("/v1/blocks/secret/api", headers={**auth, "X-Request-Id": "a b;<c>"})
        assert odd.headers["x-request-id"] != "a b;<c>" and len(odd.headers["x-request-id"]) == 32
        assert http.get("/v1/blocks/secret/api", headers={
            **auth, "If-None-Match": load.headers["etag"]}).status_code == 304
        assert http.get("/v1/blocks/secret/admin", headers=auth).status_code == 403
        assert http.get("/v1/blocks/secret/api").status_code == 401
        assert http.get("/v1/blocks/secret/api/history", headers=auth).status_code == 200
        saved = http.post("/v1/blocks/secret/api", headers=auth, json={
            "document": json.dumps({"value": "new"}), "overwrite": True})
        assert saved.status_code == 201, saved.text
        assert http.get("/v1/health").status_code == 200  # no data, no record
    found = server_records(audited)
    summary = [(e.action, e.obj, e.outcome, e.error, e.actor.kind, e.actor.name)
               for e in found]
    assert summary == [
        ("read", "secret/api", "allowed", None, "token", "ci"),
        ("read", "secret/api", "allowed", None, "token", "ci"),
        ("read", "secret/api", "allowed", None, "token", "ci"),  # the 304
        ("read", "secret/admin", "denied", "Forbidden", "token", "ci"),
        ("read", "secret/api", "denied", "Unauthorized", "anonymous", "anonymous"),
        ("history", "secret/api", "allowed", None, "token", "ci"),  # by the registry
        ("write", "secret/api", "allowed", None, "token", "ci"),  # in the save's transaction
    ]
    assert found[0].actor.request_id == "req-7" and found[0].version == 1
    assert found[0].actor.source == "127.0.0.1"
    assert len({e.actor.request_id for e in found}) == len(found)  # one record per request
    token_ids = {e.actor.id for e in found if e.actor.kind == "token"}
    assert len(token_ids) == 1 and next(iter(token_ids)).startswith("hmac-sha256:")
    dumped = json.dumps([e.to_json() for e in records(audited)])
    assert VALUE not in dumped and token not in dumped and "new" not in dumped


def test_refused_authentications_are_recorded_up_to_the_lockout(
        audited: Registry, url: str) -> None:
    bad = {"Authorization": "Bearer blk_" + "x" * 43}
    statuses = [httpx.get(f"{url}/v1/blocks/secret/api", headers=bad).status_code
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    found = [(e.outcome, e.error, e.actor.kind) for e in server_records(audited)]
    assert found == [("denied", "Unauthorized", "anonymous")] * 3 + [
        ("denied", "RateLimited", "anonymous")]
    assert "x" * 43 not in json.dumps([e.to_json() for e in records(audited)])


def test_concurrent_requests_each_get_their_record(audited: Registry, token: str,
                                                    url: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    answers: list[int] = []

    def load(i: int) -> None:
        answers.append(httpx.get(f"{url}/v1/blocks/secret/api",
                                 headers={**auth, "X-Request-Id": f"r-{i}"}).status_code)

    threads = [threading.Thread(target=load, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answers == [200] * 16
    ids = sorted(e.actor.request_id for e in server_records(audited))
    assert ids == sorted(f"r-{i}" for i in range(16))
    assert audited.audit.verify().ok


def _db(audited: Registry) -> str:
    return audited.store.url.split("///", 1)[1]


def test_a_locked_audit_storage_fails_the_read_closed(audited: Registry, token: str,
                                                      url: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    httpx.get(f"{url}/v1/blocks/secret/api", headers=auth).raise_for_status()
    before = len(records(audited))
    holder = sqlite3.connect(_db(audited), isolation_level=None, timeout=5)
    holder.execute("BEGIN IMMEDIATE")  # held past the 0.4 s busy timeout
    try:
        refused = httpx.get(f"{url}/v1/blocks/secret/api", headers=auth, timeout=30)
        denied = httpx.get(f"{url}/v1/blocks/secret/admin", headers=auth, timeout=30)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    for answer in (refused, denied):
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["type"] == "AuditUnavailable"
        assert VALUE not in answer.text and "etag" not in answer.headers
    assert len(records(audited)) == before
    assert httpx.get(f"{url}/v1/blocks/secret/api", headers=auth).json()["block"]["version"] == 1


def test_a_refused_audit_insert_fails_the_write_closed(audited: Registry, token: str,
                                                       url: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    conn = sqlite3.connect(_db(audited), isolation_level=None)
    conn.execute("CREATE TRIGGER refuse_audit BEFORE INSERT ON event_log "
                 "BEGIN SELECT RAISE(ABORT, 'audit storage refused'); END")
    try:
        saved = httpx.post(f"{url}/v1/blocks/secret/api", headers=auth, timeout=30, json={
            "document": json.dumps({"value": "changed"}), "overwrite": True})
        read = httpx.get(f"{url}/v1/blocks/secret/api", headers=auth, timeout=30)
    finally:
        conn.execute("DROP TRIGGER refuse_audit")
        conn.close()
    assert saved.status_code == 503 and saved.json()["error"]["type"] == "AuditUnavailable"
    assert read.status_code == 503 and VALUE not in read.text
    assert audited.history("secret/api")[-1].version == 1  # the block is unchanged
    assert Secret.load("api", registry=audited).value.get_secret_value() == VALUE
