"""``blocks_blocks`` and ``blocks_work_pools`` under real Terraform: their examples drive
``for_each`` over what the registry holds, and no secret reaches state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from blocks.pools import WorkPool
from blocks.registry import Registry
from blocks.types.aws import AwsCredentials
from blocks.types.system import Secret
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data-sources"


def test_blocks_lists_one_type_for_for_each_without_secrets(
        tf: Terraform, tf_registry: Registry) -> None:
    for name in ("prod", "staging"):
        AwsCredentials(aws_access_key_id="AKIAEXAMPLE0000",
                       aws_secret_access_key=SecretStr(f"aws-secret-{name}")).save(
            name, registry=tf_registry)
    Secret(value="not-listed").save("other", registry=tf_registry)
    tf.write((EXAMPLES / "blocks_blocks" / "data-source.tf").read_text() + """
output "listed" {
  value = data.blocks_blocks.aws
}
""")
    tf.apply()
    tf.assert_no_changes()
    listed = json.loads(tf.run("output", "-json").stdout)["listed"]["value"]
    assert listed["names"] == ["prod", "staging"]
    assert listed["blocks"]["prod"]["id"] == "aws-credentials/prod"
    assert listed["blocks"]["prod"]["version"] == 1
    assert listed["blocks"]["staging"]["placeholder"] == "{{ blocks.aws-credentials.staging }}"
    for name in ("prod", "staging"):
        lake = tf_registry.load(f"s3-bucket/lake-{name}")
        assert lake.credentials.block_ref == f"aws-credentials/{name}"
    assert "aws-secret-" not in tf.state_text()


def test_work_pools_lists_pools_for_for_each(tf: Terraform, tf_registry: Registry) -> None:
    for name, kind in (("k8s-a", "kubernetes"), ("k8s-b", "kubernetes"), ("local", "process")):
        WorkPool(name=name, type=kind).save(registry=tf_registry)
    tf.write((EXAMPLES / "blocks_work_pools" / "data-source.tf").read_text() + """
data "blocks_work_pools" "all" {}
output "all" {
  value = data.blocks_work_pools.all
}
""")
    tf.apply()
    tf.apply()  # the output read the pools before the queues were added
    tf.assert_no_changes()
    listed = json.loads(tf.run("output", "-json").stdout)["all"]["value"]
    assert listed["names"] == ["k8s-a", "k8s-b", "local"]
    assert listed["pools"]["local"]["type"] == "process"
    assert listed["pools"]["k8s-a"]["queues"] == ["default", "backfill"]
    for name in ("k8s-a", "k8s-b"):
        queue = WorkPool.load(name, registry=tf_registry).queue("backfill")
        assert queue.priority == 10 and queue.is_paused
    assert [q.name for q in WorkPool.load("local", registry=tf_registry).queues()] == [
        "default"]


def test_unknown_type_or_pool_type_is_refused_at_validate(tf: Terraform) -> None:
    tf.write('data "blocks_blocks" "x" {\n  type = "no-such-type"\n}\n'
             'data "blocks_work_pools" "y" {\n  type = "mainframe"\n}\n')
    proc = tf.run("validate", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "no-such-type" in out and "type must be one of" in out, out
