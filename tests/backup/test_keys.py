"""Backups under a key of a key provider: AWS KMS (moto) and Vault Transit (OpenBao)."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocks import Registry, Secret, Settings
from blocks.backup.keysource import provider_key
from blocks.errors import BackupError, ConfigurationError
from blocks.keys.factory import parse_provider_spec
from blocks.verify import verify
from tests.backup.helpers import PASSPHRASE, new_registry, read_backup, write_backup


def _round_trip(source: Registry, spec: str, tmp_path: Path) -> None:
    Secret(value="provider-backed-0123456789").save("x", registry=source)
    key = provider_key(parse_provider_spec(spec), Settings(), new=True)
    write_backup(source, tmp_path / "b.bkp", key=key)
    target = new_registry(tmp_path / "t")
    try:
        with pytest.raises(BackupError, match="was made with the key"):
            read_backup(target, tmp_path / "b.bkp", key=PASSPHRASE)
        again = provider_key(parse_provider_spec(spec), Settings(), new=False)
        read_backup(target, tmp_path / "b.bkp", key=again)
        assert target.load("secret/x").get() == "provider-backed-0123456789"
        assert verify(target).ok
    finally:
        target.close()


@pytest.mark.aws
def test_a_backup_under_an_aws_kms_key(sqlite_registry: Registry, kms_key: str,
                                       tmp_path: Path) -> None:
    _round_trip(sqlite_registry, f"aws-kms:{kms_key}", tmp_path)


@pytest.mark.vault
def test_a_backup_under_a_vault_transit_key(sqlite_registry: Registry, vault, tmp_path: Path
                                            ) -> None:  # type: ignore[no-untyped-def]
    _round_trip(sqlite_registry, f"vault-transit:transit/{vault.new_transit_key()}", tmp_path)


@pytest.mark.aws
def test_the_registry_master_key_is_refused_as_backup_key(
    blocks_home: Path, kms_key: str, tmp_path: Path
) -> None:
    reg = Registry(Settings(home=blocks_home, key_provider="aws-kms", kms_key_id=kms_key))
    try:
        Secret(value="x-0123456789").save("x", registry=reg)
        key = provider_key(parse_provider_spec(f"aws-kms:{kms_key}"), Settings(), new=True)
        with pytest.raises(ConfigurationError, match="is the registry's own master key"):
            write_backup(reg, tmp_path / "b.bkp", key=key)
    finally:
        reg.close()


def test_a_provider_without_a_key_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="name the key"):
        provider_key(parse_provider_spec("aws-kms"), Settings(), new=True)
