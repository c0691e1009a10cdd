"""Selecting a key provider from settings and from ``PROVIDER:KEY`` specs."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from blocks.errors import ConfigurationError, KeyProviderError
from blocks.keys.factory import ProviderSpec, parse_provider_spec, provider_from_settings
from blocks.keys.local import LocalKeyProvider
from blocks.settings import Settings


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("local", ProviderSpec("local")),
        ("local:/etc/blocks/master.key", ProviderSpec("local", "/etc/blocks/master.key")),
        ("aws-kms:alias/x", ProviderSpec("aws-kms", "alias/x")),
        (
            "aws-kms:arn:aws:kms:eu-west-1:111122223333:key/1234",
            ProviderSpec("aws-kms", "arn:aws:kms:eu-west-1:111122223333:key/1234"),
        ),
        ("vault-transit:transit/blocks", ProviderSpec("vault-transit", "transit/blocks")),
        ("aws-kms", ProviderSpec("aws-kms")),
    ],
)
def test_parse_provider_spec(spec: str, expected: ProviderSpec) -> None:
    assert parse_provider_spec(spec) == expected
    assert str(parse_provider_spec(spec)) == spec


@pytest.mark.parametrize("spec", ["gcp-kms:x", "", "aws-kms:", "LOCAL"])
def test_parse_provider_spec_rejects_bad_specs_with_the_format(spec: str) -> None:
    with pytest.raises(ConfigurationError, match="PROVIDER"):
        parse_provider_spec(spec)


def test_spec_apply_selects_vault_mount_and_key(tmp_path: Path) -> None:
    settings = parse_provider_spec("vault-transit:kv/team/blocks-key").apply(
        Settings(home=tmp_path)
    )
    assert settings.key_provider == "vault-transit"
    assert (settings.vault_transit_mount, settings.vault_transit_key) == ("kv/team", "blocks-key")
    plain = parse_provider_spec("vault-transit:only-key").apply(Settings(home=tmp_path))
    assert (plain.vault_transit_mount, plain.vault_transit_key) == ("transit", "only-key")


def test_local_spec_path_wins_over_master_key_env(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, master_key=base64.b64encode(os.urandom(32)).decode())
    chosen = parse_provider_spec(f"local:{tmp_path / 'other.key'}").apply(settings)
    assert chosen.master_key is None
    assert chosen.resolved_master_key_file == tmp_path / "other.key"


def test_local_key_file_created_0600_only_when_asked(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    with pytest.raises(KeyProviderError, match="blocks init"):
        provider_from_settings(settings)
    provider = provider_from_settings(settings, create=True)
    key_file = tmp_path / "home" / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert provider_from_settings(settings).key_id == provider.key_id


def test_master_key_env_overrides_the_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_provider = provider_from_settings(Settings(home=tmp_path), create=True)
    key = os.urandom(32)
    monkeypatch.setenv("BLOCKS_MASTER_KEY", base64.b64encode(key).decode())
    provider = provider_from_settings(Settings(home=tmp_path))
    assert provider.key_id == LocalKeyProvider(key).key_id != file_provider.key_id
    assert provider.endpoint == "BLOCKS_MASTER_KEY"


def test_malformed_master_key_env_names_the_variable_not_the_value(tmp_path: Path) -> None:
    with pytest.raises(KeyProviderError) as info:
        provider_from_settings(Settings(home=tmp_path, master_key="c2hvcnQ="))
    assert info.value.endpoint == "BLOCKS_MASTER_KEY"
    assert "c2hvcnQ" not in str(info.value)


def test_aws_kms_needs_a_key_id(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="BLOCKS_KMS_KEY_ID"):
        provider_from_settings(Settings(home=tmp_path, key_provider="aws-kms"))


def test_vault_transit_needs_an_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAULT_ADDR", raising=False)
    with pytest.raises(ConfigurationError, match="VAULT_ADDR"):
        provider_from_settings(Settings(home=tmp_path, key_provider="vault-transit"))


def test_vault_transit_needs_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    settings = Settings(
        home=tmp_path, key_provider="vault-transit", vault_addr="http://127.0.0.1:1"
    )
    with pytest.raises(KeyProviderError, match="VAULT_TOKEN"):
        provider_from_settings(settings)


def test_importing_the_key_modules_loads_no_sdk() -> None:
    code = (
        "import sys, blocks.keys, blocks.keys.factory, blocks.keys.aws_kms, "
        "blocks.keys.vault_transit; "
        "print(sorted(m for m in ('boto3', 'botocore', 'hvac') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from blocks.errors import MissingExtraError
    from blocks.keys import aws_kms, vault_transit

    monkeypatch.setitem(sys.modules, "boto3", None)
    monkeypatch.setitem(sys.modules, "hvac", None)
    with pytest.raises(MissingExtraError, match=r"blocks-registry\[aws\]"):
        aws_kms.AwsKmsKeyProvider("alias/x")
    with pytest.raises(MissingExtraError, match=r"blocks-registry\[vault\]"):
        vault_transit.VaultTransitKeyProvider("http://127.0.0.1:1", "k", token="t")
