"""The load's fast lane (blocks/server/fastlane.py) answers exactly as the FastAPI route does,
authenticates in a worker thread, and leaves every unusual request to FastAPI."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading

import httpx
import pytest

from blocks import Registry, Secret
from blocks.server import access_log
from blocks.server.app import create_app
from blocks.server.fastlane import load_arguments
from blocks.server.security import ADMIN, Principal, StaticPrincipal
from tests.server_fixtures import serve_app

# An unknown query parameter: FastAPI ignores it, the fast lane leaves such a request to it.
VIA_FASTAPI = "via=fastapi"


@pytest.mark.parametrize(("query", "expected"), [
    (b"", {"version": None, "stage": None, "validate": True}),
    (b"version=3", {"version": 3, "stage": None, "validate": True}),
    (b"stage=pending&validate=false", {"version": None, "stage": "pending", "validate": False}),
    (b"version=12&stage=current&validate=true",
     {"version": 12, "stage": "current", "validate": True}),
])
def test_plain_load_queries_are_parsed(query: bytes, expected: dict[str, object]) -> None:
    assert load_arguments(query) == expected


@pytest.mark.parametrize("query", [
    b"version=0", b"version=-1", b"version=01", b"version=", b"version=x", b"version=1&version=2",
    b"stage=latest", b"stage=", b"validate=no", b"validate=False", b"via=fastapi",
    b"version=" + b"9" * 30,
])
def test_anything_unusual_is_left_to_fastapi(query: bytes) -> None:
    assert load_arguments(query) is None


class _Recording:
    """An authenticator that notes whether it ran on an event loop's thread."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.on_loop: list[bool] = []

    def __call__(self, request: object) -> Principal:
        try:
            asyncio.get_running_loop()
            self.on_loop.append(True)
        except RuntimeError:
            self.on_loop.append(False)
        return self.principal


def test_the_fast_lane_answers_as_the_route_does(served_registry: Registry) -> None:
    Secret(value="s3cr3t").save("api", registry=served_registry)
    Secret(value="two").save("api", registry=served_registry, overwrite=True)
    auth = _Recording(ADMIN)
    stream = io.StringIO()
    logger = logging.getLogger("tests.fastlane.access")
    logger.handlers[:] = [logging.StreamHandler(stream)]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    app = access_log.AccessLog(create_app(served_registry, authenticator=auth), logger)
    with serve_app(app) as url, httpx.Client(base_url=url) as http:
        for query in ("", "?version=1", "?stage=current&validate=false"):
            fast = http.get(f"/v1/blocks/secret/api{query}")
            slow = http.get(f"/v1/blocks/secret/api{query}{'&' if query else '?'}{VIA_FASTAPI}")
            assert fast.status_code == slow.status_code == 200, (fast.text, slow.text)
            assert fast.content == slow.content
            assert fast.headers["etag"] == slow.headers["etag"]
            for name in ("content-type", "cache-control", "content-length"):
                assert fast.headers[name] == slow.headers[name], name
            assert fast.headers["x-request-id"] and slow.headers["x-request-id"]
        body = json.loads(fast.content)
        assert body["block"]["name"] == "api" and json.loads(body["block"]["document"]) == {
            "value": "two"}
        etag = fast.headers["etag"]
        unchanged = http.get("/v1/blocks/secret/api?stage=current",
                             headers={"If-None-Match": etag})
        assert unchanged.status_code == 304 and unchanged.headers["etag"] == etag
        assert not unchanged.content
    # Authentication (which reads the database) never ran on the event loop.
    assert auth.on_loop and not any(auth.on_loop)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    loads = [e for e in lines if e["route"] == "/v1/blocks/{slug}/{name}"]
    assert len(loads) == 7, lines
    assert {e["principal"] for e in loads} == {"admin"}
    assert {e["status"] for e in loads} == {200, 304}


def test_errors_from_the_fast_lane_are_the_envelope(served_registry: Registry) -> None:
    Secret(value="v").save("admin", registry=served_registry)
    reader = StaticPrincipal("ci", {"blocks": {"secret/app-*": {"read"}}})
    app = create_app(served_registry, authenticator=_Recording(reader))
    with serve_app(app) as url, httpx.Client(base_url=url) as http:
        denied = http.get("/v1/blocks/secret/admin", headers={"x-request-id": "req-7"})
        assert denied.status_code == 403
        assert denied.headers["x-request-id"] == "req-7"
        assert denied.json()["error"] == {
            "type": "Forbidden", "details": {},
            "message": "ci lacks the 'read' capability on block secret/admin"}
        missing = http.get("/v1/blocks/secret/app-none")
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "BlockNotFound"
        both = http.get("/v1/blocks/secret/app-none?version=1&stage=pending")
        assert both.status_code == 422 and "give version or stage" in both.text
        # Malformed parameters: FastAPI's 422 naming the field, as before.
        bad = http.get("/v1/blocks/secret/app-x?version=0")
        assert bad.status_code == 422 and "query.version" in bad.json()["error"]["message"]
        # Other methods and deeper paths are not the load.
        assert http.head("/v1/blocks/secret/admin").status_code == 405
        assert http.get("/v1/blocks/secret/admin/").status_code in (307, 404)


def test_without_a_token_the_load_is_401(served_registry: Registry) -> None:
    Secret(value="v").save("api", registry=served_registry)
    with serve_app(create_app(served_registry)) as url:
        answer = httpx.get(f"{url}/v1/blocks/secret/api")
    assert answer.status_code == 401
    assert answer.json()["error"]["type"] == "Unauthorized"


def test_the_load_runs_while_the_event_loop_stays_free(served_registry: Registry) -> None:
    """A slow authenticator (a stalled database) holds a worker thread, not the loop: the
    health check still answers meanwhile."""
    Secret(value="v").save("api", registry=served_registry)
    entered, release = threading.Event(), threading.Event()

    def stalled(request: object) -> Principal:
        entered.set()
        release.wait(20)
        return ADMIN

    with serve_app(create_app(served_registry, authenticator=stalled)) as url:
        result: dict[str, httpx.Response] = {}
        thread = threading.Thread(
            target=lambda: result.setdefault("load", httpx.get(f"{url}/v1/blocks/secret/api",
                                                               timeout=30)))
        thread.start()
        try:
            assert entered.wait(20), "the load never reached the authenticator"
            assert httpx.get(f"{url}/v1/health", timeout=5).json() == {"status": "ok"}
        finally:
            release.set()
            thread.join(30)
    assert result["load"].status_code == 200


def test_a_plain_load_skips_fastapis_own_layers(
    served_registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the plain load goes straight to its lane (request ids and the audit still wrap
    it); anything else, an unusual query too, passes FastAPI's own layers."""
    from fastapi import FastAPI

    Secret(value="v").save("api", registry=served_registry)
    through: list[str] = []
    original = FastAPI.__call__

    async def noted(self: FastAPI, scope: dict[str, object], receive: object,
                    send: object) -> None:
        if scope["type"] == "http":
            through.append(f"{scope['path']}?{scope['query_string'].decode()}")  # type: ignore[attr-defined]
        await original(self, scope, receive, send)  # type: ignore[arg-type]

    monkeypatch.setattr(FastAPI, "__call__", noted)
    app = create_app(served_registry, authenticator=_Recording(ADMIN))
    with serve_app(app) as url, httpx.Client(base_url=url) as http:
        plain = http.get("/v1/blocks/secret/api", headers={"x-request-id": "req-1"})
        assert plain.status_code == 200 and plain.headers["x-request-id"] == "req-1"
        assert http.get(f"/v1/blocks/secret/api?{VIA_FASTAPI}").status_code == 200
        assert http.get("/v1/health").status_code == 200
    assert through == [f"/v1/blocks/secret/api?{VIA_FASTAPI}", "/v1/health?"]


def test_access_lines_are_flushed_once_per_turn_of_the_loop() -> None:
    class Stream(io.StringIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1

    stream = Stream()
    handler = access_log.LineHandler(stream)

    async def three_lines() -> int:
        for n in range(3):
            handler.write_line(f'{{"n":{n}}}')
        flushed = stream.flushes
        await asyncio.sleep(0)  # the loop's turn ends: one flush for the three lines
        return flushed

    assert asyncio.run(three_lines()) == 0
    assert stream.flushes == 1 and stream.getvalue().splitlines() == [
        '{"n":0}', '{"n":1}', '{"n":2}']
    handler.write_line("{}")  # off a loop: at once
    assert stream.flushes == 2


def test_the_access_log_still_goes_through_logging_when_filtered(
    served_registry: Registry
) -> None:
    Secret(value="v").save("api", registry=served_registry)
    stream = io.StringIO()
    logger = logging.getLogger(access_log.LOGGER_NAME)
    before = (logger.handlers[:], logger.level, logger.propagate)
    access_log.configure(stream)
    seen: list[str] = []

    def keep(record: logging.LogRecord) -> bool:
        seen.append(record.getMessage())
        return True

    logger.addFilter(keep)
    try:
        app = access_log.AccessLog(create_app(served_registry, authenticator=_Recording(ADMIN)))
        with serve_app(app) as url:
            assert httpx.get(f"{url}/v1/blocks/secret/api").status_code == 200
    finally:
        logger.removeFilter(keep)
        logger.handlers[:], logger.level, logger.propagate = before
    assert len(seen) == 1 and json.loads(seen[0])["status"] == 200
    assert stream.getvalue().strip() == seen[0]
