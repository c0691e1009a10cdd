"""Issue 17, point 7: a number beyond float range in any number attribute of the typed
resources, pools and queues is a diagnostic naming the attribute, never a plugin error."""

from __future__ import annotations

import pytest

from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

HUGE = {
    "blocks_work_pool.p.concurrency_limit": ("blocks_work_pool", "p",
                                             'type = "process"\n  concurrency_limit = 1e400'),
    "blocks_work_queue.q.priority": ("blocks_work_queue", "q", 'pool = "p"\n  priority = 1e400'),
    "blocks_work_queue.r.concurrency_limit": ("blocks_work_queue", "r",
                                              'pool = "p"\n  concurrency_limit = -1e400'),
    "blocks_database_credentials.d.port": ("blocks_database_credentials", "d",
                                           'driver = "postgresql+psycopg"\n  port = 1e400'),
    "blocks_snowflake_connector.s.poll_frequency_s": (
        "blocks_snowflake_connector", "s",
        'credentials = "snowflake-credentials/c"\n  database = "db"\n  warehouse = "wh"\n'
        '  schema = "public"\n  poll_frequency_s = 1e400'),
}


def _assert_clean(out: str) -> None:
    assert "Plugin error" not in out and "internal error" not in out, out
    assert "Traceback" not in out and "TypeError" not in out, out


def test_numbers_beyond_float_range_are_diagnostics_naming_the_attribute(tf: Terraform) -> None:
    tf.write("".join(
        f'resource "{kind}" "{name}" {{\n  name = "{name}"\n  {body}\n}}\n'
        for kind, name, body in HUGE.values()
    ))
    proc = tf.run("validate", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1
    _assert_clean(out)
    for address in HUGE:
        attribute = address.rsplit(".", 1)[1]
        assert f"Invalid number in {attribute}" in out, (address, out)
    assert out.count("is beyond the range of numbers Blocks accepts") == len(HUGE), out


def test_a_huge_number_from_a_variable_is_a_plan_diagnostic(tf: Terraform) -> None:
    tf.write('variable "limit" {\n  type = number\n}\n'
             'resource "blocks_work_pool" "p" {\n  name = "p"\n  type = "process"\n'
             '  concurrency_limit = var.limit\n}\n'
             'resource "blocks_work_queue" "q" {\n  name = "q"\n  pool = "p"\n'
             '  priority = var.limit\n}\n')
    proc = tf.run("plan", "-var", "limit=1e400", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1
    _assert_clean(out)
    assert "concurrency_limit" in out and "priority" in out, out
    assert "is beyond the range of numbers Blocks accepts" in out, out
    assert not tf.home.joinpath("blocks.db").exists() or "blocks_work_pool" not in tf.run(
        "state", "list", check=False).stdout


def test_a_huge_number_from_a_variable_in_a_nested_block_is_a_plan_diagnostic(
    tf: Terraform,
) -> None:
    tf.write('variable "length" {\n  type = number\n}\n'
             'resource "blocks_secret" "s" {\n  name = "s"\n  generate {\n'
             '    length = var.length\n  }\n}\n')
    proc = tf.run("plan", "-var", "length=1e400", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    _assert_clean(out)
    assert "Invalid number in generate.length" in out, out
