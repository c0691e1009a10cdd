"""Every blocks route asks for its capability before acting; lists show only what the token
may see; a load needs ``read`` on every block it references."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from blocks import Registry, Secret
from blocks.errors import Forbidden
from blocks.remote.registry import RemoteRegistry
from blocks.server.security import StaticPrincipal, static_authenticator
from tests.core.models import TestCreds, TestService
from tests.server_fixtures import remote_settings, serve


@pytest.fixture
def saved(served_registry: Registry) -> Registry:
    creds = TestCreds(user="bob", password="pw")
    served_registry.save(creds, "app-creds")
    served_registry.save(TestService(url="https://x", creds=creds), "app-svc")
    served_registry.save(Secret(value="v"), "app-token")
    served_registry.save(Secret(value="v"), "admin")
    return served_registry


def client(registry: Registry, rules: dict[str, dict[str, set[str]]]
           ) -> Iterator[RemoteRegistry]:
    principal = StaticPrincipal("ci", rules)
    with serve(registry, static_authenticator(principal)) as url:
        remote = RemoteRegistry(remote_settings(url))
        yield remote
        remote.close()


@pytest.fixture
def metadata_reader(saved: Registry) -> Iterator[RemoteRegistry]:
    yield from client(saved, {"blocks": {"secret/app-*": {"read-metadata"}}})


@pytest.fixture
def app_reader(saved: Registry) -> Iterator[RemoteRegistry]:
    yield from client(saved, {"blocks": {"*/app-*": {"read"}, "test-service/*": {"read"}}})


def test_read_metadata_lists_and_shows_history_but_never_values(
        metadata_reader: RemoteRegistry) -> None:
    assert [s.ref for s in metadata_reader.list()] == ["secret/app-token"]
    assert [v.version for v in metadata_reader.history("secret/app-token")] == [1]
    assert metadata_reader.stages("secret/app-token") == {"current": 1}
    with pytest.raises(Forbidden, match="ci lacks the 'read' capability on block "
                                        "secret/app-token"):
        metadata_reader.load("secret/app-token")
    with pytest.raises(Forbidden, match="'read-metadata' capability on block secret/admin"):
        metadata_reader.summary("secret/admin")


def test_each_write_needs_its_own_capability(metadata_reader: RemoteRegistry,
                                             saved: Registry) -> None:
    with pytest.raises(Forbidden, match="'write' capability on block secret/app-token"):
        Secret(value="x").save("app-token", registry=metadata_reader, overwrite=True)
    with pytest.raises(Forbidden, match="'write' capability"):
        metadata_reader.rollback("secret/app-token", 1)
    with pytest.raises(Forbidden, match="'write' capability"):
        metadata_reader.rename("secret/app-token", "app-other")
    with pytest.raises(Forbidden, match="'rotate' capability on block secret/app-token"):
        metadata_reader.move_stages("secret/app-token", expected_current=1)
    with pytest.raises(Forbidden, match="'delete' capability on block secret/app-token"):
        metadata_reader.delete("secret/app-token")
    with pytest.raises(Forbidden, match="'delete' capability"):
        metadata_reader.purge("secret/app-token", 1)
    assert saved.summary("secret/app-token").current_version == 1


def test_a_load_needs_read_on_every_referenced_block(
        app_reader: RemoteRegistry, saved: Registry) -> None:
    assert app_reader.load("test-service/app-svc").creds.password.get_secret_value() == "pw"
    assert app_reader.load("test-service/app-svc").creds.user == "bob"  # and after a 304
    with pytest.raises(Forbidden, match="'read' capability on block secret/admin"):
        app_reader.load("secret/admin")


def test_a_reference_to_an_unreadable_block_refuses_the_load_also_after_a_304(
        saved: Registry) -> None:
    rules = {"blocks": {"test-service/*": {"read"}, "test-creds/*": {"read"}}}
    principal = StaticPrincipal("ci", rules)
    with serve(saved, static_authenticator(principal)) as url:
        remote = RemoteRegistry(remote_settings(url))
        remote.load("test-service/app-svc")
        del rules["blocks"]["test-creds/*"]  # the policy narrows while the client keeps a copy
        with pytest.raises(Forbidden, match="'read' capability on block test-creds/app-creds"):
            remote.load("test-service/app-svc")
        remote.close()


def test_saving_a_reference_needs_read_metadata_on_the_referenced_block(
        saved: Registry) -> None:
    rules = {"blocks": {"test-service/*": {"write"}}}
    creds = saved.load("test-creds/app-creds")
    with serve(saved, static_authenticator(StaticPrincipal("ci", rules))) as url:
        remote = RemoteRegistry(remote_settings(url))
        with pytest.raises(Forbidden, match="'read-metadata' capability on block "
                                            "test-creds/app-creds"):
            TestService(url="https://y", creds=creds).save("other", registry=remote)
        remote.close()
