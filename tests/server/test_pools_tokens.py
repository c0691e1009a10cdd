"""Work pools through a blocks server with real tokens and policies (the default
authenticator): a policy on ``etl-*`` pools lets ``WorkPool`` see and render those, and
nothing else; no token, or a revoked one, is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from blocks import Registry, Secret
from blocks.access import policies
from blocks.access.store import AccessStore
from blocks.codec import MASK
from blocks.errors import Forbidden, Unauthorized
from blocks.pools import WorkPool
from blocks.remote.registry import RemoteRegistry
from tests.server_fixtures import remote_settings, serve

SECRET = "etl-db-password-token-test-31c"


@pytest.fixture
def setup(served_registry: Registry) -> Iterator[tuple[str, str, AccessStore]]:
    """A server with the default authenticator; yields its URL, an etl-operator token and the
    access store."""
    Secret(value=SECRET).save("etl-db", registry=served_registry)
    Secret(value="admin-password-never-read").save("admin", registry=served_registry)
    for name in ("etl-a", "etl-b", "billing"):
        WorkPool(name=name, type="process").save(registry=served_registry)
    access = AccessStore(served_registry.store, served_registry.sealer)
    access.initialize()
    access.put_policy("etl-ops", policies.parse("etl-ops", {
        "pools": {"etl-*": ["read"]}, "blocks": {"secret/etl-*": ["read"]}}))
    token, _ = access.create_token("etl-operator", ["etl-ops"], owner="etl")
    with serve(served_registry) as url:  # create_app's default: the token authenticator
        yield url, token, access


def remote(url: str, token: str | None) -> RemoteRegistry:
    return RemoteRegistry(remote_settings(url, token))


def test_a_pool_policy_scopes_what_workpool_sees_and_does(
    setup: tuple[str, str, AccessStore], served_registry: Registry
) -> None:
    url, token, _ = setup
    registry = remote(url, token)
    assert [p.name for p in WorkPool.list_pools(registry=registry)] == ["etl-a", "etl-b"]
    pool = WorkPool.load("etl-a", registry=registry)
    job = pool.render_job({"env": {"DB": "{{ blocks.secret.etl-db }}"}})
    assert job.configuration["env"] == {"DB": SECRET}
    assert job.masked()["env"] == {"DB": MASK}
    with pytest.raises(Forbidden, match="'read-metadata' capability on work pool 'billing'"):
        WorkPool.load("billing", registry=registry)
    with pytest.raises(Forbidden, match="'write' capability on work pool 'etl-a'"):
        pool.pause()
    with pytest.raises(Forbidden, match="'write' capability on work pool 'etl-a'"):
        pool.create_queue("critical")
    with pytest.raises(Forbidden, match="'delete' capability on work pool 'etl-b'"):
        WorkPool.delete("etl-b", registry=registry)
    with pytest.raises(Forbidden, match="on block 'secret/admin'") as refused:
        pool.render_job({"env": {"LOOT": "{{ blocks.secret.admin }}"}})
    assert "admin-password-never-read" not in str(refused.value)
    registry.close()
    assert WorkPool.load("etl-a", registry=served_registry).is_paused is False
    assert [q.name for q in WorkPool.load("etl-a", registry=served_registry).queues()] == [
        "default"]


def test_no_token_or_a_revoked_one_is_refused(setup: tuple[str, str, AccessStore]) -> None:
    url, token, access = setup
    with pytest.raises(Unauthorized):
        WorkPool.list_pools(registry=remote(url, None))
    access.revoke("etl-operator")
    with pytest.raises(Unauthorized):
        WorkPool.load("etl-a", registry=remote(url, token))
