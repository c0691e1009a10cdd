"""scripts/bootstrap.sh (behind demo.sh and test.sh): a line per stage, reruns skip pip, and a
clear error for a missing or too old Python (issue 12, point 2).

The install tests run the real script on a copy of scripts/ beside a one-module project, so
they cost a venv and one small pip install, not the whole dependency tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ("bootstrap.sh", "pip_progress.py", "install_state.py")
PYPROJECT = """[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "mini-blocks"
version = "0.0.1"
requires-python = ">=3.11"

[project.optional-dependencies]
one = []
all = ["mini-blocks[one]"]

[project.scripts]
blocks = "mini:main"

[tool.setuptools]
py-modules = ["mini"]
"""


def _bootstrap(root: Path, extras: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f'source {root}/scripts/bootstrap.sh "$1" && blocks', "bootstrap", extras],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHON": sys.executable, **env},
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "scripts").mkdir(parents=True)
    for name in SCRIPTS:
        shutil.copy(ROOT / "scripts" / name, root / "scripts" / name)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "mini.py").write_text("def main() -> None:\n    print('mini blocks ran')\n")
    return root


def test_python_older_than_311_is_refused_with_the_fix(project: Path, tmp_path: Path) -> None:
    old = tmp_path / "python3.10"
    old.write_text('#!/bin/sh\nif [ "$1" = --version ]; then echo "Python 3.10.13"; '
                   "else exit 1; fi\n")
    old.chmod(0o755)
    done = _bootstrap(project, PYTHON=str(old))
    assert done.returncode == 1
    assert done.stderr == (f"error: Blocks needs Python >= 3.11, but {old} is Python 3.10.13; "
                           "install a newer one and run again with PYTHON=/path/to/python3.11 "
                           "(or newer)\n")
    assert not (project / ".venv").exists()


def test_a_missing_interpreter_is_named(project: Path) -> None:
    done = _bootstrap(project, PYTHON="python3.99-nowhere")
    assert done.returncode == 1
    assert "no Python interpreter 'python3.99-nowhere' on PATH" in done.stderr
    assert "PYTHON=/path/to/python3.11" in done.stderr


@pytest.mark.slow
def test_first_run_prints_stages_and_a_rerun_skips_pip(project: Path) -> None:
    first = _bootstrap(project, "[all]", BLOCKS_INSTALLER="pip")
    assert first.returncode == 0, first.stdout + first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == f"== creating .venv with {sys.executable} (Python {_version()})"
    assert lines[1] == "   installing pip into .venv"
    assert "== installing blocks-registry[all] and its dependencies into .venv (first install; "\
           "pip's log: .venv/bootstrap.log)" in lines
    # Only our stage and heartbeat lines: pip's own output is in the log.
    assert all(line.startswith(("== ", "   ")) for line in lines[:-1]), lines
    assert "   installing 1 packages" in lines
    assert lines[-1] == "mini blocks ran"
    # pip's own output, the editable-install notice of setuptools included, is in the log only.
    assert "Editable" not in first.stdout + first.stderr
    assert "Successfully installed mini-blocks" in (project / ".venv/bootstrap.log").read_text()
    stamp = json.loads((project / ".venv/bootstrap.stamp").read_text())
    assert stamp["extras"] == ["all", "one"]

    started = time.monotonic()
    again = _bootstrap(project, "[one]", BLOCKS_INSTALLER="pip")  # covered by [all]
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        f"== .venv is up to date (Python {_version()}, blocks-registry[one]): pip not run",
        "mini blocks ran"]
    assert time.monotonic() - started < 30

    # Any change to pyproject.toml makes the next run install again (checked without pip).
    (project / "pyproject.toml").write_text(PYPROJECT.replace('"0.0.1"', '"0.0.2"'))
    changed = subprocess.run(
        [str(project / ".venv/bin/python"), str(project / "scripts/install_state.py"), "check",
         str(project / ".venv/bootstrap.stamp"), "[one]"],
        capture_output=True, text=True, timeout=60,
    )
    assert (changed.returncode, changed.stdout) == (1, "pyproject.toml or Python changed\n")


@pytest.mark.slow
def test_the_default_installer_is_uv_with_stage_lines(project: Path) -> None:
    """Without BLOCKS_INSTALLER, pip puts uv into .venv and uv installs the project: the same
    kind of stage lines, uv's own output in the log only, and a rerun installs nothing."""
    env = {k: v for k, v in os.environ.items() if k != "BLOCKS_INSTALLER"}
    first = subprocess.run(
        ["bash", "-c", f'source {project}/scripts/bootstrap.sh "[all]" && blocks', "bootstrap"],
        capture_output=True, text=True, timeout=600, env={**env, "PYTHON": sys.executable},
    )
    assert first.returncode == 0, first.stdout + first.stderr
    lines = first.stdout.splitlines()
    assert "   installing uv into .venv (the installer; BLOCKS_INSTALLER=pip for pip)" in lines
    assert all(line.startswith(("== ", "   ")) for line in lines[:-1]), lines
    assert "   installed 1 packages" in lines
    assert lines[-1] == "mini blocks ran"
    assert (project / ".venv/bin/uv").exists()
    log = (project / ".venv/bootstrap.log").read_text()
    assert "Resolved" in log and "+ mini-blocks==0.0.1" in log
    assert "Editable" not in first.stdout + first.stderr
    again = subprocess.run(
        ["bash", "-c", f'source {project}/scripts/bootstrap.sh "[one]" && blocks', "bootstrap"],
        capture_output=True, text=True, timeout=600, env={**env, "PYTHON": sys.executable},
    )
    assert again.stdout.splitlines()[0].endswith("pip not run"), again.stdout


def test_extras_that_include_others_cover_them() -> None:
    state = [sys.executable, str(ROOT / "scripts/install_state.py")]

    def check(stamp: Path, extras: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*state, "check", str(stamp), extras], capture_output=True,
                              text=True, timeout=60)

    stamp = ROOT / ".venv" / f"test-stamp-{os.getpid()}"
    try:
        assert check(stamp, "[dev]").stdout == "first install\n"
        subprocess.run([*state, "write", str(stamp), "[dev]"], check=True, timeout=60)
        for covered in ("", "[terraform]", "[aws,vault]", "[dev]"):
            assert check(stamp, covered).returncode == 0, covered
        missing = check(stamp, "[snowflake]")
        assert (missing.returncode, missing.stdout) == (1, "new extras: snowflake\n")
        subprocess.run([*state, "write", str(stamp), "[snowflake]"], check=True, timeout=60)
        assert check(stamp, "[snowflake,dev]").returncode == 0
    finally:
        stamp.unlink(missing_ok=True)


def _version() -> str:
    return ".".join(str(part) for part in sys.version_info[:3])
