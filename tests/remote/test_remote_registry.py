"""The HTTP registry's own behaviour: ETag revalidation, the cache bound, stages seen at once,
retries and fail-over, secrets kept out of logs and error bodies, the default registry."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from blocks import Block, Registry, Secret
from blocks.crypto.keyring import Keyring
from blocks.errors import ServerUnavailable, ValidationError
from blocks.remote.registry import RemoteRegistry
from blocks.remote.transport import Transport
from blocks.server.security import ADMIN, static_authenticator
from tests.core.models import TestCreds, TestService
from tests.server_fixtures import remote_settings, serve

SECRET = "pw-that-must-not-leak"
TOKEN = "token-that-must-not-leak"


def statuses(remote: RemoteRegistry) -> list[int]:
    """The statuses the client receives from now on."""
    seen: list[int] = []
    remote.transport.client.event_hooks["response"].append(lambda r: seen.append(r.status_code))
    return seen


@pytest.fixture
def unwraps(served_registry: Registry, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Data keys the server unwraps (one per decrypted version)."""
    counted: list[int] = []
    original = Keyring.unwrap_data_key

    def counting(self: Keyring, term: int, wrapped: bytes, aad: bytes) -> bytes:
        counted.append(term)
        return original(self, term, wrapped, aad)

    monkeypatch.setattr(Keyring, "unwrap_data_key", counting)
    return counted


def test_a_revalidated_load_is_a_304_that_decrypts_nothing(
        http_registry: RemoteRegistry, unwraps: list[int]) -> None:
    TestCreds(user="bob", password=SECRET).save("prod", registry=http_registry)
    seen = statuses(http_registry)
    first = http_registry.load("test-creds/prod")
    assert (seen, len(unwraps)) == ([200], 1)
    again = http_registry.load("test-creds/prod")
    assert (seen, len(unwraps)) == ([200, 304], 1)
    assert again == first and again is not first
    assert (again.block_id, again.block_version) == (first.block_id, 1)


def test_a_save_and_a_rotation_are_seen_by_the_very_next_load(
        http_registry: RemoteRegistry, served_registry: Registry) -> None:
    Secret(value="one").save("tok", registry=http_registry)
    assert http_registry.load("secret/tok").get() == "one"
    served_registry.save(Secret(value="two"), "tok", stage="pending", expected_version=1)
    assert http_registry.load("secret/tok").get() == "one"
    assert http_registry.load("secret/tok", stage="pending").get() == "two"
    served_registry.move_stages("secret/tok", expected_current=1, current=2, previous=1,
                                pending=None)
    assert http_registry.load("secret/tok").get() == "two"
    assert http_registry.load("secret/tok", stage="previous").get() == "one"
    served_registry.save(Secret(value="three"), "tok", overwrite=True)
    assert http_registry.load("secret/tok").get() == "three"


def test_a_change_of_a_referenced_block_or_a_rename_changes_the_etag(
        http_registry: RemoteRegistry, served_registry: Registry, server_url: str) -> None:
    TestCreds(user="bob", password="pw-1").save("creds", registry=http_registry)
    creds = http_registry.load("test-creds/creds")
    TestService(url="https://x", creds=creds).save("svc", registry=http_registry)
    url = f"{server_url}/v1/blocks/test-service/svc"
    first = httpx.get(url)
    etag = first.headers["etag"]
    assert httpx.get(url, headers={"if-none-match": etag}).status_code == 304
    served_registry.save(TestCreds(user="bob", password="pw-2"), "creds", overwrite=True)
    changed = httpx.get(url, headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    loaded = http_registry.load("test-service/svc")
    assert loaded.creds.password.get_secret_value() == "pw-2"
    assert loaded.creds.block_version == 2
    served_registry.rename("test-creds/creds", "creds-2")
    assert http_registry.load("test-service/svc").creds.block_name == "creds-2"


def test_the_opt_in_cache_serves_from_memory_only_within_its_bound(
        server_url: str, served_registry: Registry, unwraps: list[int]) -> None:
    now = [1000.0]
    remote = RemoteRegistry(remote_settings(server_url, api_cache_seconds=30),
                            clock=lambda: now[0])
    Secret(value="one").save("tok", registry=served_registry)
    seen = statuses(remote)
    assert remote.load("secret/tok").get() == "one"
    served_registry.save(Secret(value="two"), "tok", overwrite=True)
    now[0] += 29.9
    assert remote.load("secret/tok").get() == "one"  # within the bound: no request at all
    assert seen == [200]
    now[0] += 0.2
    assert remote.load("secret/tok").get() == "two"  # past it: asked again
    assert seen == [200, 200]
    now[0] += 31
    assert remote.load("secret/tok").get() == "two"
    assert seen == [200, 200, 304]
    Secret(value="mine").save("tok", registry=remote, overwrite=True)
    assert remote.load("secret/tok").get() == "mine"  # its own save is never served stale
    remote.close()


def test_a_dead_first_server_fails_over_for_reads_and_writes(server_url: str) -> None:
    remote = RemoteRegistry(remote_settings(f"http://127.0.0.1:1,{server_url}"))
    Secret(value="v").save("a", registry=remote)  # refused connection: nothing sent, may move on
    assert remote.load("secret/a").get() == "v"
    assert [s.ref for s in remote.list()] == ["secret/a"]
    remote.close()


def test_retries_back_off_and_then_name_every_server(tmp_path: Path) -> None:
    pauses: list[float] = []
    transport = Transport(["http://127.0.0.1:1", "http://127.0.0.1:2"], "t", attempts=5,
                          backoff=0.1, sleep=pauses.append)
    with pytest.raises(ServerUnavailable) as caught:
        transport.request("GET", "/v1/blocks", idempotent=True)
    assert pauses == [0.1, 0.2, 0.4, 0.8]
    message = str(caught.value)
    assert "tried http://127.0.0.1:1, http://127.0.0.1:2 (5 tries" in message
    assert "'t'" not in message and "Bearer" not in message


def test_a_replica_that_stops_is_failed_over_mid_run(served_registry: Registry) -> None:
    auth = static_authenticator(ADMIN)
    with serve(served_registry, auth) as second:
        with serve(served_registry, auth) as first:
            remote = RemoteRegistry(remote_settings(f"{first},{second}"))
            Secret(value="v").save("a", registry=remote)
            assert remote.load("secret/a").get() == "v"
        for _ in range(5):  # the first replica is gone
            assert remote.load("secret/a").get() == "v"
        Secret(value="w").save("a", registry=remote, overwrite=True)
        assert remote.load("secret/a").get() == "w"
        remote.close()


def test_secrets_and_the_token_never_reach_logs_or_error_bodies(
        server_url: str, caplog: pytest.LogCaptureFixture) -> None:
    remote = RemoteRegistry(remote_settings(server_url, token=TOKEN))
    with caplog.at_level(logging.DEBUG):
        TestCreds(user="bob", password=SECRET).save("prod", registry=remote)
        assert remote.load("test-creds/prod").password.get_secret_value() == SECRET
        remote.load("test-creds/prod")
        with pytest.raises(ValidationError) as caught:
            remote.parse("test-creds", {"user": "bob smith", "password": SECRET})
        answer = httpx.post(f"{server_url}/v1/blocks/test-creds/x",
                            json={"document": '{"password": 5, "user": "' + SECRET + '"}'})
    assert caplog.records, "DEBUG logging was on"
    assert SECRET not in caplog.text and TOKEN not in caplog.text
    assert SECRET not in str(caught.value)
    assert answer.status_code == 422 and SECRET not in answer.text
    assert TOKEN not in repr(remote) and TOKEN not in repr(remote.transport)
    assert TOKEN not in repr(remote.settings)
    remote.close()


@pytest.fixture
def remote_default(server_url: str, monkeypatch: pytest.MonkeyPatch,
                   blocks_home: Path) -> Iterator[None]:
    """The process's default registry is the server's (BLOCKS_API_URL only)."""
    monkeypatch.setenv("BLOCKS_API_URL", server_url)
    monkeypatch.setenv("BLOCKS_API_TOKEN", TOKEN)
    Registry.reset_default()
    yield
    Registry.reset_default()


def test_block_methods_use_the_server_with_only_the_api_settings(
        remote_default: None, served_registry: Registry, blocks_home: Path) -> None:
    assert isinstance(Registry.default(), RemoteRegistry)
    Secret(value="v1").save("tok")
    assert Secret.load("tok").get() == "v1"
    assert Block.load("secret/tok").block_version == 1

    async def flow() -> Any:
        await Secret(value="v2").asave("tok", overwrite=True)
        return await Secret.aload("tok")

    assert asyncio.run(flow()).get() == "v2"
    assert [v.version for v in Secret.history("tok")] == [1, 2]
    Secret.rollback("tok", 1)
    assert served_registry.load("secret/tok").get() == "v1"
    Secret.delete("tok")
    assert served_registry.list() == []
    assert not (blocks_home / "blocks.db").exists() and not (blocks_home / "master.key").exists()
