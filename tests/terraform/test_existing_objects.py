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
    assert "work pool etl already exists in the registry" in out
    assert "module.<MODULE>.blocks_work_pool.<NAME>" in out
    assert "overwrite" not in out and "load it and save" not in out  # no Python-API advice
    assert "made-in-python" not in out and "from-terraform" not in out
    assert Secret.load("token", registry=tf_registry).get() == "made-in-python"
    tf.run("import", "blocks_secret.token", "secret/token")
    tf.run("import", "blocks_work_pool.etl", "etl")
    tf.apply()
    assert Secret.load("token", registry=tf_registry).get() == "from-terraform"
    tf.assert_no_changes()


def test_already_exists_hint_for_a_generated_secret_keeps_the_value_out_of_state(
    tf: Terraform, tf_registry: Registry
) -> None:
    Secret(value="made-elsewhere-0123").save("gen", registry=tf_registry)
    tf.write('resource "blocks_secret" "gen" {\n  name = "gen"\n  generate {\n    length  = 19\n'
             '    special = true\n  }\n}\n')
    proc = tf.run("apply", "-auto-approve", check=False)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 1
    assert "terraform import blocks_secret.<NAME> secret/gen:generated" in out, out
    tf.run("import", "blocks_secret.gen", "secret/gen:generated")
    assert "made-elsewhere-0123" not in tf.state_text()
    tf.assert_no_changes()


WRITE_ONLY = """
variable "api_token" {
  type      = string
  sensitive = true
  ephemeral = true
}
resource "blocks_secret" "api" {
  name             = "api"
  value_wo         = var.api_token
  value_wo_version = 1
}
"""


@pytest.mark.terraform_min("1.11")
def test_importing_a_write_only_secret_keeps_its_value_out_of_state(
    tf: Terraform, tf_registry: Registry
) -> None:
    Secret(value="existing-wo-value").save("api", registry=tf_registry)
    tf.env["TF_VAR_api_token"] = "existing-wo-value"
    tf.write(WRITE_ONLY)
    proc = tf.run("apply", "-auto-approve", check=False)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 1
    assert "terraform import blocks_secret.<NAME> secret/api:write-only" in out, out
    tf.run("import", "blocks_secret.api", "secret/api:write-only")
    assert "existing-wo-value" not in tf.state_text()
    tf.apply()
    assert "existing-wo-value" not in tf.state_text()
    tf.assert_no_changes()
    assert tf_registry.load("secret/api").get() == "existing-wo-value"


def test_importing_a_pool_with_block_placeholders_says_to_use_the_placeholder_attribute(
    tf: Terraform, tf_registry: Registry
) -> None:
    from blocks.pools import default_base_job_template

    Secret(value="pw-never-shown").save("db-pass", registry=tf_registry)
    template = default_base_job_template("process")
    template["job_configuration"]["command"] = "run --password {{ blocks.secret.db-pass }}"
    WorkPool(name="etl", type="process", base_job_template=template).save(registry=tf_registry)
    if tf.binary.at_least("1.5"):  # import block + generated configuration
        tf.write('import {\n  to = blocks_work_pool.etl\n  id = "etl"\n}\n')
        proc = tf.run("plan", "-generate-config-out=generated.tf")
        assert "{{ blocks.secret.db-pass }}" in (tf.workdir / "generated.tf").read_text()
    else:
        tf.write('resource "blocks_work_pool" "etl" {\n  name = "etl"\n  type = "process"\n}\n')
        proc = tf.run("import", "blocks_work_pool.etl", "etl")
    out = " ".join((proc.stdout + proc.stderr).split())
    assert "Block placeholders in the imported template" in out, out
    assert '"${blocks_secret.<label>.placeholder}"' in out, out
    assert "pw-never-shown" not in out


def test_blocks_rm_refuses_a_secret_that_a_terraform_pool_uses_as_a_placeholder(
    tf: Terraform, tf_registry: Registry
) -> None:
    tf.write('''
resource "blocks_secret" "db" {
  name  = "db-pass"
  value = "pw-never-shown"
}
data "blocks_default_job_template" "process" {
  type = "process"
}
resource "blocks_work_pool" "etl" {
  name = "etl"
  type = "process"
  base_job_template = jsonencode(merge(jsondecode(
    data.blocks_default_job_template.process.base_job_template), {
    job_configuration = merge(jsondecode(
      data.blocks_default_job_template.process.base_job_template).job_configuration, {
      command = "run --password ${blocks_secret.db.placeholder}"
    })
  }))
}
''')
    tf.apply()
    proc = tf.blocks("rm", "secret/db-pass", "--yes")
    assert proc.returncode == 1, proc.stderr
    assert "used by work pool(s) etl" in proc.stderr and "--force" in proc.stderr
    assert tf_registry.load("secret/db-pass").get() == "pw-never-shown"
    assert tf.blocks("rm", "secret/db-pass", "--yes", "--force").returncode == 0
