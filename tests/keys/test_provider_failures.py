"""A provider that is down or refuses gives KeyProviderError and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocks import Registry, Settings
from blocks.errors import KeyProviderError
from blocks.key_management import KeyManager
from blocks.types.system import Secret
from tests.conftest import VaultAccess
from tests.keys.contract import SDK_NOISE
from tests.servers import Server, running, start_moto


def _counts(registry: Registry) -> tuple[int, int, int]:
    with registry.store.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one()
            for table in ("block", "block_version", "keyring_term")
        )


def _assert_clean(error: KeyProviderError, provider: str, endpoint: str) -> None:
    assert error.provider == provider and error.endpoint == endpoint
    assert all(noise not in str(error) for noise in SDK_NOISE)


@pytest.mark.aws
def test_kms_going_down_fails_cleanly_with_no_partial_write(
    blocks_home: Path, aws_env: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    with running(start_moto) as kms:
        # Settings(kms_endpoint_url=...) would lose to this variable: set the variable instead.
        monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", kms.url)
        client = boto3.client("kms", endpoint_url=kms.url)
        key_id = client.create_key()["KeyMetadata"]["KeyId"]
        settings = Settings(home=blocks_home, key_provider="aws-kms", kms_key_id=key_id)
        warm = Registry(settings)
        for i in range(3):
            warm.save(Secret(value=f"v{i}"), f"s{i}")
    # The server is gone. A process that already holds the keyring keeps working: loads make no
    # KMS call.
    assert warm.load("secret/s1").get() == "v1"
    cold = Registry(settings)
    before = _counts(cold)
    for action in (
        lambda: cold.save(Secret(value="new"), "new"),
        lambda: cold.save(Secret(value="v9"), "s0", overwrite=True),
        lambda: cold.load("secret/s0"),
        lambda: KeyManager(cold).rotate(),
    ):
        with pytest.raises(KeyProviderError) as info:
            action()
        _assert_clean(info.value, "aws-kms", kms.url)
        assert "unreachable" in info.value.reason
    assert _counts(cold) == before == (3, 3, 1)


@pytest.mark.vault
def test_vault_refusing_fails_cleanly_with_no_partial_write(
    blocks_home: Path, vault: VaultAccess, monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed, other = vault.new_transit_key(), vault.new_transit_key()
    role_id, secret_id = vault.approle_for(allowed)
    monkeypatch.delenv("VAULT_TOKEN")
    settings = Settings(
        home=blocks_home, key_provider="vault-transit", vault_transit_key=other,
        vault_role_id=role_id, vault_secret_id=secret_id,
    )
    reg = Registry(settings)
    with pytest.raises(KeyProviderError) as info:
        reg.save(Secret(value="never-written"), "refused")
    _assert_clean(info.value, "vault-transit", vault.url)
    assert "permission denied" in info.value.reason
    assert _counts(reg) == (0, 0, 0)
