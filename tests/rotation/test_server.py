"""Rotation, ``verify`` and ``keys status`` through ``blocks server``: the client's calls run on
the server, loads see a promotion at once, each route refuses a token without its capability,
and no response carries a secret value."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from blocks import Registry, Secret
from blocks.codec import secret_values
from blocks.errors import Forbidden, RotationError
from blocks.rotation import (
    RotationPolicy,
    cancel_rotation,
    get_rotation,
    rotate,
    rotate_due,
    rotation_events,
    set_rotation,
)
from blocks.server.security import ADMIN, StaticPrincipal, static_authenticator
from tests.server_fixtures import serve

FIRST = "first-value-0123456789"


@contextlib.contextmanager
def _client(registry: Registry, principal: Any) -> Iterator[httpx.Client]:
    """Plain HTTP to a real server over ``registry`` where every request is ``principal``'s."""
    with serve(registry, static_authenticator(principal)) as url, httpx.Client(
            base_url=url, timeout=30) as client:
        yield client


@pytest.fixture
def admin_api(sqlite_registry: Registry) -> Iterator[httpx.Client]:
    with _client(sqlite_registry, ADMIN) as client:
        yield client


def test_rotate_now_through_the_client_is_seen_by_the_next_load(http_registry: Any) -> None:
    Secret(value=FIRST).save("tok", registry=http_registry)
    record = set_rotation("secret/tok", RotationPolicy(rotator="generated", interval="30d"),
                          registry=http_registry)
    assert record.policy.rotator == "generated" and record.next_due_at is not None
    before = Secret.load("tok", registry=http_registry)
    outcome = rotate("secret/tok", now=True, registry=http_registry)
    assert outcome.status == "rotated" and outcome.version == 2
    after = Secret.load("tok", registry=http_registry)
    assert after.block_version == 2 and after.get() != FIRST and before.get() == FIRST
    assert Secret.load("tok", stage="previous", registry=http_registry).get() == FIRST
    steps = [(e.step, e.outcome) for e in rotation_events("secret/tok", registry=http_registry)]
    assert steps[-1] == ("promote", "ok") and ("start", "ok") in steps
    actors = {e.actor for e in rotation_events("secret/tok", registry=http_registry)}
    assert actors == {"api:admin"}  # the kind from the client, the name from the token
    assert rotate("secret/tok", registry=http_registry).status == "not-due"
    stored = get_rotation("secret/tok", registry=http_registry)
    assert stored is not None and stored.last_rotated_at is not None and stored.run is None
    assert http_registry.rotation().promoted_versions("secret/tok") == {2}


def test_due_cancel_and_errors_come_back_as_locally(http_registry: Any) -> None:
    Secret(value=FIRST).save("a", registry=http_registry)
    Secret(value=FIRST).save("b", registry=http_registry)
    set_rotation("secret/a", RotationPolicy(rotator="generated", interval="1d"),
                 registry=http_registry)
    assert http_registry.rotation().due() == ["secret/a"]
    outcomes = rotate_due(registry=http_registry)
    assert [(o.ref, o.status) for o in outcomes] == [("secret/a", "rotated")]
    assert rotate_due(registry=http_registry) == []
    with pytest.raises(RotationError, match="nothing to cancel"):
        cancel_rotation("secret/a", registry=http_registry)
    from blocks.errors import ConfigurationError, ValidationError

    with pytest.raises(ConfigurationError, match="secret/b has no rotation policy"):
        rotate("secret/b", now=True, registry=http_registry)
    with pytest.raises(ValidationError, match=r"options\.field"):
        set_rotation("secret/b", RotationPolicy(rotator="generated",
                                                options={"field": "nope"}),
                     registry=http_registry)
    assert http_registry.rotation().drop_policy("secret/a") is True
    assert http_registry.rotation().drop_policy("secret/a") is False
    assert get_rotation("secret/a", registry=http_registry) is None


def test_listing_and_show_through_the_client(http_registry: Any) -> None:
    Secret(value=FIRST).save("tok", registry=http_registry)
    set_rotation("secret/tok", RotationPolicy(rotator="generated"), registry=http_registry)
    rotate("secret/tok", now=True, registry=http_registry)
    (item,) = http_registry.rotation().listing()
    assert item.ref == "secret/tok" and item.record.policy.schedule() == "manual"
    assert item.last_event is not None and item.last_event.step in {"promote", "revoke"}


def test_verify_and_keys_status_match_the_local_answers(http_registry: Any,
                                                        served_registry: Registry) -> None:
    Secret(value=FIRST).save("tok", registry=http_registry)
    set_rotation("secret/tok", RotationPolicy(rotator="generated"), registry=http_registry)
    rotate("secret/tok", now=True, registry=http_registry)
    remote, local = http_registry.verify(), served_registry.verify()
    # the server recorded the verify request itself after it answered: one event more
    assert local.checked["events"] == remote.checked["events"] + 1
    assert remote.ok and remote.checked["versions"] == 2
    assert {k: v for k, v in remote.checked.items() if k != "events"} == \
        {k: v for k, v in local.checked.items() if k != "events"}
    assert http_registry.keys_status() == served_registry.keys_status()


POLICY = {"rotator": "generated", "interval": "30d"}
PER_BLOCK = [  # method, path, body, capability, status once granted
    ("GET", "/v1/blocks/secret/{n}/rotation", None, "read-metadata", 200),
    ("PUT", "/v1/blocks/secret/{n}/rotation", POLICY, "rotate", 200),
    ("DELETE", "/v1/blocks/secret/{n}/rotation", None, "rotate", 200),
    ("POST", "/v1/blocks/secret/{n}/rotation/rotate?force=true", None, "rotate", 200),
    ("POST", "/v1/blocks/secret/{n}/rotation/cancel", None, "rotate", 400),  # nothing to cancel
    ("GET", "/v1/blocks/secret/{n}/rotation/events", None, "read-metadata", 200),
    ("GET", "/v1/blocks/secret/{n}/rotation/promoted", None, "read-metadata", 200),
]


@pytest.mark.parametrize(("method", "path", "body", "capability", "status"), PER_BLOCK)
def test_each_route_refuses_a_token_without_its_capability(
    sqlite_registry: Registry, method: str, path: str, body: Any, capability: str, status: int
) -> None:
    Secret(value=FIRST).save("app-db", registry=sqlite_registry)
    set_rotation("secret/app-db", RotationPolicy(rotator="generated"), registry=sqlite_registry)
    # Every capability on the block but the one the route needs (read implies metadata).
    others = {"read-metadata", "write", "delete", "rotate"} - {capability}
    if capability == "read-metadata":
        others.discard("read")
    lacking = StaticPrincipal("ci", {"blocks": {"secret/*": others}})
    with _client(sqlite_registry, lacking) as api:
        answer = api.request(method, path.format(n="app-db"), json=body)
    assert answer.status_code == 403, answer.text
    error = answer.json()["error"]
    assert error["type"] == "Forbidden"
    assert repr(capability) in error["message"] and "secret/app-db" in error["message"]
    granted = StaticPrincipal("ci", {"blocks": {"secret/app-*": {capability}}})
    with _client(sqlite_registry, granted) as api:
        answer = api.request(method, path.format(n="app-db"), json=body)
    assert answer.status_code == status, answer.text
    assert FIRST not in answer.text


@pytest.mark.parametrize("path", ["/v1/verify", "/v1/keys/status"])
def test_admin_routes_need_admin(sqlite_registry: Registry, path: str) -> None:
    sqlite_registry.init()  # a server serves a registry that exists (its audit trail is there)
    everything = StaticPrincipal("ops", {"blocks": {"*": {"read", "write", "delete", "rotate"}},
                                         "pools": {"*": {"read", "write", "delete"}}})
    with _client(sqlite_registry, everything) as api:
        answer = api.get(path)
    assert answer.status_code == 403, answer.text
    assert "'admin'" in answer.json()["error"]["message"]
    with _client(sqlite_registry, ADMIN) as api:
        assert api.get(path).status_code == 200


def test_lists_and_rotate_due_keep_to_what_the_token_may(sqlite_registry: Registry) -> None:
    for name in ("app-one", "admin-key"):
        Secret(value=FIRST).save(name, registry=sqlite_registry)
        set_rotation(f"secret/{name}", RotationPolicy(rotator="generated", interval="1d"),
                     registry=sqlite_registry)
    app_only = StaticPrincipal("ci", {"blocks": {"secret/app-*": {"read-metadata", "rotate"}}})
    with _client(sqlite_registry, app_only) as api:
        assert api.get("/v1/rotation/due").json() == {"due": ["secret/app-one"]}
        listed = api.get("/v1/rotation/policies").json()["policies"]
        assert [p["ref"] for p in listed] == ["secret/app-one"]
        done = api.post("/v1/rotation/due/rotate?actor=cli").json()["outcomes"]
        assert [(o["ref"], o["status"]) for o in done] == [("secret/app-one", "rotated")]
    assert sqlite_registry.summary("secret/admin-key").current_version == 1  # not rotated
    assert sqlite_registry.summary("secret/app-one").current_version == 2
    (event,) = [e for e in rotation_events("secret/app-one", registry=sqlite_registry)
                if e.step == "promote"]
    assert event.actor == "cli:ci"


def test_a_bad_actor_kind_or_policy_is_a_clear_422(admin_api: httpx.Client,
                                                    sqlite_registry: Registry) -> None:
    Secret(value=FIRST).save("tok", registry=sqlite_registry)
    answer = admin_api.get("/v1/blocks/secret/tok/rotation?actor=Robert%27)")
    assert answer.status_code == 422 and "actor" in answer.json()["error"]["message"]
    answer = admin_api.put("/v1/blocks/secret/tok/rotation",
                           json={"rotator": "generated", "interval": "soon"})
    assert answer.status_code == 422 and "interval" in answer.json()["error"]["message"]
    for policy in ({"rotator": "generated", "interval": "999999999w"},
                   {"rotator": "generated", "grace": "99999999d"},
                   {"rotator": "generated", "interval": 1e30},
                   {"rotator": "generated", "interval": "P99999999D"}):
        answer = admin_api.put("/v1/blocks/secret/tok/rotation", json=policy)
        assert answer.status_code == 422, (policy, answer.text)
        assert answer.json()["error"]["type"] == "InvalidArgument"
    answer = admin_api.get("/v1/blocks/secret/nope/rotation")
    assert answer.status_code == 404 and answer.json()["error"]["type"] == "BlockNotFound"


def test_no_secret_in_any_rotation_response(admin_api: httpx.Client,
                                            sqlite_registry: Registry) -> None:
    Secret(value=FIRST).save("tok", registry=sqlite_registry)
    bodies = [admin_api.put("/v1/blocks/secret/tok/rotation",
                            json={"rotator": "generated", "grace": "1d"}).text]
    for _ in range(2):
        bodies.append(admin_api.post("/v1/blocks/secret/tok/rotation/rotate?force=true").text)
    for path in ("/v1/blocks/secret/tok/rotation", "/v1/blocks/secret/tok/rotation/events",
                 "/v1/rotation/policies", "/v1/rotation/due", "/v1/verify", "/v1/keys/status"):
        answer = admin_api.get(path)
        assert answer.status_code == 200, (path, answer.text)
        bodies.append(answer.text)
    text = "\n".join(bodies)
    values = {FIRST}
    for info in sqlite_registry.history("secret/tok"):
        values |= set(secret_values(sqlite_registry.load("secret/tok", version=info.version)))
    assert len(values) == 3
    for value in values:
        assert value not in text


def test_forbidden_comes_back_to_the_client_as_forbidden(sqlite_registry: Registry) -> None:
    from blocks.remote.registry import RemoteRegistry
    from tests.server_fixtures import remote_settings

    reader = StaticPrincipal("reader", {"blocks": {"secret/*": {"read"}}})
    Secret(value=FIRST).save("tok", registry=sqlite_registry)
    with serve(sqlite_registry, static_authenticator(reader)) as url:
        remote = RemoteRegistry(remote_settings(url))
        assert get_rotation("secret/tok", registry=remote) is None
        with pytest.raises(Forbidden, match="reader lacks the 'rotate' capability on block "
                                            "secret/tok"):
            set_rotation("secret/tok", RotationPolicy(rotator="generated"), registry=remote)
        with pytest.raises(Forbidden, match="'admin'"):
            remote.verify()
        with pytest.raises(Forbidden, match="'admin'"):
            remote.keys_status()
        remote.close()


def test_the_remote_client_offers_the_engine_s_methods_with_the_same_signatures() -> None:
    import inspect

    from blocks.rotation import Rotation, RotationService
    from blocks.rotation.remote import RemoteRotation

    public = [n for n in dir(RotationService) if not n.startswith("_") and n != "actor"]
    assert len(public) == 10
    for name in public:
        wanted = inspect.signature(getattr(RotationService, name))
        for cls in (Rotation, RemoteRotation):
            found = inspect.signature(getattr(cls, name))
            # The engine's extra ``only=`` filter is the server's (what the token may touch).
            params = [p for p in found.parameters.values() if p.name != "only"]
            assert params == list(wanted.parameters.values()), (cls.__name__, name)
            assert found.return_annotation == wanted.return_annotation, (cls.__name__, name)


class SlowRotator:
    """``generated``, but its upstream step takes longer than the client's usual timeout."""

    name = "slow-test"
    from blocks.rotation.generated import GeneratedOptions as options_model

    def check(self, block_type: object, options: object) -> None: ...

    def create(self, ctx: Any) -> Any:
        from blocks.rotation.base import with_value

        time.sleep(1.5)
        return with_value(ctx.current, "value", "slowly-made-value-0123")

    def set(self, ctx: object) -> None: ...
    def test(self, ctx: object) -> None: ...
    def revoke(self, ctx: object) -> None: ...
    def cancel(self, ctx: object) -> None: ...


def test_a_rotation_slower_than_the_client_timeout_still_answers(
    server_url: str, served_registry: Registry
) -> None:
    from blocks.remote.registry import RemoteRegistry
    from blocks.remote.transport import Transport
    from blocks.rotation import plugins
    from tests.server_fixtures import remote_settings

    plugins.register(SlowRotator)
    remote = RemoteRegistry(remote_settings(server_url),
                            transport=Transport([server_url], None, timeout=0.5))
    Secret(value=FIRST).save("slow", registry=served_registry)
    set_rotation("secret/slow", RotationPolicy(rotator="slow-test"), registry=remote)
    started = time.monotonic()
    outcome = rotate("secret/slow", now=True, registry=remote)
    assert outcome.status == "rotated"
    assert time.monotonic() - started > 1.5  # three times the transport's read timeout
    assert Secret.load("slow", registry=remote).get() == "slowly-made-value-0123"
    remote.close()
