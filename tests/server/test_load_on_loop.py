"""The load's fast lane over SQLite with token authentication answers on the event loop when
nothing would wait, and goes to a worker thread when something would (blocks/_nowait.py): a
held write lock (the token's last-use write) never stalls the loop. And every answer leaves in
one write (blocks/server/protocol.py) yet whole, over keep-alive connections."""

from __future__ import annotations

import asyncio
import http.client
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from blocks import Registry, Secret, _nowait
from blocks.access import policies
from blocks.access.principal import TokenPrincipal
from blocks.access.store import AccessStore
from blocks.server.app import create_app
from blocks.server.auth import TokenAuthenticator
from tests.server_fixtures import serve_app


class _Probe(TokenAuthenticator):
    """The real token authenticator, noting for each call whether it ran on the event loop
    (a thread with a running loop) in the mode where waiting raises."""

    def __init__(self, registry: Registry) -> None:
        super().__init__(registry)
        self.calls: list[tuple[bool, bool]] = []

    def __call__(self, request: Any) -> TokenPrincipal:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        self.calls.append((on_loop, _nowait.active()))
        return super().__call__(request)


@pytest.fixture
def token(served_registry: Registry) -> str:
    access = AccessStore(served_registry.store, served_registry.sealer)
    access.put_policy("reader", policies.parse("reader", {"blocks": {"secret/*": ["read"]}}))
    Secret(value="v").save("api", registry=served_registry)
    return access.create_token("reader", ["reader"])[0]


@pytest.fixture
def probe(served_registry: Registry) -> _Probe:
    return _Probe(served_registry)


@pytest.fixture
def url(served_registry: Registry, probe: _Probe) -> Iterator[str]:
    with serve_app(create_app(served_registry, authenticator=probe)) as base:
        yield base


def _last_used(registry: Registry) -> Any:
    return registry.store._fetchone("SELECT last_used_at FROM api_token WHERE name = ?",
                                    ("reader",))[0]


def test_a_held_write_lock_sends_the_load_to_a_worker_and_the_loop_stays_free(
        served_registry: Registry, token: str, url: str, probe: _Probe) -> None:
    assert _last_used(served_registry) is None  # the first use writes last_used_at
    path = served_registry.store.url.split("///", 1)[1]
    holder = sqlite3.connect(path, isolation_level=None, timeout=5)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, as another replica's long write
    result: dict[str, httpx.Response] = {}
    worker = threading.Thread(target=lambda: result.setdefault("load", httpx.get(
        f"{url}/v1/blocks/secret/api", headers={"Authorization": f"Bearer {token}"},
        timeout=60)))
    try:
        worker.start()
        deadline = time.monotonic() + 20
        while len(probe.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        # Tried on the loop first; the last-use write would wait, so a worker took it over.
        assert probe.calls[:2] == [(True, True), (False, False)]
        started = time.monotonic()
        assert httpx.get(f"{url}/v1/health", timeout=5).json() == {"status": "ok"}
        assert time.monotonic() - started < 2
        assert worker.is_alive() and "load" not in result  # still waiting for the lock
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        worker.join(60)
    assert result["load"].status_code == 200
    assert _last_used(served_registry) is not None


def test_when_nothing_waits_the_load_is_answered_on_the_loop_as_the_route_would(
        served_registry: Registry, token: str, url: str, probe: _Probe) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=auth) as http:
        http.get("/v1/blocks/secret/api").raise_for_status()  # the last-use write: a worker
        probe.calls.clear()
        fast = http.get("/v1/blocks/secret/api")
        assert probe.calls == [(True, True)]
        slow = http.get("/v1/blocks/secret/api?via=fastapi")  # FastAPI's route, in a worker
        assert fast.status_code == slow.status_code == 200
        assert fast.content == slow.content and fast.headers["etag"] == slow.headers["etag"]
        revalidated = http.get("/v1/blocks/secret/api",
                               headers={"If-None-Match": fast.headers["etag"]})
        assert revalidated.status_code == 304 and not revalidated.content
        denied = http.get("/v1/blocks/secret/api", headers={"Authorization": "Bearer blk_x"})
        assert denied.status_code == 401


def test_answers_leave_whole_over_one_keep_alive_connection(url: str, token: str) -> None:
    """Small and large answers (the OpenAPI document is far beyond one write's worth), with
    and without a body, one after the other on the same connection."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    auth = {"Authorization": f"Bearer {token}"}
    try:
        for _ in range(3):
            conn.request("GET", "/v1/openapi.json")
            spec = conn.getresponse()
            body = spec.read()
            assert spec.status == 200 and len(body) == int(spec.headers["content-length"])
            assert json.loads(body)["openapi"]
            conn.request("GET", "/v1/blocks/secret/api", headers=auth)
            load = conn.getresponse()
            loaded = json.loads(load.read())
            assert load.status == 200 and loaded["block"]["name"] == "api"
            conn.request("GET", "/v1/blocks/secret/api",
                         headers={**auth, "If-None-Match": load.headers["etag"]})
            unchanged = conn.getresponse()
            assert unchanged.status == 304 and unchanged.read() == b""
            conn.request("GET", "/v1/health")
            health = conn.getresponse()
            assert health.status == 200 and json.loads(health.read()) == {"status": "ok"}
    finally:
        conn.close()
