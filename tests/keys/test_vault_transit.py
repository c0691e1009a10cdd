"""The vault-transit provider passes the key-provider contract against an OpenBao dev server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from blocks.errors import DecryptionError, KeyProviderError
from blocks.keys.base import KeyProvider
from blocks.keys.factory import provider_from_settings
from blocks.keys.vault_transit import VaultTransitKeyProvider
from blocks.settings import Settings
from tests.conftest import VaultAccess
from tests.keys.contract import KeyProviderContract
from tests.servers import closed_port_url

pytestmark = pytest.mark.vault


class TestVaultTransitWithToken(KeyProviderContract):
    @pytest.fixture
    def provider(self, vault: VaultAccess) -> KeyProvider:
        key = vault.new_transit_key()
        return provider_from_settings(Settings(key_provider="vault-transit", vault_transit_key=key))

    @pytest.fixture
    def other_provider(self, vault: VaultAccess) -> KeyProvider:
        return VaultTransitKeyProvider(vault.url, vault.new_transit_key(), token=vault.root_token)

    @pytest.fixture
    def unreachable(self, vault: VaultAccess) -> tuple[Callable[[], KeyProvider], str]:
        url = closed_port_url()
        return (lambda: VaultTransitKeyProvider(url, "blocks", token=vault.root_token)), url

    @pytest.fixture
    def sensitive(self, vault: VaultAccess) -> list[str]:
        return [vault.root_token]


class TestVaultTransitWithAppRole(KeyProviderContract):
    @pytest.fixture
    def approle(self, vault: VaultAccess) -> tuple[str, str, str]:
        key = vault.new_transit_key()
        return (key, *vault.approle_for(key))

    @pytest.fixture
    def provider(
        self, vault: VaultAccess, approle: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch
    ) -> KeyProvider:
        key, role_id, secret_id = approle
        monkeypatch.delenv("VAULT_TOKEN")
        return provider_from_settings(
            Settings(
                key_provider="vault-transit",
                vault_transit_key=key,
                vault_role_id=role_id,
                vault_secret_id=secret_id,
            )
        )

    @pytest.fixture
    def other_provider(self, vault: VaultAccess) -> KeyProvider:
        key = vault.new_transit_key()
        role_id, secret_id = vault.approle_for(key)
        return VaultTransitKeyProvider(vault.url, key, role_id=role_id, secret_id=secret_id)

    @pytest.fixture
    def unreachable(
        self, approle: tuple[str, str, str]
    ) -> tuple[Callable[[], KeyProvider], str]:
        key, role_id, secret_id = approle
        url = closed_port_url()
        factory = lambda: VaultTransitKeyProvider(  # noqa: E731
            url, key, role_id=role_id, secret_id=secret_id
        )
        return factory, url

    @pytest.fixture
    def sensitive(self, vault: VaultAccess, approle: tuple[str, str, str]) -> list[str]:
        return [vault.root_token, approle[2]]


def test_approle_cannot_use_another_key(vault: VaultAccess) -> None:
    mine, theirs = vault.new_transit_key(), vault.new_transit_key()
    role_id, secret_id = vault.approle_for(mine)
    provider = VaultTransitKeyProvider(vault.url, theirs, role_id=role_id, secret_id=secret_id)
    with pytest.raises(KeyProviderError) as info:
        provider.wrap(b"k" * 32, {})
    assert "permission denied" in info.value.reason


def test_wrong_secret_id_is_a_key_provider_error(vault: VaultAccess) -> None:
    key = vault.new_transit_key()
    role_id, _ = vault.approle_for(key)
    provider = VaultTransitKeyProvider(vault.url, key, role_id=role_id, secret_id="wrong")
    with pytest.raises(KeyProviderError) as info:
        provider.check()
    assert "wrong" not in str(info.value)


def test_approle_logs_in_again_when_the_token_is_revoked(vault: VaultAccess) -> None:
    key = vault.new_transit_key()
    role_id, secret_id = vault.approle_for(key)
    provider = VaultTransitKeyProvider(vault.url, key, role_id=role_id, secret_id=secret_id)
    wrapped = provider.wrap(b"k" * 32, {})
    vault.client().auth.token.revoke(provider._client.token)
    assert provider.unwrap(wrapped, {}) == b"k" * 32


def test_missing_transit_key_on_unwrap_is_a_key_provider_error(vault: VaultAccess) -> None:
    provider = VaultTransitKeyProvider(vault.url, vault.new_transit_key(), token=vault.root_token)
    wrapped = provider.wrap(b"k" * 32, {})
    absent = VaultTransitKeyProvider(vault.url, "never-created", token=vault.root_token)
    with pytest.raises(KeyProviderError) as info:
        absent.unwrap(wrapped, {})
    assert "not found" in info.value.reason


def test_missing_mount_is_a_key_provider_error(vault: VaultAccess) -> None:
    provider = VaultTransitKeyProvider(
        vault.url, "blocks", mount="no-such-mount", token=vault.root_token
    )
    with pytest.raises(KeyProviderError) as info:
        provider.check()
    assert "no-such-mount" in info.value.reason


def test_create_makes_the_transit_key(vault: VaultAccess) -> None:
    settings = Settings(key_provider="vault-transit", vault_transit_key="made-by-init")
    provider = provider_from_settings(settings, create=True)
    assert vault.client().secrets.transit.read_key(name="made-by-init")["data"]["type"] == (
        "aes256-gcm96"
    )
    provider.check()


def test_context_is_bound_as_associated_data(vault: VaultAccess) -> None:
    key = vault.new_transit_key()
    provider = VaultTransitKeyProvider(vault.url, key, token=vault.root_token)
    wrapped = provider.wrap(b"k" * 32, {"term": "1"})
    with pytest.raises(DecryptionError):
        provider.unwrap(wrapped, {"term": "2"})


def test_a_server_that_ignores_associated_data_is_refused(vault: VaultAccess) -> None:
    """Vault < 1.13 drops associated_data with a warning; no such server runs here, so a client
    answering like one stands in."""

    class OldTransit:
        def encrypt_data(self, **_: object) -> dict[str, object]:
            return {
                "data": {"ciphertext": "vault:v1:AAAA"},
                "warnings": ["Endpoint ignored these unrecognized parameters: [associated_data]"],
            }

    class OldClient:
        secrets = type("Secrets", (), {"transit": OldTransit()})()

    provider = VaultTransitKeyProvider(vault.url, "k", client=OldClient())
    with pytest.raises(KeyProviderError, match=r"Vault >= 1\.13"):
        provider.wrap(b"k" * 32, {"term": "1"})
