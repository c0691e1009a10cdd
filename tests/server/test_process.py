"""``blocks server run`` as a process: TLS, graceful shutdown, the access log, readiness.

Every test starts the real command (``tests/server_process.py``) and talks to it over the
network with the real client; nothing is mocked.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from blocks import Secret
from blocks.errors import BlocksError, KeyProviderError
from tests.registry_fixtures import drop_schema, new_schema_url, require_postgres
from tests.server_process import (
    init_server,
    make_tls,
    remote_registry,
    require_server_extra,
    server_env,
    start_server,
)

VALUE = "s3cr3t-value-never-logged"


@pytest.fixture(autouse=True)
def _server_extra() -> None:
    require_server_extra()


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return server_env(home=str(tmp_path / "home"))


@pytest.fixture
def pg_env(tmp_path: Path) -> Any:
    base = require_postgres()
    url, schema = new_schema_url(base)
    yield server_env(home=str(tmp_path / "home"), database_url=url)
    drop_schema(base, schema)


def test_tls_with_a_certificate_from_a_test_ca(sqlite_env: dict[str, str], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    tls = make_tls(tmp_path / "tls")
    token = init_server(sqlite_env)
    args = ["--tls-cert", str(tls.cert), "--tls-key", str(tls.key)]
    with start_server(sqlite_env, tmp_path / "srv", args=args, ca_file=tls.ca_cert) as server:
        assert server.url.startswith("https://127.0.0.1:")
        # A client that does not trust the test CA is refused, and says which server.
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        untrusting = remote_registry(server.url, token)
        with pytest.raises(BlocksError) as info:
            untrusting.list()
        assert server.url in str(info.value)
        # The client trusts the private CA through SSL_CERT_FILE.
        monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_cert))
        client = remote_registry(server.url, token)
        client.save(Secret(value=VALUE), "tls-check")
        assert client.load("secret/tls-check").get() == VALUE
        # Plain HTTP to the TLS port gets no answer.
        with pytest.raises(httpx.HTTPError):
            httpx.get(server.url.replace("https://", "http://") + "/v1/health", timeout=5)
    assert VALUE not in server.stdout() + server.stderr()


def _connect_refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def _tables(conn: Any) -> list[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()
    return [r[0] for r in rows]


@pytest.mark.postgres
@pytest.mark.slow
def test_sigterm_lets_the_request_in_flight_finish(pg_env: dict[str, str], tmp_path: Path
                                                   ) -> None:
    """A load blocked on a table lock is in flight when SIGTERM arrives: it completes with
    200, new connections are refused meanwhile, and the process exits 0."""
    import psycopg
    from sqlalchemy.engine import make_url

    token = init_server(pg_env)
    with start_server(pg_env, tmp_path / "srv") as server:
        client = remote_registry(server.url, token)
        client.save(Secret(value=VALUE), "in-flight")
        plain = make_url(pg_env["BLOCKS_DATABASE_URL"]).set(drivername="postgresql")
        with psycopg.connect(plain.render_as_string(hide_password=False)) as locker:
            locker.execute(f"LOCK TABLE {', '.join(_tables(locker))} IN ACCESS EXCLUSIVE MODE")
            result: dict[str, Any] = {}

            def slow_load() -> None:
                with server.client(token, timeout=60) as http:
                    result["response"] = http.get("/v1/blocks/secret/in-flight")

            thread = threading.Thread(target=slow_load)
            thread.start()
            with psycopg.connect(plain.render_as_string(hide_password=False),
                                 autocommit=True) as watcher:
                deadline = time.monotonic() + 20
                while not watcher.execute(
                        "SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]:
                    assert time.monotonic() < deadline, "the load never waited for the lock"
                    time.sleep(0.05)
            server.terminate()
            deadline = time.monotonic() + 10
            while not _connect_refused(server.port):
                assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
                time.sleep(0.05)
            assert server.alive() and thread.is_alive()
            locker.rollback()  # releases the lock: the load goes on
        thread.join(timeout=30)
        response = result["response"]
        assert response.status_code == 200, response.text
        assert server.process.wait(timeout=30) == 0
    lines = [e for e in server.access_log() if e["method"] == "GET" and e["status"] == 200
             and e["route"] and e["route"].startswith("/v1/blocks/")]
    assert lines, server.stdout()
    assert "Waiting for connections to close" in server.stderr() or "Shutting down" in \
        server.stderr()


def test_access_log_lines_hold_no_values(sqlite_env: dict[str, str], tmp_path: Path) -> None:
    token = init_server(sqlite_env)
    with start_server(sqlite_env, tmp_path / "srv") as server:
        client = remote_registry(server.url, token)
        client.save(Secret(value=VALUE), "logged-name")
        client.load("secret/logged-name")
        with server.client(token) as http:
            tagged = http.get("/v1/blocks/secret/logged-name",
                              params={"version": "1"}, headers={"X-Request-ID": "req-abc-123"})
            assert tagged.headers["x-request-id"] == "req-abc-123"
            assert http.get("/v1/blocks/secret/no-such-block").status_code == 404
        with server.client(None) as anonymous:
            assert anonymous.get("/v1/blocks/secret/logged-name").status_code == 401
            generated = anonymous.get("/v1/health").headers["x-request-id"]
    entries = server.access_log()
    assert entries, "no access-log line"
    keys = {"time", "request_id", "method", "route", "status", "duration_ms", "principal",
            "client"}
    assert all(set(e) == keys for e in entries), entries
    by_id = {e["request_id"]: e for e in entries}
    assert by_id["req-abc-123"]["route"] == "/v1/blocks/{slug}/{name}"
    assert by_id["req-abc-123"]["status"] == 200 and by_id["req-abc-123"]["principal"]
    assert by_id[generated]["route"] == "/v1/health"
    statuses = {e["status"] for e in entries}
    assert {200, 401, 404} <= statuses
    assert all(e["principal"] is None for e in entries if e["status"] == 401)
    everything = server.stdout() + server.stderr()
    for leak in (VALUE, token, "logged-name", "no-such-block", "version=1"):
        assert leak not in everything, f"{leak!r} is in the server's output"
    print(f"\naccess log: {len(entries)} lines, e.g. {json.dumps(entries[-1])}")


@pytest.mark.vault
@pytest.mark.slow
def test_readiness_and_errors_when_the_key_provider_is_down(tmp_path: Path) -> None:
    """OpenBao (Vault Transit) stops: ready answers 503 naming the key provider, a load
    answers 503 and the client's error names the server."""
    import hvac

    from tests.servers import ServerUnavailable, start_openbao

    (tmp_path / "bao").mkdir()
    try:
        bao = start_openbao(tmp_path / "bao")
    except ServerUnavailable as exc:
        import os

        if os.environ.get("CI") == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    try:
        root = hvac.Client(url=bao.url, token=bao.extra["token"])
        root.sys.enable_secrets_engine("transit", path="transit")
        root.secrets.transit.create_key(name="blocks", key_type="aes256-gcm96")
        env = server_env(home=str(tmp_path / "home"), key_provider="vault-transit",
                         vault_addr=bao.url, vault_token=bao.extra["token"],
                         keyring_cache_seconds="0")
        token = init_server(env)
        with start_server(env, tmp_path / "srv") as server:
            client = remote_registry(server.url, token)
            client.save(Secret(value=VALUE), "behind-vault")
            bao.stop()
            with server.client(None) as anonymous:
                live = anonymous.get("/v1/health")
                ready = anonymous.get("/v1/health/ready")
            assert live.status_code == 200
            assert ready.status_code == 503, ready.text
            error = ready.json()["error"]
            assert error["type"] == "KeyProviderError"
            assert "vault-transit" in error["message"] and "not ready" in error["message"]
            assert bao.url not in ready.text and bao.extra["token"] not in ready.text
            with pytest.raises(KeyProviderError) as info:
                client.load("secret/behind-vault")
            assert server.url in str(info.value)
            assert VALUE not in str(info.value)
        assert bao.extra["token"] not in server.stdout() + server.stderr()
        assert "readiness: the key provider does not answer" in server.stderr()
    finally:
        bao.stop()


def test_readiness_and_errors_when_the_database_is_down(tmp_path: Path) -> None:
    """A PostgreSQL URL where nothing listens: the server starts, ready answers 503 naming
    the database (never its address or password), and a client's call answers 503 whose
    error names the server."""
    from blocks.errors import StoreError
    from tests.servers import free_port

    password = "pw-never-shown-anywhere"
    url = f"postgresql+psycopg://blocks:{password}@127.0.0.1:{free_port()}/test"
    env = server_env(home=str(tmp_path / "home"), database_url=url)
    with start_server(env, tmp_path / "srv", ready=False) as server:
        with server.client(None) as anonymous:
            assert anonymous.get("/v1/health").status_code == 200
            ready = anonymous.get("/v1/health/ready")
        assert ready.status_code == 503, ready.text
        error = ready.json()["error"]
        assert error["type"] == "StoreError"
        assert "the database does not answer" in error["message"]
        assert "127.0.0.1" not in ready.text and password not in ready.text
        client = remote_registry(server.url, "blk_not-a-real-token-but-well-formed")
        with pytest.raises(StoreError) as info:
            client.load("secret/anything")
        assert server.url in str(info.value)
        assert password not in str(info.value)
    assert password not in server.stdout() + server.stderr()
    assert "readiness: the database does not answer" in server.stderr()
