"""Settings: environment, defaults, and explicit arguments winning over the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocks import Settings
from blocks.errors import ConfigurationError


def test_defaults_put_everything_under_home(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setenv("BLOCKS_HOME", str(tmp_path))
    settings = Settings()
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'blocks.db'}"
    assert settings.resolved_master_key_file == tmp_path / "master.key"
    assert settings.key_provider == "local"


def test_explicit_arguments_win_over_aliased_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_ADDR", "http://from-env:8200")
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", "http://kms-from-env")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert Settings().vault_addr == "http://from-env:8200"
    explicit = Settings(vault_addr="http://explicit:8200", kms_endpoint_url="http://kms",
                        aws_region="us-east-2")
    assert explicit.vault_addr == "http://explicit:8200"
    assert explicit.kms_endpoint_url == "http://kms"
    assert explicit.aws_region == "us-east-2"


def test_blocks_prefixed_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOCKS_KEY_PROVIDER", "vault-transit")
    monkeypatch.setenv("BLOCKS_VAULT_TRANSIT_KEY", "registry")
    monkeypatch.setenv("BLOCKS_KEYRING_CACHE_SECONDS", "12.5")
    settings = Settings()
    assert (settings.key_provider, settings.vault_transit_key) == ("vault-transit", "registry")
    assert settings.keyring_cache_seconds == 12.5


def test_bad_provider_name_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOCKS_KEY_PROVIDER", "gcp-kms")
    with pytest.raises(ConfigurationError, match="BLOCKS_KEY_PROVIDER"):
        Settings()


def test_master_key_is_masked_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOCKS_MASTER_KEY", "c2VjcmV0LW1hc3Rlci1rZXktbWF0ZXJpYWwtMzJieXRlcw==")
    assert "c2VjcmV0" not in repr(Settings())
