"""Each module's own ``terraform test`` files (``terraform/modules/*/tests/*.tftest.hcl``) pass
against the real provider and a registry of the test's own, and leave nothing behind.

``terraform test`` exists since Terraform 1.6, so these run on 1.11.4 here, not on 1.0.3.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from blocks.pools import WorkPool
from blocks.registry import Registry
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

MODULES = Path(__file__).resolve().parents[2] / "terraform" / "modules"
NAMES = sorted(p.name for p in MODULES.iterdir() if (p / "main.tf").exists())
FINGERPRINT_KEY = "secret/terraform-fingerprint-key"


def test_every_module_has_terraform_test_files() -> None:
    for name in NAMES:
        assert list((MODULES / name / "tests").glob("*.tftest.hcl")), name


@pytest.mark.terraform_min("1.6")
@pytest.mark.parametrize("module", NAMES)
def test_module_terraform_test_passes_and_cleans_up(
    module: str, tf: Terraform, tf_registry: Registry
) -> None:
    # The working directory is initialised already (provider and lock file): add the module.
    shutil.copytree(MODULES / module, tf.workdir, dirs_exist_ok=True)
    out = tf.run("test").stdout
    runs = len(re.findall(r"^\s*run \"", (MODULES / module / "tests" / "main.tftest.hcl")
                          .read_text(), re.MULTILINE))
    assert re.search(rf"Success! {runs} passed, 0 failed", out), out
    assert [s.ref for s in tf_registry.list() if s.ref != FINGERPRINT_KEY] == []
    assert WorkPool.list_pools(registry=tf_registry) == []
