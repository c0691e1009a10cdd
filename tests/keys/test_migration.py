"""Acceptance: 1,000 blocks migrate local -> aws-kms -> vault-transit -> local (rotate-master)."""

from __future__ import annotations

import itertools

import pytest

from blocks import Registry, Settings
from blocks.cli.main import main
from blocks.errors import BlocksError
from blocks.keys.factory import parse_provider_spec
from blocks.types.system import Secret
from tests.conftest import VaultAccess

COUNT = 1000

pytestmark = [pytest.mark.aws, pytest.mark.vault, pytest.mark.slow]


def test_1000_blocks_load_after_each_master_key_migration(
    registry: Registry,
    kms_key: str,
    vault: VaultAccess,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for i in range(COUNT):
        registry.save(Secret(value=f"secret-{i}"), f"b{i}")
    registry.close()
    if registry.settings.database_url:
        monkeypatch.setenv("BLOCKS_DATABASE_URL", registry.settings.database_url)
    vault_key = vault.new_transit_key()
    # Re-read the environment: the server fixtures set VAULT_ADDR and the KMS endpoint.
    base = Settings(home=registry.settings.home, database_url=registry.settings.database_url)
    steps = ["local", f"aws-kms:{kms_key}", f"vault-transit:transit/{vault_key}", "local"]
    for previous, target in itertools.pairwise(steps):
        code = main(["keys", "--key-provider", previous, "rotate-master", "--to", target])
        assert code == 0, capsys.readouterr().err
        settings = parse_provider_spec(target).apply(base)
        after = Registry(settings)
        status = [(t.provider, t.versions) for t in _status(after)]
        assert status == [(settings.key_provider, COUNT)]
        for i in range(COUNT):
            assert after.load(f"secret/b{i}").get() == f"secret-{i}"
        after.close()
        if previous != "local" or target != "local":
            stale = Registry(parse_provider_spec(previous).apply(base))
            with pytest.raises(BlocksError):
                stale.load("secret/b0")
            stale.close()


def _status(registry: Registry) -> list:  # type: ignore[type-arg]
    from blocks.key_management import KeyManager

    return KeyManager(registry).status().terms
