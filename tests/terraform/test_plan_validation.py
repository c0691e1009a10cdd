"""Plan-time behaviour under real Terraform: validation errors point at the attribute, unknown
values are tolerated, defaults are planned on create, no schema-upgrade warnings."""

from __future__ import annotations

import re

import pytest

from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

INVALID_AT_VALIDATE = """
resource "blocks_secret" "short" {
  name = "short"
  generate {
    length = 8
  }
}
resource "blocks_work_pool" "bad_type" {
  name = "bad-type"
  type = "mainframe"
}
resource "blocks_work_queue" "bad_priority" {
  pool     = "p"
  name     = "q"
  priority = 0
}
"""

INVALID = """
resource "blocks_s3_bucket" "bad_bucket" {
  name        = "lake"
  bucket_name = "not a bucket"
}
resource "blocks_database_credentials" "bad_port" {
  name     = "db"
  driver   = "postgresql+psycopg"
  database = "app"
  port     = 70000
}
resource "blocks_database_credentials" "bad_rule" {
  name     = "db2"
  driver   = "postgresql+psycopg"
  database = "app"
  password = "pw-never-shown"
}
resource "blocks_secret" "bad_name" {
  name  = "Bad Name"
  value = "x"
}
resource "blocks_work_pool" "bad_template" {
  name = "bad"
  type = "process"
  base_job_template = jsonencode({
    job_configuration = { command = "{{ undeclared }}" }
    variables         = { type = "object", properties = {} }
  })
}
resource "blocks_block" "bad_generic" {
  type = "github-credentials"
  name = "generic"
  data = jsonencode({ token = "has spaces" })
}
"""


def _error_lines(out: str) -> list[str]:
    """The source line each error points at (Terraform prints it when the path is known)."""
    return re.findall(r"^\s*\d+:\s+(.*)$", out, flags=re.MULTILINE)


def test_validation_errors_point_at_the_attribute(tf: Terraform) -> None:
    tf.write(INVALID)
    code, out = tf.plan()
    assert code == 1, out
    lines = _error_lines(out)
    for expected in [
        'bucket_name = "not a bucket"',
        "port     = 70000",
        'name  = "Bad Name"',
        "base_job_template = jsonencode({",
        'data = jsonencode({ token = "has spaces" })',
    ]:
        assert any(expected in line for line in lines), (expected, out)
    assert "username: required when password is set" in out
    assert "pw-never-shown" not in out
    assert "data.token" in out


def test_static_checks_fail_in_validate_and_point_at_the_attribute(tf: Terraform) -> None:
    tf.write(INVALID_AT_VALIDATE)
    code, out = tf.plan()
    assert code == 1, out
    lines = _error_lines(out)
    for expected in ["length = 8", 'type = "mainframe"', "priority = 0"]:
        assert any(expected in line for line in lines), (expected, out)


def test_unknown_values_are_tolerated_at_validate(tf: Terraform) -> None:
    tf.write("""
resource "blocks_secret" "seed" {
  name  = "seed"
  value = "x"
}
resource "blocks_github_repository" "repo" {
  name           = "repo"
  repository_url = "https://github.com/acme/flows.git"
  reference      = "v${blocks_secret.seed.version}"
}
""")
    code, out = tf.plan()
    assert code == 2, out
    tf.apply()
    assert tf.state("blocks_github_repository.repo")["reference"] == "v1"


def test_create_plan_shows_defaults_and_no_upgrade_warnings(tf: Terraform) -> None:
    tf.write("""
resource "blocks_work_pool" "etl" {
  name = "etl"
  type = "docker"
}
resource "blocks_s3_bucket" "lake" {
  name        = "lake"
  bucket_name = "data-lake"
}
""")
    changes = tf.planned_changes()
    pool = changes["blocks_work_pool.etl"]
    assert "docker" in pool["after"]["base_job_template"]
    assert "base_job_template" not in pool["after_unknown"]
    assert changes["blocks_s3_bucket.lake"]["after"]["bucket_folder"] == ""
    tf.apply()
    code, out = tf.plan()
    assert code == 0, out
    assert "Warning" not in out


def test_changing_pool_type_forces_replacement(tf: Terraform) -> None:
    tf.write('resource "blocks_work_pool" "p" {\n  name = "p"\n  type = "process"\n}\n')
    tf.apply()
    tf.write('resource "blocks_work_pool" "p" {\n  name = "p"\n  type = "docker"\n}\n')
    code, out = tf.plan()
    assert code == 2, out
    assert "forces replacement" in out
    tf.apply()
    assert tf.state("blocks_work_pool.p")["type"] == "docker"
    tf.assert_no_changes()


def test_provider_config_overrides_the_environment(tf: Terraform) -> None:
    from blocks.registry import Registry
    from blocks.settings import Settings

    url = f"sqlite:///{tf.workdir.parent / 'configured.db'}"
    tf.write(f'provider "blocks" {{\n  database_url = "{url}"\n  create_registry = true\n}}\n'
             'resource "blocks_github_credentials" "gh" {\n  name = "gh"\n}\n')
    tf.apply()
    configured = Registry(Settings(home=tf.home, database_url=url))
    assert configured.summary("github-credentials/gh").current_version == 1
    configured.close()
    default = Registry(Settings(home=tf.home))
    assert [b.ref for b in default.list()] == []
    default.close()
