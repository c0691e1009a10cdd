"""Issue 13, point 5: ``logging.basicConfig(level=DEBUG)`` never writes a keyring term key.

botocore logs request and response bodies at DEBUG, and KMS ``Encrypt``/``Decrypt`` carry the
term key as ``Plaintext``. Each provider runs a real journey (init, save, load in a fresh
registry, health check) in a subprocess with every logger at DEBUG; the term keys are printed on
stdout afterwards, with logging off, and must appear in no form in the log.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import AWS_TEST_ENV, VaultAccess
from tests.servers import Server

SECRET = "debug-log-secret-9c2e"

JOURNEY = f"""
import base64, json, logging, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
for name in ("botocore", "boto3", "urllib3", "hvac", "requests"):
    logging.getLogger(name).setLevel(logging.DEBUG)
from blocks import Registry, Secret
from blocks.crypto.keyring import term_context
from blocks.key_management import KeyManager

registry = Registry()
registry.init()
Secret(value={SECRET!r}).save("s", registry=registry, overwrite=True)
KeyManager(registry).rotate()
Secret(value={SECRET!r}).save("s", registry=registry, overwrite=True)
fresh = Registry()
assert fresh.load("secret/s").get() == {SECRET!r}
assert all(fresh.load("secret/s", version=v.version).get() == {SECRET!r}
           for v in fresh.history("secret/s"))
fresh.keyring.provider.check()
logging.disable(logging.CRITICAL)
provider = fresh.keyring.provider
keys = [provider.unwrap(r.wrapped_key, term_context(r.term)) for r in fresh.store.load_terms()]
print(json.dumps([base64.b64encode(k).decode() for k in keys]))
"""


def _forms(key: bytes) -> list[str]:
    return [
        base64.b64encode(key).decode(),
        base64.urlsafe_b64encode(key).decode(),
        base64.b64encode(key).decode().rstrip("="),
        key.hex(),
        repr(key)[2:-1],
    ]


def _run_journey(env: dict[str, str]) -> tuple[list[bytes], str]:
    result = subprocess.run([sys.executable, "-c", JOURNEY], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    keys = [base64.b64decode(k) for k in json.loads(result.stdout)]
    assert len(keys) == 2 and all(len(k) == 32 for k in keys)
    return keys, result.stderr


def _assert_no_key_in(log: str, keys: list[bytes]) -> None:
    for key in keys:
        for form in _forms(key):
            assert form not in log, f"a term key appears in the DEBUG log as {form[:6]}..."
    assert SECRET not in log


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKS_")}
    env["BLOCKS_HOME"] = str(tmp_path / "home")
    return env


def test_debug_log_of_local_provider_has_no_term_key(tmp_path: Path) -> None:
    keys, log = _run_journey({**_base_env(tmp_path), "BLOCKS_KEY_PROVIDER": "local"})
    _assert_no_key_in(log, keys)


def test_debug_log_of_aws_kms_provider_has_no_term_key(
    tmp_path: Path, kms_key: str, aws_env: Server
) -> None:
    env = {**_base_env(tmp_path), **AWS_TEST_ENV, "AWS_ENDPOINT_URL_KMS": aws_env.url,
           "BLOCKS_KEY_PROVIDER": "aws-kms", "BLOCKS_KMS_KEY_ID": kms_key}
    keys, log = _run_journey(env)
    assert "botocore" in log  # DEBUG logging of the SDK was on, outside our calls too
    _assert_no_key_in(log, keys)
    assert AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"] not in log


def test_debug_log_of_vault_transit_provider_has_no_term_key(
    tmp_path: Path, vault: VaultAccess
) -> None:
    env = {**_base_env(tmp_path), "VAULT_ADDR": vault.url, "VAULT_TOKEN": vault.root_token,
           "BLOCKS_KEY_PROVIDER": "vault-transit",
           "BLOCKS_VAULT_TRANSIT_KEY": vault.new_transit_key()}
    keys, log = _run_journey(env)
    _assert_no_key_in(log, keys)
    assert vault.root_token not in log


def test_debug_log_of_vault_approle_login_has_no_secret_id(
    tmp_path: Path, vault: VaultAccess
) -> None:
    key = vault.new_transit_key()
    env = {**_base_env(tmp_path), "VAULT_ADDR": vault.url, "VAULT_TOKEN": vault.root_token,
           "BLOCKS_KEY_PROVIDER": "vault-transit", "BLOCKS_VAULT_TRANSIT_KEY": key}
    _run_journey(env)  # the root token creates the registry; AppRole may only wrap and unwrap
    role_id, secret_id = vault.approle_for(key)
    env.pop("VAULT_TOKEN")
    env.update({"BLOCKS_VAULT_ROLE_ID": role_id, "BLOCKS_VAULT_SECRET_ID": secret_id})
    script = JOURNEY.replace("registry.init()\n", "")
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    keys = [base64.b64decode(k) for k in json.loads(result.stdout)]
    assert len(keys) == 3
    _assert_no_key_in(result.stderr, keys)
    assert secret_id not in result.stderr


def test_sdk_debug_logging_outside_provider_calls_is_left_alone(
    kms_key: str, aws_env: Server, caplog: pytest.LogCaptureFixture
) -> None:
    """Only our provider's calls are withheld: the application's own boto3 calls still log."""
    import logging

    import boto3

    from blocks.keys.aws_kms import AwsKmsKeyProvider

    provider = AwsKmsKeyProvider(kms_key, endpoint_url=aws_env.url)
    provider.check()
    client = boto3.client("kms", endpoint_url=aws_env.url)
    with caplog.at_level(logging.DEBUG):
        caplog.clear()
        client.list_keys()
        assert any(r.name.startswith("botocore") for r in caplog.records)
        caplog.clear()
        provider.check()
        assert not [r for r in caplog.records if r.levelno < logging.WARNING
                    and r.name.startswith(("botocore", "urllib3"))]
