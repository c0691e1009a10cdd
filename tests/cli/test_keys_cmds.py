"""`blocks keys ...` and `blocks init --key-provider`: output, --json and exit codes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from blocks import Registry, Settings
from blocks.cli.main import main
from blocks.types.system import Secret


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def filled(blocks_home: Path) -> Path:
    reg = Registry(Settings(home=blocks_home))
    for i in range(5):
        reg.save(Secret(value=f"v{i}"), f"s{i}")
    reg.close()
    return blocks_home


def test_keys_status_lists_provider_terms_and_versions(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "keys", "status")
    assert code == 0
    assert out.startswith("master key: local sha256:")
    assert "TERM  CURRENT  VERSIONS" in out
    code, out, _ = run(capsys, "keys", "status", "--json")
    data = json.loads(out)
    assert data["provider"] == "local"
    assert [(t["term"], t["versions"], t["current"]) for t in data["terms"]] == [(1, 5, True)]


def test_keys_rotate_rewrap_retire(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "keys", "rotate")[:2] == (0, "current term: 2\n")
    code, _, err = run(capsys, "keys", "retire", "1", "--yes")
    assert code == 1 and "still wraps the data keys of 5 version(s)" in err
    code, out, err = run(capsys, "keys", "rewrap", "--batch-size", "2")
    assert code == 0 and "rewrapped 5 data key(s) under term 2" in out
    assert "rewrap [" in err and "5/5 (100%)" in err
    assert run(capsys, "keys", "retire", "1", "--yes")[:2] == (0, "retired term 1\n")
    code, out, _ = run(capsys, "--json", "keys", "status")
    assert [t["term"] for t in json.loads(out)["terms"]] == [2]


def test_keys_rewrap_json_names_terms(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "keys", "rotate")
    code, out, _ = run(capsys, "keys", "rewrap", "--term", "1", "--json")
    assert code == 0
    assert json.loads(out) == {"target_term": 2, "from_terms": [1], "moved": 5, "failed": []}


def test_keys_rotate_master_to_a_new_local_key(
    filled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new_key = tmp_path / "new.key"
    code, out, err = run(capsys, "keys", "rotate-master", "--to", f"local:{new_key}")
    assert code == 0 and "re-wrapped: local sha256:" in out
    assert f"BLOCKS_MASTER_KEY_FILE={new_key}" in err
    assert stat.S_IMODE(new_key.stat().st_mode) == 0o600
    code, out, _ = run(capsys, "--json", "inspect", "secret/s3", "--show-secrets")
    assert code == 1  # the old key file no longer opens the keyring
    code, out, _ = run(
        capsys, "--json", "keys", "--key-provider", f"local:{new_key}", "status"
    )
    assert code == 0 and json.loads(out)["terms"][0]["versions"] == 5
    reg = Registry(Settings(home=filled, master_key_file=new_key))
    assert reg.load("secret/s3").get() == "v3"


def test_keys_purge_shreds_an_old_version(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reg = Registry(Settings(home=filled))
    reg.save(Secret(value="newer"), "s0", overwrite=True)
    reg.close()
    code, out, _ = run(capsys, "keys", "purge", "secret/s0", "--version", "1", "--yes")
    assert code == 0 and "its data key is gone" in out
    code, _, err = run(capsys, "inspect", "secret/s0", "--version", "1")
    assert code == 1 and "purged" in err
    code, _, err = run(capsys, "keys", "purge", "secret/s0", "--version", "2", "--yes")
    assert code == 1 and "current version" in err


def test_bad_provider_spec_is_a_usage_error(
    blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "keys", "rotate-master", "--to", "gcp-kms:x")
    assert code == 2 and "unknown key provider 'gcp-kms'" in err
    code, _, err = run(capsys, "init", "--key-provider", "aws-kms:")
    assert code == 2 and "empty key" in err


def test_init_with_a_local_key_provider_path(
    blocks_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "keys" / "blocks.key"
    code, out, _ = run(capsys, "init", "--key-provider", f"local:{key}", "--json")
    assert code == 0 and json.loads(out)["key_provider"] == "local"
    assert key.exists() and not (blocks_home / "master.key").exists()


@pytest.mark.vault
def test_init_with_vault_transit_creates_the_key(
    blocks_home: Path, vault: object, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "init", "--key-provider", "vault-transit:transit/made-by-cli-init", "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert (data["key_provider"], data["key_id"]) == ("vault-transit", "transit/made-by-cli-init")


@pytest.mark.aws
def test_init_with_aws_kms(
    blocks_home: Path, kms_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "init", "--key-provider", f"aws-kms:{kms_key}", "--json")
    assert code == 0, err
    assert json.loads(out)["key_id"] == kms_key
    assert f"BLOCKS_KEY_PROVIDER=aws-kms\n  BLOCKS_KMS_KEY_ID={kms_key}" in err
    code, out, _ = run(capsys, "keys", "--key-provider", f"aws-kms:{kms_key}", "status")
    assert code == 0 and f"aws-kms {kms_key}" in out


def test_unreachable_provider_is_exit_1_with_a_short_message(
    filled: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.servers import closed_port_url

    url = closed_port_url()
    code, _, err = run(
        capsys, "keys", "--key-provider", "local", "rotate-master", "--to",
        "vault-transit:transit/x",
    )
    assert code == 1 and "VAULT_ADDR" in err
    monkeypatch.setenv("VAULT_ADDR", url)
    monkeypatch.setenv("VAULT_TOKEN", "t")
    code, _, err = run(capsys, "keys", "rotate-master", "--to", "vault-transit:transit/x")
    assert code == 1
    assert err == f"error: key provider vault-transit at {url}: unreachable (connection failed)\n"
