"""Without the ``server`` extra (no FastAPI, no uvicorn) the CLI still works, and
``blocks server run`` says which extra to install (the wheel install test runs without it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# A child interpreter in which fastapi and uvicorn cannot be imported.
_BLOCKED = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("fastapi", "uvicorn", "starlette"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, _Block())
import importlib.util
_find = importlib.util.find_spec
def _find_spec(name, *a):
    return None if name in ("fastapi", "uvicorn") else _find(name, *a)
importlib.util.find_spec = _find_spec
from blocks.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _blocks(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"BLOCKS_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", _BLOCKED, *args], env=env, text=True,
                          capture_output=True, timeout=120)


def test_the_cli_builds_and_runs_without_fastapi(tmp_path: Path) -> None:
    done = _blocks(tmp_path, "server", "run", "--help")
    assert done.returncode == 0, done.stderr
    assert "--tls-cert" in done.stdout
    init = _blocks(tmp_path, "init")
    assert init.returncode == 0, init.stderr


def test_server_run_without_the_extra_names_it(tmp_path: Path) -> None:
    done = _blocks(tmp_path, "server", "run", "--port", "0")
    assert done.returncode != 0
    assert "blocks-registry[server]" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
