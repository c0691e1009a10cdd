"""The run's "Terraform" section: which binaries it used, and the tests it did not run.

A plugin (``pytest_plugins`` in ``tests/conftest.py``) rather than part of
``tests/terraform/conftest.py``, so that it is loaded on the pytest-xdist controller too, which
collects nothing: ``conftest.py`` fills :data:`USED` and :data:`NOT_RUN` at collection, each
worker sends them in ``workeroutput``, and the controller merges and prints them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.terraform.versions import TerraformBinary

NOT_RUN = pytest.StashKey[list[str]]()
USED = pytest.StashKey[set[TerraformBinary]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "terraform_min(version): runs only on Terraform binaries at least this new; "
        "without one the test is reported as not run (tests/terraform/conftest.py)")
    config.addinivalue_line(
        "markers", "tf_launcher: Terraform launches the installed provider for every walk "
        "instead of reattaching to the test's own provider process (tests/terraform/reattach.py); "
        "tf_launcher(oldest_only=True): on the oldest binary only")
    config.stash[NOT_RUN] = []
    config.stash[USED] = set()


def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["terraform_used"] = [(str(b.path), list(b.version), b.error)
                                    for b in session.config.stash[USED]]
        output["terraform_not_run"] = list(session.config.stash[NOT_RUN])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    output = getattr(node, "workeroutput", None) or {}
    stash = node.config.stash
    for path, version, error_text in output.get("terraform_used", []):
        stash[USED].add(TerraformBinary(Path(path), tuple(version), error_text))
    stash[NOT_RUN].extend(line for line in output.get("terraform_not_run", [])
                          if line not in stash[NOT_RUN])


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    used, not_run = config.stash[USED], config.stash[NOT_RUN]
    if not used and not not_run:
        return
    terminalreporter.section("Terraform")
    for binary in sorted(used, key=lambda b: b.version):
        terminalreporter.write_line(f"used Terraform {binary.label} ({binary.path})")
    for line in not_run:
        terminalreporter.write_line(f"NOT RUN {line}")
