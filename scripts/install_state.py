"""Whether .venv already has what scripts/bootstrap.sh would install (so a rerun skips pip).

Usage (run with the venv's Python):
  python scripts/install_state.py check STAMP EXTRAS   exit 0 when up to date, else 1 + reason
  python scripts/install_state.py write STAMP EXTRAS   record a successful install

The stamp holds a hash of pyproject.toml and the venv's Python version, and every extra
installed so far (extras that include other extras, like ``dev``, are expanded), so that
``[terraform]`` after ``[dev]`` needs no pip run.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _project() -> tuple[str, dict[str, list[str]], bytes]:
    raw = (ROOT / "pyproject.toml").read_bytes()
    project = tomllib.loads(raw.decode())["project"]
    return project["name"], project.get("optional-dependencies", {}), raw


def expand(extras: str) -> set[str]:
    """``"[dev]"`` -> every extra it stands for, its own self-references included."""
    name, optional, _ = _project()
    todo = [e.strip() for e in extras.strip().strip("[]").split(",") if e.strip()]
    found: set[str] = set()
    while todo:
        extra = todo.pop()
        if extra in found:
            continue
        found.add(extra)
        for requirement in optional.get(extra, []):
            own = re.match(rf"^{re.escape(name)}\[([^\]]+)\]", requirement)
            if own:
                todo += [e.strip() for e in own.group(1).split(",")]
    return found


def key() -> str:
    """What invalidates the install: pyproject.toml and the Python that runs the venv."""
    _, _, raw = _project()
    digest = hashlib.sha256(raw)
    digest.update(sys.version.encode())
    return digest.hexdigest()


def main(argv: list[str]) -> int:
    command, stamp_path, extras = argv
    stamp = Path(stamp_path)
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        recorded = {}
    wanted = expand(extras)
    if command == "check":
        if recorded.get("key") != key():
            print("first install" if not recorded else "pyproject.toml or Python changed")
            return 1
        missing = wanted - set(recorded.get("extras", []))
        if missing:
            print("new extras: " + ", ".join(sorted(missing)))
            return 1
        return 0
    if command == "write":
        have = set(recorded.get("extras", [])) if recorded.get("key") == key() else set()
        stamp.write_text(json.dumps({"key": key(), "extras": sorted(have | wanted)}) + "\n")
        return 0
    raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
