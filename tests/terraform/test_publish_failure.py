"""With ``prefect_api_url`` set, a pool stored in Blocks whose publishing to Prefect fails is
recorded by Terraform (tainted), never left in Blocks but not in state."""

from __future__ import annotations

import socket

import pytest

from blocks.pools import WorkPool
from blocks.registry import Registry
from tests.terraform.conftest import HEADER, Terraform

pytestmark = pytest.mark.terraform

POOL = """
resource "blocks_work_pool" "etl" {
  name = "etl"
  type = "process"
}
resource "blocks_work_queue" "fast" {
  pool = blocks_work_pool.etl.id
  name = "fast"
}
"""


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_pool_whose_publishing_fails_is_kept_in_state_and_converges_later(
        tf: Terraform, tf_registry: Registry) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/api"
    tf.write(HEADER + f'provider "blocks" {{\n  prefect_api_url = "{url}"\n}}\n' + POOL,
             header=False)
    proc = tf.run("apply", "-auto-approve", check=False)
    assert proc.returncode == 1, proc.stdout
    assert WorkPool.load("etl", registry=tf_registry).name == "etl"
    listed = tf.run("state", "list").stdout.split()
    assert "blocks_work_pool.etl" in listed, listed  # Terraform knows the pool it stored
    tf.write(POOL)  # Prefect dropped from this configuration: the next apply converges
    out = tf.apply()
    assert "already exists" not in out
    tf.assert_no_changes()
    assert WorkPool.load("etl", registry=tf_registry).queue("fast").name == "fast"
