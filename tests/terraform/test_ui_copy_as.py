"""The web UI's "copy as Terraform" text applies with the real Terraform and provider: the
blocks it creates equal the ones it was copied from, each secret given through its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocks import AwsCredentials, Registry, S3Bucket, Settings
from blocks.codec import to_display
from blocks.server.ui.copy_as import copy_as
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform
SECRET = "wJalrXUtnFEMI-copy-as-secret"


def test_copied_terraform_recreates_the_blocks(tf: Terraform, tf_registry: Registry,
                                               tmp_path: Path) -> None:
    source = Registry(Settings(home=tmp_path / "source"))
    source.init()
    try:
        source.save(AwsCredentials(aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                                   aws_secret_access_key=SECRET, region_name="eu-west-1",
                                   aws_client_parameters={"endpoint_url": "http://s3:9000"}),
                    "etl")
        source.save(S3Bucket(bucket_name="acme-lake", bucket_folder="raw",
                             credentials=source.load("aws-credentials/etl")), "data-lake")
        creds = source.load("aws-credentials/etl")
        bucket = source.load("s3-bucket/data-lake")
        creds_tf = copy_as(creds, to_display(creds), "aws-credentials/etl").terraform
        bucket_tf = copy_as(bucket, to_display(bucket), "s3-bucket/data-lake").terraform
        assert SECRET not in creds_tf + bucket_tf

        tf.env["TF_VAR_etl_aws_secret_access_key"] = SECRET
        tf.write(creds_tf)
        tf.apply()  # the referenced block first: the bucket's text names it by id
        tf.write(creds_tf + "\n" + bucket_tf)
        tf.apply()
        tf.assert_no_changes()
        assert tf_registry.load("aws-credentials/etl") == creds
        copied = tf_registry.load("s3-bucket/data-lake")
        assert copied == bucket
        assert copied.credentials.block_ref == "aws-credentials/etl"
    finally:
        source.close()
