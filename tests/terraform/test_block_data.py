"""``blocks_block`` compares ``data`` by meaning: a partial document converges, and a real
difference names the top-level fields that differ (never their values)."""

from __future__ import annotations

import pytest

from blocks.registry import Registry
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

CONFIG = """
resource "blocks_aws_credentials" "c" {
  name                  = "c"
  aws_access_key_id     = "AKIAEXAMPLE0000"
  aws_secret_access_key = "aws-secret-one"
}

resource "blocks_block" "lake" {
  type = "s3-bucket"
  name = "lake"
  data = jsonencode({
    bucket_name = "%s"
    credentials = { "$ref" = blocks_aws_credentials.c.id }
  })
}
"""


def test_a_partial_document_with_a_reference_converges_and_changes_name_their_fields(
        tf: Terraform, tf_registry: Registry) -> None:
    tf.write(CONFIG % "data-lake")
    tf.apply()
    tf.assert_no_changes()  # bucket_folder left out (its default), credentials as a $ref
    stored = tf_registry.load("s3-bucket/lake")
    assert stored.bucket_folder == "" and stored.credentials.block_ref == "aws-credentials/c"
    tf.write(CONFIG % "other-lake")
    code, out = tf.plan()
    assert code == 2 and "s3-bucket/lake: data changes bucket_name" in out, out
    assert "other-lake" not in out and "data-lake" not in out
    tf.apply()
    tf.assert_no_changes()
    # Out-of-band change of a field the configuration leaves to its default.
    stored = tf_registry.load("s3-bucket/lake")
    stored.bucket_folder = "moved"
    tf_registry.save(stored, "lake", overwrite=True)
    code, out = tf.plan()
    assert code == 2 and "data changes bucket_folder" in out and "moved" not in out, out
    tf.apply()
    tf.assert_no_changes()
    assert tf_registry.load("s3-bucket/lake").bucket_folder == ""
