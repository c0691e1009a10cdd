"""``vault-kv`` against the OpenBao dev server (KV v2 at ``secret/``)."""

from __future__ import annotations

import secrets

import pytest

from blocks import Registry, Secret, Settings
from blocks.core import Block
from blocks.rotation import Rotation, RotationPolicy, set_rotation
from tests.conftest import VaultAccess
from tests.rotation.contract import Accepts, RotatorContract

pytestmark = pytest.mark.vault


@pytest.fixture
def kv_path(vault: VaultAccess) -> str:
    path = f"apps/{secrets.token_hex(4)}"
    vault.client().secrets.kv.v2.create_or_update_secret(
        path=path, secret={"value": "first-value-0123456789", "user": "web"})
    return path


@pytest.fixture
def kv_registry(blocks_home: object, vault: VaultAccess) -> Registry:
    from pathlib import Path

    assert isinstance(blocks_home, Path)
    reg = Registry(Settings(home=blocks_home))
    yield reg  # type: ignore[misc]
    reg.close()


def _latest(vault: VaultAccess, path: str) -> dict[str, str]:
    read = vault.client().secrets.kv.v2.read_secret_version(
        path=path, raise_on_deleted_version=False)
    return dict(read["data"]["data"])


class TestVaultKvContract(RotatorContract):
    previous_works_in_grace = False
    current_works_while_pending = False

    @pytest.fixture
    def rotation_registry(self, kv_registry: Registry) -> Registry:
        return kv_registry

    @pytest.fixture
    def rotated(self, kv_registry: Registry, kv_path: str) -> tuple[str, RotationPolicy]:
        Secret(value="first-value-0123456789").save("web-db", registry=kv_registry)
        return "secret/web-db", RotationPolicy(rotator="vault-kv", options={"path": kv_path})

    @pytest.fixture
    def accepts(self, vault: VaultAccess, kv_path: str) -> Accepts:
        def accepts(block: Block) -> bool:
            assert isinstance(block, Secret)
            return _latest(vault, kv_path).get("value") == block.get()
        return accepts


def test_other_keys_are_kept_and_the_previous_version_is_destroyed(
    kv_registry: Registry, vault: VaultAccess, kv_path: str
) -> None:
    Secret(value="first-value-0123456789").save("web", registry=kv_registry)
    set_rotation("secret/web", RotationPolicy(rotator="vault-kv", grace="0s",
                                              options={"path": kv_path}), registry=kv_registry)
    assert Rotation(kv_registry).rotate("secret/web", force=True).status == "rotated"
    latest = _latest(vault, kv_path)
    assert latest["user"] == "web"
    assert latest["value"] == Secret.load("web", registry=kv_registry).get()
    meta = vault.client().secrets.kv.v2.read_secret_metadata(path=kv_path)["data"]
    assert meta["versions"]["1"]["destroyed"] is True
    assert meta["versions"]["2"]["destroyed"] is False


def test_a_concurrent_kv_write_fails_set_by_check_and_set(
    kv_registry: Registry, vault: VaultAccess, kv_path: str
) -> None:
    from tests.rotation.contract import Crash, crash_at

    Secret(value="first-value-0123456789").save("web", registry=kv_registry)
    set_rotation("secret/web", RotationPolicy(rotator="vault-kv", options={"path": kv_path}),
                 registry=kv_registry)
    with pytest.raises(Crash):
        Rotation(kv_registry, hook=crash_at("create", "recorded")).rotate("secret/web",
                                                                          force=True)
    vault.client().secrets.kv.v2.create_or_update_secret(
        path=kv_path, secret={"value": "someone-else-wrote", "user": "web"})
    outcome = Rotation(kv_registry).rotate("secret/web")
    assert outcome.status == "failed" and outcome.step == "set"
    assert "someone else wrote it" in (outcome.error or "")
    assert _latest(vault, kv_path)["value"] == "someone-else-wrote"
