"""Real workflows under real Terraform, as an experienced Terraform user would write them
(issue 8): partly set objects converge, removing an attribute unsets it, renames are in place,
replacing a pool keeps its queues declared, placeholders order the apply, checks come early."""

from __future__ import annotations

import pytest

from blocks.pools import WorkPool
from blocks.registry import Registry
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

MINIO = """
resource "blocks_aws_credentials" "minio" {
  name                  = "minio"
  aws_access_key_id     = "AKIAEXAMPLE0000"
  aws_secret_access_key = "minio-secret"
  aws_client_parameters = { endpoint_url = "http://127.0.0.1:9000" }
}
"""


def test_partly_set_object_plans_clean_after_one_apply(tf: Terraform,
                                                       tf_registry: Registry) -> None:
    tf.write(MINIO)
    tf.apply()
    tf.assert_no_changes()
    stored = tf_registry.load("aws-credentials/minio")
    assert stored.aws_client_parameters.endpoint_url == "http://127.0.0.1:9000"
    assert stored.aws_client_parameters.verify is True
    assert [v.version for v in tf_registry.history("aws-credentials/minio")] == [1]


def test_partly_set_object_drift_and_removal(tf: Terraform, tf_registry: Registry) -> None:
    tf.write(MINIO)
    tf.apply()
    block = tf_registry.load("aws-credentials/minio")
    block.aws_client_parameters.endpoint_url = "http://127.0.0.1:9999"
    tf_registry.save(block, "minio", overwrite=True)
    code, out = tf.plan()
    assert code == 2 and '"http://127.0.0.1:9999" -> "http://127.0.0.1:9000"' in out, out
    tf.apply()
    tf.assert_no_changes()
    tf.write(MINIO.replace('  aws_client_parameters = { endpoint_url = "http://127.0.0.1:9000" }\n',
                           ""))
    code, out = tf.plan()
    assert code == 2 and "endpoint_url" in out, out
    tf.apply()
    tf.assert_no_changes()
    assert tf_registry.load("aws-credentials/minio").aws_client_parameters.endpoint_url is None


BUCKET = """
resource "blocks_aws_credentials" "c" {
  name              = "c"
  aws_access_key_id = "AKIAEXAMPLE0000"
  aws_secret_access_key = "s"
}
resource "blocks_s3_bucket" "lake" {
  name          = "lake"
  bucket_name   = "data-lake"
  bucket_folder = "raw"
  credentials   = blocks_aws_credentials.c.id
}
"""


def test_removing_optional_attributes_unsets_them(tf: Terraform, tf_registry: Registry) -> None:
    tf.write(BUCKET)
    tf.apply()
    assert tf_registry.load("s3-bucket/lake").credentials.block_ref == "aws-credentials/c"
    tf.write(BUCKET.replace("  credentials   = blocks_aws_credentials.c.id\n", "")
             .replace('  bucket_folder = "raw"\n', ""))
    after = tf.planned_changes()["blocks_s3_bucket.lake"]["after"]
    assert after["credentials"] is None and after["bucket_folder"] == ""
    tf.apply()
    tf.assert_no_changes()
    lake = tf_registry.load("s3-bucket/lake")
    assert lake.credentials.block_ref is None and lake.bucket_folder == ""
    # Nothing references the credentials any more: destroying them works.
    tf.write('resource "blocks_s3_bucket" "lake" {\n  name        = "lake"\n'
             '  bucket_name = "data-lake"\n}\n')
    tf.apply()
    tf.assert_no_changes()
    assert [b.ref for b in tf_registry.list("aws-credentials")] == []


RENAMES = """
resource "blocks_aws_credentials" "c" {
  name                  = "creds"
  aws_access_key_id     = "AKIAEXAMPLE0000"
  aws_secret_access_key = "s"
}
resource "blocks_s3_bucket" "lake" {
  name        = "lake"
  bucket_name = "data-lake"
  credentials = blocks_aws_credentials.c.id
}
resource "blocks_secret" "token" {
  name  = "token"
  value = "t0ken"
}
resource "blocks_block" "gh" {
  type = "github-credentials"
  name = "gh"
  data = jsonencode({ token = "ghp_x" })
}
"""


def test_rename_is_in_place_keeps_history_and_references_follow(
        tf: Terraform, tf_registry: Registry) -> None:
    tf.write(RENAMES)
    tf.apply()
    tf.write(RENAMES.replace('"s"', '"s2"'))  # a second version, to see history kept
    tf.apply()
    before = {ref: tf_registry.summary(ref).id for ref in (
        "aws-credentials/creds", "s3-bucket/lake", "secret/token", "github-credentials/gh")}
    renamed = (RENAMES.replace('"s"', '"s2"').replace('name                  = "creds"',
                                                       'name                  = "creds-v2"')
               .replace('name  = "token"', 'name  = "api-token"')
               .replace('name = "gh"', 'name = "gh-bot"'))
    tf.write(renamed)
    changes = tf.planned_changes()
    assert {a: c["actions"] for a, c in changes.items() if c["actions"] != ["no-op"]} == {
        "blocks_aws_credentials.c": ["update"], "blocks_s3_bucket.lake": ["update"],
        "blocks_secret.token": ["update"], "blocks_block.gh": ["update"]}
    tf.apply()
    tf.assert_no_changes()
    assert tf_registry.summary("aws-credentials/creds-v2").id == before["aws-credentials/creds"]
    assert [v.version for v in tf_registry.history("aws-credentials/creds-v2")] == [1, 2]
    assert tf_registry.summary("secret/api-token").id == before["secret/token"]
    assert tf_registry.summary("github-credentials/gh-bot").id == before[
        "github-credentials/gh"]
    lake = tf_registry.load("s3-bucket/lake")
    assert lake.credentials.block_ref == "aws-credentials/creds-v2"
    # The bucket's document did not change (references are by id): no new version for it.
    assert tf_registry.summary("s3-bucket/lake").current_version == 1
    assert tf.state("blocks_s3_bucket.lake")["credentials"] == "aws-credentials/creds-v2"
    assert tf.state("blocks_secret.token")["placeholder"] == "{{ blocks.secret.api-token }}"
    tf.destroy()
    assert [b.ref for b in tf_registry.list()] == ["secret/terraform-fingerprint-key"]


POOL = """
resource "blocks_work_pool" "etl" {
  name = "etl"
  type = "process"
}
resource "blocks_work_queue" "critical" {
  pool     = blocks_work_pool.etl.id
  name     = "critical"
  priority = 1
}
resource "blocks_work_queue" "default" {
  pool        = blocks_work_pool.etl.id
  name        = "default"
  description = "catch-all"
}
"""


def _queues(registry: Registry, pool: str) -> dict[str, str]:
    return {q.name: q.description for q in WorkPool.load(pool, registry=registry).queues()}


def test_replacing_a_pool_replaces_its_queues_in_one_apply(
        tf: Terraform, tf_registry: Registry) -> None:
    tf.write(POOL)
    tf.apply()
    tf.write(POOL.replace('type = "process"', 'type = "docker"'))
    changes = tf.planned_changes()
    assert changes["blocks_work_pool.etl"]["actions"] == ["delete", "create"]
    assert changes["blocks_work_queue.critical"]["actions"] == ["delete", "create"]
    tf.apply()
    tf.assert_no_changes()
    assert WorkPool.load("etl", registry=tf_registry).type == "docker"
    assert _queues(tf_registry, "etl") == {"default": "catch-all", "critical": ""}


def test_renaming_a_pool_is_in_place_and_its_queues_follow(
        tf: Terraform, tf_registry: Registry) -> None:
    tf.write(POOL)
    tf.apply()
    history = [p.version for p in WorkPool.history("etl", registry=tf_registry)]
    tf.write(POOL.replace('name = "etl"', 'name = "etl-v2"'))
    changes = tf.planned_changes()
    assert {a: c["actions"] for a, c in changes.items()} == {
        "blocks_work_pool.etl": ["update"], "blocks_work_queue.critical": ["update"],
        "blocks_work_queue.default": ["update"]}
    tf.apply()
    tf.assert_no_changes()
    assert [p.version for p in WorkPool.history("etl-v2", registry=tf_registry)] == history
    assert _queues(tf_registry, "etl-v2") == {"default": "catch-all", "critical": ""}
    assert tf.state("blocks_work_queue.critical")["id"] == "etl-v2/critical"


PLACEHOLDER_POOL = """
resource "blocks_secret" "db" {
  name  = "db-pass"
  value = "hunter2-db"
}
data "blocks_default_job_template" "process" {
  type = "process"
}
locals {
  template = jsondecode(data.blocks_default_job_template.process.base_job_template)
}
resource "blocks_work_pool" "etl" {
  name = "etl"
  type = "process"
  base_job_template = jsonencode({
    job_configuration = merge(local.template.job_configuration, { db_password = DB })
    variables         = local.template.variables
  })
}
"""


def test_placeholder_attribute_orders_the_first_apply(tf: Terraform,
                                                      tf_registry: Registry) -> None:
    tf.write(PLACEHOLDER_POOL.replace("DB", "blocks_secret.db.placeholder"))
    tf.apply()
    tf.assert_no_changes()
    job = WorkPool.load("etl", registry=tf_registry).render_job({})
    assert job.configuration["db_password"] == "hunter2-db"
    assert "hunter2-db" not in tf.state("blocks_work_pool.etl")["base_job_template"]


def test_template_naming_a_missing_block_is_refused_at_plan(tf: Terraform,
                                                            tf_registry: Registry) -> None:
    tf.write(PLACEHOLDER_POOL.replace("DB", '"{{ blocks.secret.nope }}"'))
    code, out = tf.plan()
    assert code == 1, out
    assert "names block secret/nope, which does not exist" in out, out
    assert "base_job_template = jsonencode({" in out  # points at the attribute
    assert [b.ref for b in tf_registry.list()] == []


def test_typed_rules_run_in_terraform_validate(tf: Terraform) -> None:
    tf.write("""
resource "blocks_s3_bucket" "bad_bucket" {
  name        = "lake"
  bucket_name = "not a bucket"
}
resource "blocks_database_credentials" "bad_rule" {
  name     = "db"
  driver   = "postgresql+psycopg"
  password = "pw-never-shown"
}
resource "blocks_github_credentials" "bad_name" {
  name = "Bad Name"
}
resource "blocks_work_pool" "bad_template" {
  name = "bad"
  type = "process"
  base_job_template = jsonencode({
    job_configuration = { command = "{{ undeclared }}" }
    variables         = { type = "object", properties = {} }
  })
}
""")
    proc = tf.run("validate", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    for expected in ['bucket_name = "not a bucket"', "username: required when password is set",
                     'name = "Bad Name"', "placeholder {{ undeclared }}"]:
        assert expected in out, (expected, out)
    assert "pw-never-shown" not in out


def test_reference_to_a_missing_block_is_refused_at_plan(tf: Terraform,
                                                         tf_registry: Registry) -> None:
    tf.write("""
resource "blocks_s3_bucket" "lake" {
  name        = "lake"
  bucket_name = "data-lake"
  credentials = "aws-credentials/nope"
}
resource "blocks_block" "repo" {
  type = "github-repository"
  name = "repo"
  data = jsonencode({
    repository_url = "https://github.com/acme/flows.git"
    credentials    = { "$ref" = "github-credentials/nope" }
  })
}
""")
    code, out = tf.plan()
    assert code == 1, out
    assert "credentials names aws-credentials/nope, which is not in the registry" in out, out
    assert 'credentials = "aws-credentials/nope"' in out  # points at the attribute
    assert "data.credentials names github-credentials/nope" in out, out
    assert tf_registry.list() == []


GH = 'resource "blocks_github_credentials" "gh" {\n  name = "gh"\n}\n'


def test_missing_registry_is_refused_unless_asked_for(tf: Terraform) -> None:
    elsewhere = tf.workdir.parent / "typo-home"
    tf.write(f'provider "blocks" {{\n  home = "{elsewhere}"\n}}\n' + GH)
    code, out = tf.plan()
    assert code == 1, out
    assert "There is no Blocks registry at" in out and "blocks init" in out, out
    assert "create_registry = true" in out
    assert f'home = "{elsewhere}"' in out  # points at the attribute
    assert not elsewhere.exists()  # nothing created by looking

    url = f"sqlite:///{tf.workdir.parent / 'typo.db'}"
    tf.write(f'provider "blocks" {{\n  database_url = "{url}"\n}}\n' + GH)
    code, out = tf.plan()
    assert code == 1 and "There is no Blocks registry at" in out, out

    tf.write(f'provider "blocks" {{\n  home = "{elsewhere}"\n  create_registry = true\n}}\n'
             + GH)
    tf.apply()
    tf.assert_no_changes()
    assert (elsewhere / "blocks.db").exists() and (elsewhere / "master.key").exists()


def test_invalid_provider_settings_fail_validate_naming_the_attribute(tf: Terraform) -> None:
    tf.write('provider "blocks" {\n  sqlite_synchronous = "BOGUS"\n'
             '  keyring_cache_seconds = -1\n}\n' + GH)
    proc = tf.run("validate", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "sqlite_synchronous: Input should be 'OFF', 'NORMAL' or 'FULL'" in out, out
    assert 'sqlite_synchronous = "BOGUS"' in out
    assert "keyring_cache_seconds" in out
    assert "internal error" not in out


@pytest.mark.parametrize("address,import_id,error", [
    ("blocks_work_pool.p", "Bad_Pool", "invalid work pool name 'Bad_Pool'"),
    ("blocks_work_queue.q", "Bad_Pool/q", "invalid work pool name 'Bad_Pool'"),
    ("blocks_work_queue.q", "etl/Bad Queue", "invalid work queue name 'Bad Queue'"),
    ("blocks_s3_bucket.b", "Bad_Name", "invalid block name 'Bad_Name'"),
])
def test_import_with_an_invalid_name_gives_only_the_naming_error(
        tf: Terraform, address: str, import_id: str, error: str) -> None:
    tf.write('resource "blocks_work_pool" "p" {\n  name = "p"\n  type = "process"\n}\n'
             'resource "blocks_work_queue" "q" {\n  pool = "etl"\n  name = "q"\n}\n'
             'resource "blocks_s3_bucket" "b" {\n  name = "b"\n  bucket_name = "bbb"\n}\n')
    proc = tf.run("import", address, import_id, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert error in out, out
    assert "attributes is required" not in out and "internal error" not in out, out
    assert out.count("Error:") == 1, out


def test_deleting_the_fingerprint_key_costs_one_version_and_no_secret(
        tf: Terraform, tf_registry: Registry) -> None:
    """What the README and docs/index.md say about ``secret/terraform-fingerprint-key``."""
    tf.write('resource "blocks_secret" "gen" {\n  name = "gen"\n  generate {}\n}\n')
    tf.apply()
    value = tf_registry.load("secret/gen").get()
    tf_registry.delete("secret/terraform-fingerprint-key")
    code, out = tf.plan()
    assert code == 2 and '"changed-outside-terraform"' in out, out
    tf.apply()
    tf.assert_no_changes()
    assert tf_registry.load("secret/gen").get() == value
    assert tf_registry.summary("secret/gen").current_version == 2
    # deleted within its recovery window: the provider's new key brings the block back as v2
    assert tf_registry.summary("secret/terraform-fingerprint-key").current_version == 2
