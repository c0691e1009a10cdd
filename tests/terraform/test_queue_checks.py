"""A work queue's pool: "exactly one of pool / work_pool_name" at validate, and a pool that
does not exist refused at plan (before anything is written)."""

from __future__ import annotations

import pytest

from blocks.pools import WorkPool
from blocks.registry import Registry
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform


@pytest.mark.parametrize("pools", [
    '  pool           = "a"\n  work_pool_name = "a"\n', ""])
def test_a_queue_needs_exactly_one_pool_attribute_at_validate(tf: Terraform, pools: str) -> None:
    tf.write(f'resource "blocks_work_queue" "q" {{\n{pools}  name = "q"\n}}\n')
    proc = tf.run("validate", check=False)  # validate: the provider is not even configured
    assert proc.returncode == 1 and "exactly one of them" in proc.stdout + proc.stderr


def test_a_queue_on_a_missing_pool_is_refused_at_plan(tf: Terraform,
                                                      tf_registry: Registry) -> None:
    tf.write('resource "blocks_work_pool" "etl" {\n  name = "etl"\n  type = "process"\n}\n'
             'resource "blocks_work_queue" "fast" {\n  work_pool_name = "nope"\n'
             '  name = "fast"\n}\n')
    code, out = tf.plan()
    assert code == 1 and "No work pool nope" in out, out
    # The pool's name, known while the pool is created in the same plan, is accepted.
    tf.write('resource "blocks_work_pool" "etl" {\n  name = "etl"\n  type = "process"\n}\n'
             'resource "blocks_work_queue" "fast" {\n'
             '  work_pool_name = blocks_work_pool.etl.name\n  name = "fast"\n}\n')
    tf.apply()
    assert WorkPool.load("etl", registry=tf_registry).queue("fast").name == "fast"
    tf.assert_no_changes()
