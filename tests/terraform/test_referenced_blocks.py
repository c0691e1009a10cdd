"""A referenced block removed or replaced together with its referrers converges in one apply.

The registry refuses to delete a block that another block references. Terraform may delete
the referenced block before (or while) it updates the referrers: the provider retries the
delete, bounded by ``timeouts { delete }``, while they are re-pointed. A replacement
(``-replace``, taint, a ``blocks_block`` type change, with or without
``create_before_destroy``) writes the new object as a new version of the same block, so its
referrers follow.
"""

from __future__ import annotations

import pytest

from blocks.errors import BlockNotFound
from blocks.registry import Registry
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

CREDS = """
resource "blocks_aws_credentials" "etl" {
  name                  = "etl"
  aws_access_key_id     = "AKIAEXAMPLE0000"
  aws_secret_access_key = "aws-secret-one"
  %s
}
"""


def buckets(credentials: str | None) -> str:
    line = f"credentials = {credentials}" if credentials else ""
    return "".join(
        f'resource "blocks_s3_bucket" "{n}" {{\n  name = "{n}"\n  bucket_name = "{n}-data"\n'
        f'  {line}\n}}\n' for n in ("raw", "clean", "gold"))


def _refs(registry: Registry) -> set[object]:
    return {registry.load(f"s3-bucket/{n}").credentials.block_ref
            for n in ("raw", "clean", "gold")}


def test_removing_a_referenced_block_with_its_references_converges_in_one_apply(
        tf: Terraform, tf_registry: Registry) -> None:
    tf.write(CREDS % "" + buckets("blocks_aws_credentials.etl.id"))
    tf.apply()
    tf.write(buckets(None))
    out = tf.apply()
    assert "0 added, 3 changed, 1 destroyed" in out, out
    tf.assert_no_changes()
    with pytest.raises(BlockNotFound):
        tf_registry.load("aws-credentials/etl")
    assert _refs(tf_registry) == {None}


def _replace_converges(tf: Terraform, registry: Registry, *apply_args: str) -> None:
    before = registry.summary("aws-credentials/etl")
    out = tf.apply(*apply_args)
    assert "1 added, 0 changed, 1 destroyed" in out, out
    assert "Warning" not in out, out
    tf.assert_no_changes()
    # The same block (referrers are stored by its id), holding the new object.
    assert registry.summary("aws-credentials/etl").id == before.id
    assert _refs(registry) == {"aws-credentials/etl"}


def test_replacing_a_referenced_block_keeps_its_referrers_on_the_new_block(
        tf: Terraform, tf_registry: Registry) -> None:
    tf.write(CREDS % "" + buckets("blocks_aws_credentials.etl.id"))
    tf.apply()
    _replace_converges(tf, tf_registry, "-replace=blocks_aws_credentials.etl")
    tf.run("taint", "blocks_aws_credentials.etl")
    _replace_converges(tf, tf_registry)
    tf.destroy()
    assert [b.type_slug for b in tf_registry.list()] in ([], ["secret"])


def test_replacing_a_referenced_block_created_before_destroyed_converges(
        tf: Terraform, tf_registry: Registry) -> None:
    lifecycle = "lifecycle {\n    create_before_destroy = true\n  }"
    tf.write(CREDS % lifecycle + buckets("blocks_aws_credentials.etl.id"))
    tf.apply()
    _replace_converges(tf, tf_registry, "-replace=blocks_aws_credentials.etl")


def test_a_block_that_exists_outside_the_state_is_still_refused_on_create(
        tf: Terraform, tf_registry: Registry) -> None:
    tf.write(CREDS % "")
    tf.apply()
    tf.run("state", "rm", "blocks_aws_credentials.etl")
    proc = tf.run("apply", "-auto-approve", check=False)
    assert proc.returncode == 1 and "already exists" in proc.stdout + proc.stderr


GENERIC = """
resource "blocks_block" "creds" {
  type = "%s"
  name = "creds"
  data = jsonencode(%s)
}
resource "blocks_s3_bucket" "lake" {
  name        = "lake"
  bucket_name = "lake-data"
  credentials = blocks_block.creds.id
}
"""


def test_changing_the_type_of_a_referenced_block_moves_its_referrers_in_one_apply(
        tf: Terraform, tf_registry: Registry) -> None:
    tf.write(GENERIC % ("aws-credentials", '{ profile_name = "etl" }'))
    tf.apply()
    tf.write(GENERIC % ("minio-credentials",
                        '{ minio_root_user = "minio", minio_root_password = "minio-pass" }'))
    out = tf.apply()
    assert "1 added, 1 changed, 1 destroyed" in out, out
    tf.assert_no_changes()
    assert tf_registry.load("s3-bucket/lake").credentials.block_ref == "minio-credentials/creds"
    with pytest.raises(BlockNotFound):  # retired, then deleted once the bucket moved
        tf_registry.load("aws-credentials/creds")
