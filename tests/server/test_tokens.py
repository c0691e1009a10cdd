"""Tokens through a real ``blocks server`` (issue 20, Reliability): a token without the
capability gets 403 for each capability, expired and revoked tokens get 401, a token for
``secret/app-*`` cannot read ``secret/admin``, lists are filtered, a tampered token row is
refused, repeated failures are slowed down, and no token reaches the log."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from blocks import Registry, Secret
from blocks.access import policies
from blocks.access.policies import CAPABILITIES
from blocks.access.store import AccessStore
from blocks.errors import Forbidden, IntegrityError, Unauthorized
from blocks.remote.registry import RemoteRegistry
from blocks.server.app import create_app
from blocks.server.auth import Throttle, TokenAuthenticator
from tests.access.helpers import Clock
from tests.server_fixtures import remote_settings, serve, serve_app
from tests.store.tamper import tamper

APP = "secret/app-db"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def access(served_registry: Registry, clock: Clock) -> AccessStore:
    store = AccessStore(served_registry.store, served_registry.sealer, clock)
    served_registry.save(Secret(value="app-value"), "app-db")
    served_registry.save(Secret(value="admin-value"), "admin")
    return store


@pytest.fixture
def url(served_registry: Registry, access: AccessStore) -> Iterator[str]:
    authenticator = TokenAuthenticator(served_registry, access=access)
    with serve_app(create_app(served_registry, authenticator=authenticator)) as base:
        yield base


def token_with(access: AccessStore, name: str, document: dict[str, Any], **kw: Any) -> str:
    access.put_policy(name, policies.parse(name, document))
    token, _ = access.create_token(name, [name], **kw)
    return token


def client(url: str, token: str | None) -> RemoteRegistry:
    return RemoteRegistry(remote_settings(url, token))


OPERATIONS: dict[str, Callable[[RemoteRegistry], Any]] = {
    "read": lambda r: r.load(APP),
    "read-metadata": lambda r: r.summary(APP),
    "write": lambda r: r.save(Secret(value="new"), "app-db", overwrite=True),
    "delete": lambda r: r.delete(APP),
    "rotate": lambda r: r.move_stages(APP, expected_current=1, current=1),
}


@pytest.mark.parametrize("capability", list(OPERATIONS))
def test_a_token_without_the_capability_gets_403_for_it(
    url: str, access: AccessStore, capability: str
) -> None:
    # Every capability but this one (and but those that imply it), on every block.
    others = [c for c in CAPABILITIES
              if c != "admin" and capability not in policies.implied(c)]
    lacking = client(url, token_with(access, "lacking", {"blocks": {"*/*": others}}))
    with pytest.raises(Forbidden) as caught:
        OPERATIONS[capability](lacking)
    message = str(caught.value)
    assert f"'{capability}' capability on block '{APP}'" in message
    assert "app-value" not in message
    holder = client(url, token_with(access, "holder", {"blocks": {"secret/app-*": [capability]}}))
    OPERATIONS[capability](holder)  # the same call with the capability goes through


def test_a_token_for_secret_app_star_cannot_read_secret_admin(
    url: str, access: AccessStore
) -> None:
    worker = client(url, token_with(access, "worker", {"blocks": {"secret/app-*": ["read"]}}))
    assert worker.load(APP).value.get_secret_value() == "app-value"
    with pytest.raises(Forbidden, match="'read' capability on block 'secret/admin'"):
        worker.load("secret/admin")
    with pytest.raises(Forbidden, match="'write' capability"):
        worker.save(Secret(value="x"), "app-db", overwrite=True)


def test_lists_show_only_what_the_token_may_read_metadata(
    url: str, access: AccessStore
) -> None:
    worker = client(url, token_with(access, "worker", {"blocks": {"secret/app-*": ["read"]}}))
    assert [s.ref for s in worker.list()] == [APP]
    admin = client(url, token_with(access, "root", {"admin": True}))
    assert [s.ref for s in admin.list()] == ["secret/admin", APP]


def test_missing_bad_expired_and_revoked_tokens_get_401(
    url: str, access: AccessStore, clock: Clock
) -> None:
    token = token_with(access, "worker", {"blocks": {"*/*": ["read"]}}, ttl=timedelta(hours=1))
    assert client(url, token).load(APP).value.get_secret_value() == "app-value"
    for bad in (None, "blk_" + "A" * 43, token[:-2]):
        with pytest.raises(Unauthorized) as caught:
            client(url, bad).load(APP)
        assert token[4:] not in str(caught.value)
    clock.advance(hours=1)
    with pytest.raises(Unauthorized, match="unknown, expired or revoked"):
        client(url, token).load(APP)
    other = token_with(access, "other", {"blocks": {"*/*": ["read"]}})
    assert client(url, other).summary(APP).name == "app-db"
    access.revoke("other")
    with pytest.raises(Unauthorized, match="unknown, expired or revoked"):
        client(url, other).summary(APP)
    answer = httpx.get(f"{url}/v1/blocks/{APP}", headers={"Authorization": f"Bearer {other}"})
    assert answer.status_code == 401 and other not in answer.text
    answer = httpx.get(f"{url}/v1/blocks/{APP}", headers={"Authorization": "Basic x"})
    assert answer.status_code == 401 and "Bearer" in answer.json()["error"]["message"]


def test_a_token_unrevoked_in_the_database_is_refused(
    url: str, access: AccessStore, served_registry: Registry
) -> None:
    token = token_with(access, "worker", {"blocks": {"*/*": ["read"]}})
    access.revoke("worker")
    tamper(served_registry.store.url, "UPDATE api_token SET revoked_at = NULL")
    answer = httpx.get(f"{url}/v1/blocks/{APP}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 409
    assert answer.json()["error"]["type"] == "IntegrityError"
    assert "app-value" not in answer.text
    with pytest.raises(IntegrityError, match="API token 'worker'"):
        client(url, token).load(APP)


def test_repeated_failures_from_one_address_get_429_with_retry_after(
    served_registry: Registry, access: AccessStore
) -> None:
    good = token_with(access, "worker", {"blocks": {"*/*": ["read"]}})
    throttle = Throttle(free=3, base=3.0)  # lock-outs outlast a slow request on a busy host
    authenticator = TokenAuthenticator(served_registry, access=access, throttle=throttle)
    with serve_app(create_app(served_registry, authenticator=authenticator)) as base:
        def get(token: str) -> httpx.Response:
            return httpx.get(f"{base}/v1/blocks/{APP}",
                             headers={"Authorization": f"Bearer {token}"})

        bad = "blk_" + "B" * 43
        assert [get(bad).status_code for _ in range(3)] == [401, 401, 401]
        assert get(bad).status_code == 401  # the fourth failure starts the lock-out
        locked = get(good)  # even a valid token waits: the address is locked out
        assert locked.status_code == 429
        assert locked.headers["Retry-After"] in ("1", "2", "3")
        assert locked.json()["error"]["type"] == "RateLimited"
        time.sleep(3.05)
        assert get(good).status_code == 200  # and a success clears the address
        assert [get(bad).status_code for _ in range(4)] == [401] * 4
        assert get(bad).status_code == 429
        unsent = httpx.get(f"{base}/v1/blocks/{APP}")  # locked out: 429 without a token too
        assert unsent.status_code == 429
    throttle = Throttle(free=1)
    authenticator = TokenAuthenticator(served_registry, access=access, throttle=throttle)
    with serve_app(create_app(served_registry, authenticator=authenticator)) as base:
        # Requests without a token guess nothing: refused, never counted.
        assert [httpx.get(f"{base}/v1/blocks").status_code for _ in range(5)] == [401] * 5
        ok = httpx.get(f"{base}/v1/blocks", headers={"Authorization": f"Bearer {good}"})
        assert ok.status_code == 200


def test_no_token_reaches_the_server_log(
    served_registry: Registry, access: AccessStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = token_with(access, "worker", {"blocks": {"secret/app-*": ["read"]}})
    with serve(served_registry) as base:  # the default authenticator
        remote = client(base, token)
        remote.load(APP)
        with pytest.raises(Forbidden):
            remote.load("secret/admin")
        with pytest.raises(Unauthorized):
            client(base, token[:-1] + "x").load(APP)
    assert token[4:] not in caplog.text and token[4:-1] not in caplog.text
    assert "app-value" not in caplog.text


def test_a_malformed_load_without_a_good_token_gets_401_before_422(
    url: str, access: AccessStore
) -> None:
    """Deny by default: the load checks its query before its handler authenticates; a bad
    query from a client without a valid token is answered 401, as on every other route."""
    token = token_with(access, "worker", {"blocks": {"*/*": ["read"]}})
    for query in ("version=abc", "version=0", "validate=maybe", "stage=nope"):
        for headers in ({}, {"Authorization": "Bearer blk_" + "B" * 43},
                        {"Authorization": "Basic x"}):
            answer = httpx.get(f"{url}/v1/blocks/{APP}?{query}", headers=headers)
            assert answer.status_code == 401, (query, headers, answer.text)
            assert answer.json()["error"]["type"] == "Unauthorized"
        answer = httpx.get(f"{url}/v1/blocks/{APP}?{query}",
                           headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 422, (query, answer.text)
        assert "query." in answer.json()["error"]["message"]
