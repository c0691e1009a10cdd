"""Terraform with ``prefect_api_url`` set: blocks_work_pool / blocks_work_queue are published to
a real Prefect server, and a change made on the Prefect side shows as drift in terraform plan."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from blocks.integrations.prefect import PrefectClient
from tests.servers import Server
from tests.terraform.conftest import (  # noqa: F401 - fixtures (the venv's Terraform here)
    Terraform,
    _private_spec_cache,
    terraform_binary,
    tf,
    tf_home_template,
    tf_initialised,
    tf_mirror,
)

pytestmark = pytest.mark.terraform


def config(url: str, pool: str, description: str = "declared in terraform") -> str:
    return f'''
provider "blocks" {{
  prefect_api_url = "{url}"
}}

resource "blocks_work_pool" "etl" {{
  name              = "{pool}"
  type              = "process"
  description       = "{description}"
  concurrency_limit = 5
}}

resource "blocks_work_queue" "critical" {{
  pool              = blocks_work_pool.etl.name
  name              = "critical"
  priority          = 2
  concurrency_limit = 1
}}

resource "blocks_work_queue" "bulk" {{
  pool     = blocks_work_pool.etl.name
  name     = "bulk"
  priority = 3
  paused   = true
}}
'''


def test_apply_publishes_and_prefect_side_drift_shows_in_plan(
    tf: Terraform, prefect_server: Server, prefect: PrefectClient  # noqa: F811
) -> None:
    pool = f"tf-{secrets.token_hex(3)}"
    tf.write(config(prefect_server.url, pool))
    tf.apply()

    theirs = prefect.request("GET", f"work_pools/{pool}", "pool")
    assert (theirs["type"], theirs["description"], theirs["concurrency_limit"]) == (
        "process", "declared in terraform", 5)
    queues = {q["name"]: q for q in prefect.request(
        "POST", f"work_pools/{pool}/queues/filter", "queues", json={})}
    assert {n: (q["priority"], q["concurrency_limit"], q["is_paused"])
            for n, q in queues.items()} == {
        "default": (1, None, False), "critical": (2, 1, False), "bulk": (3, None, True)}
    tf.assert_no_changes()

    prefect.request("PATCH", f"work_pools/{pool}", "pool",
                    json={"description": "changed on prefect"})
    prefect.request("PATCH", f"work_pools/{pool}/queues/critical", "queue",
                    json={"concurrency_limit": 9})
    code, out = tf.plan()
    assert code == 2, out
    assert '"changed on prefect" -> "declared in terraform"' in out
    assert "9 -> 1" in out

    tf.apply()
    assert prefect.request("GET", f"work_pools/{pool}", "pool")["description"] == (
        "declared in terraform")
    tf.assert_no_changes()

    tf.destroy()
    assert prefect.request("GET", f"work_pools/{pool}", "pool", missing_ok=True) is None


def test_work_queue_accepts_terraform_provider_prefect_work_pool_name(
    tf: Terraform,  # noqa: F811
) -> None:
    from blocks import Registry, Settings
    from blocks.pools import WorkPool

    tf.write('''
resource "blocks_work_pool" "etl" {
  name = "renamed-etl"
  type = "process"
}

resource "blocks_work_queue" "fast" {
  work_pool_name = blocks_work_pool.etl.name
  name           = "fast"
  priority       = 2
}
''')
    tf.apply()
    registry = Registry(Settings(home=tf.home))
    assert WorkPool.load("renamed-etl", registry=registry).queue("fast").priority == 2
    registry.close()
    assert tf.state("blocks_work_queue.fast")["pool"] == "renamed-etl"
    tf.assert_no_changes()
    tf.write('''
resource "blocks_work_queue" "fast" {
  pool           = "a"
  work_pool_name = "a"
  name           = "fast"
}
''')
    code, out = tf.plan()
    assert code == 1 and "exactly one of them" in out


def test_work_pool_module_readme_example_publishes_with_the_default_queue_priority(
    tf: Terraform, prefect_server: Server, prefect: PrefectClient  # noqa: F811
) -> None:
    root = Path(__file__).resolve().parents[2]
    module = root / "terraform" / "modules" / "work-pool"
    pool = f"tf-readme-{secrets.token_hex(3)}"
    example = (module / "examples" / "complete" / "main.tf").read_text()
    provider = f'provider "blocks" {{\n  prefect_api_url = "{prefect_server.url}"\n}}'
    example = (example.replace('provider "blocks" {}', provider)
               .replace('source = "../.."', f'source = "{module}"')
               .replace('name              = "nightly-etl"', f'name              = "{pool}"'))
    assert pool in example and prefect_server.url in example
    tf.write(example, header=False)
    tf.run("init")
    tf.apply()
    queues = {q["name"]: q["priority"] for q in prefect.request(
        "POST", f"work_pools/{pool}/queues/filter", "queues", json={})}
    assert queues == {"critical": 1, "default": 2, "backfill": 5}
    theirs = prefect.request("GET", f"work_pools/{pool}", "pool")
    env = theirs["base_job_template"]["variables"]["properties"]["env"]["default"]
    assert env["BLOCKS_KEY_PROVIDER"] == "aws-kms"
    tf.assert_no_changes()
    tf.destroy()


def test_plan_refuses_a_pool_template_that_publishing_would_refuse(
    tf: Terraform, prefect_server: Server, prefect: PrefectClient  # noqa: F811
) -> None:
    import json

    from blocks import Registry, Secret, Settings
    from blocks.pools import default_base_job_template

    registry = Registry(Settings(home=tf.home))
    Secret(value="never-in-prefect").save("db-password", registry=registry)
    registry.close()
    template = default_base_job_template("process")
    template["variables"]["properties"]["env"]["default"] = {
        "DB_PASSWORD": "{{ blocks.secret.db-password }}"}
    pool = f"tf-secret-{secrets.token_hex(3)}"
    tf.write(f'''
provider "blocks" {{
  prefect_api_url = "{prefect_server.url}"
}}

resource "blocks_work_pool" "etl" {{
  name              = "{pool}"
  type              = "process"
  base_job_template = <<-EOT
    {json.dumps(template)}
  EOT
}}
''')
    code, out = tf.plan()
    assert code == 1, out
    assert "would publish a secret" in " ".join(out.split())
    assert "never-in-prefect" not in out
    assert prefect.request("GET", f"work_pools/{pool}", "pool", missing_ok=True) is None
