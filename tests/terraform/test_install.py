"""``blocks terraform install``: offline mirror, stable launcher, fast schema-only start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from blocks.cli.main import main
from blocks_terraform import install, schema_cache
from tests.terraform.conftest import HEADER, TERRAFORM


def test_launcher_bytes_never_depend_on_the_python(tmp_path: Path) -> None:
    first = install.install(tmp_path / "m", python="/opt/venv-a/bin/python")
    second = install.install(tmp_path / "m", python="/opt/venv-b/bin/python")
    assert [p.read_bytes() for p in first.launchers] == [p.read_bytes() for p in second.launchers]
    assert all(p.read_bytes() == install.LAUNCHER for p in second.launchers)
    assert "venv-b" in (tmp_path / "m" / "python.env").read_text()


def test_cli_install_prints_the_cli_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BLOCKS_HOME", str(tmp_path / "home"))
    assert main(["terraform", "install", "--print", "--mirror", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "filesystem_mirror" in out and str(tmp_path / "m") in out
    assert 'exclude = ["registry.terraform.io/blocks-registry/blocks"]' in out
    assert not (tmp_path / "home" / "terraform" / "terraform.rc").exists()


def test_cli_install_writes_the_cli_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BLOCKS_HOME", str(tmp_path / "home"))
    assert main(["terraform", "install"]) == 0
    rc = tmp_path / "home" / "terraform" / "terraform.rc"
    assert "filesystem_mirror" in rc.read_text()
    assert f"TF_CLI_CONFIG_FILE={rc}" in capsys.readouterr().out


@pytest.mark.terraform
def test_lock_file_stays_valid_after_reinstalling_with_another_python(tmp_path: Path) -> None:
    if not TERRAFORM.exists():
        pytest.skip("terraform binary not installed")
    done = install.install(tmp_path / "m", python="/nonexistent/python",
                           cli_config_path=tmp_path / "rc")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(done.cli_config_path),
           "CHECKPOINT_DISABLE": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    work = tmp_path / "work"
    work.mkdir()
    (work / "main.tf").write_text(HEADER)

    def init() -> str:
        proc = subprocess.run([str(TERRAFORM), "init", "-no-color"], cwd=work, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return (work / ".terraform.lock.hcl").read_text()

    lock = init()
    assert install.LAUNCHER_HASH in lock
    install.install(tmp_path / "m", python=sys.executable)  # an "upgrade": new Python, same bytes
    assert init() == lock
    proc = subprocess.run([str(TERRAFORM), "plan", "-no-color"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_launcher_answers_the_plugin_handshake(tmp_path: Path) -> None:
    """The installed launcher starts the provider, which prints go-plugin's handshake line
    (protocol 6, a unix socket). How fast is measured by benchmarks/terraform_bench.py, not
    here: a time bound in a test fails on a busy machine (CI once took 2.3 s)."""
    done = install.install(tmp_path / "m", python=sys.executable)
    launcher = next(p for p in done.launchers if "linux_amd64" in str(p))
    proc = subprocess.Popen([str(launcher)], stdout=subprocess.PIPE, env={**os.environ})
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    proc.terminate()
    proc.wait()
    assert line.startswith("1|6|unix|")


def test_schema_calls_import_neither_store_nor_sdks(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-c", "from blocks_terraform import schema_cache; "
                    "schema_cache.load()"], env=env, check=True)
    probe = (
        "import sys\n"
        "from tf.utils import Diagnostics\n"
        "from blocks_terraform.provider import BlocksProvider\n"
        "p = BlocksProvider()\n"
        "p.get_provider_schema(Diagnostics()).to_pb()\n"
        "[r.get_schema().to_pb() for r in p.get_resources()]\n"
        "[d.get_schema().to_pb() for d in p.get_data_sources()]\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    roots = {m.split(".")[0] for m in out}
    assert roots.isdisjoint({"sqlalchemy", "sqlmodel", "boto3", "hvac", "pydantic", "alembic"})
    assert not any(m.startswith("blocks.") or m == "blocks" for m in out)
    assert schema_cache.cache_path().name.startswith("specs-")


def test_spec_cache_ignores_the_working_directory_but_not_source_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    schema_cache.load()
    path = schema_cache.cache_path()
    first = path.stat().st_mtime_ns
    work = tmp_path / "terraform-workdir"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.syspath_prepend(str(work))  # what `python -m` does
    (work / "terraform.tfstate").write_text("{}")
    schema_cache.load()
    assert path.stat().st_mtime_ns == first

    source = tmp_path / "plugin_types.py"
    source.write_text("# v1\n")
    cached = json.loads(path.read_text())
    cached["files"].append(str(source))
    cached["signature"] = schema_cache._signature(cached["files"])
    path.write_text(json.dumps(cached))
    source.write_text("# v2, longer\n")
    schema_cache.load()
    assert str(source) not in json.loads(path.read_text())["files"]  # rebuilt from scratch
