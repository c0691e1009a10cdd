"""Issue 13, point 11: a keyring whose record names another master key must not send the
operator to configure that key: a database writer can put any key id there."""

from __future__ import annotations

import os

import pytest
import sqlalchemy

from blocks import Registry, Secret
from blocks.errors import KeyringError
from blocks.key_management import KeyManager
from blocks.keys.local import LocalKeyProvider

ATTACKER_KEY = "arn:aws:kms:us-east-1:666666666666:key/attacker-controlled"


def _claim_other_key(registry: Registry) -> None:
    with registry.store.engine.begin() as conn:
        conn.execute(sqlalchemy.text(
            "UPDATE keyring_term SET provider = 'aws-kms', key_id = :key"), {"key": ATTACKER_KEY})


def _assert_cautious(message: str) -> None:
    assert "\n" not in message
    assert "may have been altered" in message and "do not configure the key it names" in message
    assert "set BLOCKS_KEY_PROVIDER" not in message and "configure that key first" not in message


def test_load_with_a_tampered_term_record_warns_instead_of_redirecting(
    registry: Registry,
) -> None:
    Secret(value="v").save("s", registry=registry)
    _claim_other_key(registry)
    other = Registry(registry.settings, key_provider=_Remote(os.urandom(32)))
    with pytest.raises(KeyringError) as caught:
        other.load("secret/s")
    _assert_cautious(str(caught.value))
    other.close()


def test_rotate_master_with_a_tampered_term_record_warns_instead_of_redirecting(
    registry: Registry,
) -> None:
    Secret(value="v").save("s", registry=registry)
    _claim_other_key(registry)
    stale = Registry(registry.settings, key_provider=LocalKeyProvider(os.urandom(32)))
    with pytest.raises(KeyringError) as caught:
        KeyManager(stale).rotate_master(LocalKeyProvider(os.urandom(32)))
    _assert_cautious(str(caught.value))
    stale.close()


def test_rotate_with_a_retargeted_term_record_warns_instead_of_redirecting(
    registry: Registry,
) -> None:
    Secret(value="v").save("s", registry=registry)
    _claim_other_key(registry)
    with pytest.raises(KeyringError) as caught:
        KeyManager(registry).rotate()
    message = str(caught.value)
    _assert_cautious(message)
    assert "now wrapped by" not in message and "update BLOCKS_KEY_PROVIDER" not in message
    assert ATTACKER_KEY in message and "no term was added" in message
    assert [r.term for r in registry.store.load_terms()] == [1]


def test_cli_rotate_with_a_retargeted_term_record_warns_instead_of_redirecting(
    registry: Registry, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from blocks.cli.main import main

    Secret(value="v").save("s", registry=registry)
    _claim_other_key(registry)
    monkeypatch.setenv("BLOCKS_HOME", str(registry.settings.home))
    if registry.settings.database_url:
        monkeypatch.setenv("BLOCKS_DATABASE_URL", registry.settings.database_url)
    assert main(["keys", "rotate"]) == 1
    err = capsys.readouterr().err
    _assert_cautious(err.strip())
    assert "now wrapped by" not in err and "BLOCKS_KEY_PROVIDER" not in err


class _Remote(LocalKeyProvider):
    name = "vault-transit"  # type: ignore[assignment]
