"""Creating what already exists in the registry fails with the import command to run."""

from __future__ import annotations

import pytest

from blocks import Registry, Secret
from blocks.pools import WorkPool
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

CONFIG = """
resource "blocks_secret" "token" {
  name  = "token"
  value = "from-terraform"
}
resource "blocks_work_pool" "etl" {
  name = "etl"
  type = "process"
}
"""


def test_create_of_existing_objects_says_how_to_import_them(
    tf: Terraform, tf_registry: Registry
) -> None:
    Secret(value="made-in-python").save("token", registry=tf_registry)
    WorkPool(name="etl", type="process").save(registry=tf_registry)
    tf.write(CONFIG)
    proc = tf.run("apply", "-auto-approve", check=False)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 1
    assert "blocks: already exists" in out
    assert "terraform import blocks_secret.<NAME> secret/token" in out
    assert "terraform import blocks_work_pool.<NAME> etl" in out
    assert "made-in-python" not in out and "from-terraform" not in out
    assert Secret.load("token", registry=tf_registry).get() == "made-in-python"
    tf.run("import", "blocks_secret.token", "secret/token")
    tf.run("import", "blocks_work_pool.etl", "etl")
    tf.apply()
    assert Secret.load("token", registry=tf_registry).get() == "from-terraform"
    tf.assert_no_changes()
