"""The examples, the module and the journey run under real Terraform, offline."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from blocks.pools import WorkPool
from blocks.registry import Registry
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

ROOT = Path(__file__).resolve().parents[2]
RESOURCE_EXAMPLES = sorted((ROOT / "examples" / "resources").iterdir())


def _with_variables(tf: Terraform, hcl: str) -> None:
    for name in re.findall(r'variable "(\w+)"', hcl):
        tf.env[f"TF_VAR_{name}"] = f"example-{name.replace('_', '-')}"
    tf.write(hcl)


@pytest.mark.parametrize("example", RESOURCE_EXAMPLES, ids=[p.name for p in RESOURCE_EXAMPLES])
def test_resource_example_plans_and_has_an_import_script(example: Path, tf: Terraform) -> None:
    _with_variables(tf, (example / "resource.tf").read_text())
    code, out = tf.plan()
    assert code == 2, out
    script = (example / "import.sh").read_text()
    assert f"terraform import {example.name}." in script


def _copy_tree_for(tf: Terraform, *parts: str) -> Path:
    """Copy the repository paths the configuration refers to (relative module sources)."""
    base = tf.workdir.parent / "repo"
    for part in parts:
        shutil.copytree(ROOT / part, base / part)
    return base


def test_journey_applies_offline_and_is_stable(tf: Terraform) -> None:
    base = _copy_tree_for(tf, "examples/terraform", "terraform/modules")
    tf.workdir = base / "examples" / "terraform"
    tf.run("init")
    tf.apply()
    tf.assert_no_changes()
    outputs = json.loads(tf.run("output", "-json").stdout)
    assert outputs["lake"]["value"]["bucket_name"] == "acme-data-lake"
    assert outputs["warehouse_password_fingerprint"]["value"].startswith("hmac-sha256:")
    assert set(outputs["etl_queues"]["value"]) == {"critical"}
    tf.destroy()


def test_work_pool_module_example(tf: Terraform) -> None:
    base = _copy_tree_for(tf, "terraform/modules")
    tf.workdir = base / "terraform" / "modules" / "work-pool" / "examples" / "complete"
    tf.run("init")
    tf.apply()
    from blocks.settings import Settings

    registry = Registry(Settings(home=tf.home))
    pool = WorkPool.load("nightly-etl", registry=registry)
    assert pool.type == "kubernetes" and pool.concurrency_limit == 10
    assert [(q.name, q.priority) for q in pool.queues()] == [
        ("critical", 1), ("default", 2), ("backfill", 5)]
    registry.close()
    tf.assert_no_changes()


def work_pool_module_block(text: str) -> str:
    start = text.index('module "etl_pool" {')
    block = text[start:text.index("\n}\n", start) + 3]
    return re.sub(r'source = "[^"]+"', 'source = "..."', block)


def test_work_pool_module_readme_usage_is_the_runnable_example() -> None:
    folder = ROOT / "terraform" / "modules" / "work-pool"
    readme = (folder / "README.md").read_text()
    example = (folder / "examples" / "complete" / "main.tf").read_text()
    assert work_pool_module_block(readme) == work_pool_module_block(example)


def test_work_pool_module_refuses_two_queues_with_one_priority_at_plan(tf: Terraform) -> None:
    base = _copy_tree_for(tf, "terraform/modules")
    tf.workdir = base / "tied"
    tf.workdir.mkdir()
    tf.write('module "p" {\n  source = "../terraform/modules/work-pool"\n  name = "tied"\n'
             '  default_queue_priority = 2\n'
             '  queues = { a = { priority = 2, concurrency_limit = null },\n'
             '             b = { priority = 1, concurrency_limit = null } }\n}\n', header=False)
    tf.run("init")
    code, out = tf.plan()
    assert code == 1, out
    assert "queues a and default both have priority 2" in " ".join(out.split())


def test_work_pool_module_validates_its_variables(tf: Terraform) -> None:
    base = _copy_tree_for(tf, "terraform/modules")
    tf.workdir = base / "bad"
    tf.workdir.mkdir()
    tf.write('module "p" {\n  source = "../terraform/modules/work-pool"\n  name = "Bad_Name"\n'
             '  type = "mainframe"\n  queues = { q = { priority = 0, concurrency_limit = null } }'
             '\n}\n', header=False)
    tf.run("init")
    code, out = tf.plan()
    assert code == 1
    assert "The name must be" in out and "The type must be" in out and "priority >= 1" in out


def test_data_sources(tf: Terraform) -> None:
    tf.write("""
resource "blocks_work_pool" "etl" {
  name = "etl"
  type = "ecs"
}
data "blocks_work_pool" "etl" {
  name = blocks_work_pool.etl.name
}
data "blocks_default_job_template" "ecs" {
  type = "ecs"
}
locals {
  pool_template    = jsondecode(data.blocks_work_pool.etl.base_job_template)
  default_template = jsondecode(data.blocks_default_job_template.ecs.base_job_template)
}
output "same_template" {
  value = local.pool_template == local.default_template
}
output "queues" {
  value = data.blocks_work_pool.etl.queues
}
""")
    tf.apply()
    outputs = json.loads(tf.run("output", "-json").stdout)
    assert outputs["same_template"]["value"] is True
    assert outputs["queues"]["value"] == ["default"]
