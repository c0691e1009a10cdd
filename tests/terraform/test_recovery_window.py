"""``terraform destroy`` deletes blocks with the registry's recovery window, and creating them
again brings the same blocks back as new versions (ids and history kept), so a destroy and a
re-apply, or a resource removed and added back, converge. Both Terraform binaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from blocks.errors import BlockNotFound
from blocks.registry import Registry
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

CONFIG = """
resource "blocks_aws_credentials" "etl" {
  name                  = "etl"
  aws_access_key_id     = "AKIAEXAMPLE0000"
  aws_secret_access_key = "aws-secret-one"
}
resource "blocks_s3_bucket" "raw" {
  name        = "raw"
  bucket_name = "raw-data"
  credentials = blocks_aws_credentials.etl.id
}
"""
SECRET = """
resource "blocks_secret" "token" {
  name  = "token"
  value = "token-value-3f9a"
}
"""
REFS = ("aws-credentials/etl", "s3-bucket/raw")


def test_destroy_keeps_blocks_in_their_window_and_apply_brings_them_back(
    tf: Terraform, tf_registry: Registry
) -> None:
    tf.write(CONFIG)
    tf.apply()
    ids = {ref: tf_registry.summary(ref).id for ref in REFS}
    tf.destroy()
    assert tf_registry.list() == []
    assert sorted(d.ref for d in tf_registry.deleted()) == sorted(REFS)
    for ref in REFS:
        with pytest.raises(BlockNotFound, match="blocks rm --undo"):
            tf_registry.load(ref)
    out = tf.apply()
    assert "2 added, 0 changed, 0 destroyed" in out, out
    for ref in REFS:
        assert tf_registry.summary(ref).id == ids[ref]
        assert [v.version for v in tf_registry.history(ref)] == [1, 2]
    assert tf_registry.load("s3-bucket/raw").credentials.block_ref == "aws-credentials/etl"
    assert tf_registry.deleted() == []
    tf.assert_no_changes()
    tf.destroy()
    result = tf_registry.gc(now=datetime.now(UTC) + timedelta(days=8))
    assert [d.ref for d in result.shredded] == ["s3-bucket/raw", "aws-credentials/etl"]
    assert tf_registry.deleted() == [] and tf_registry.list() == []


def test_a_resource_removed_and_added_back_is_the_same_block(
    tf: Terraform, tf_registry: Registry
) -> None:
    tf.write(SECRET)
    tf.apply()
    block_id = tf_registry.summary("secret/token").id
    tf.write("")
    assert "1 destroyed" in tf.apply()
    assert [d.ref for d in tf_registry.deleted()] == ["secret/token"]
    tf.write(SECRET)
    assert "1 added" in tf.apply()
    assert tf_registry.summary("secret/token").id == block_id
    assert tf.state("blocks_secret.token")["version"] == 2
    assert tf_registry.load("secret/token").get() == "token-value-3f9a"
    tf.assert_no_changes()


def test_a_zero_window_in_the_provider_block_makes_destroy_shred(
    tf: Terraform, tf_registry: Registry
) -> None:
    tf.write('provider "blocks" {\n  recovery_window = "0"\n}\n' + SECRET)
    tf.apply()
    block_id = tf_registry.summary("secret/token").id
    tf.destroy()
    assert tf_registry.deleted() == []
    assert "secret/token" not in [b.ref for b in tf_registry.list()]
    tf.apply()
    assert tf_registry.summary("secret/token").id != block_id
