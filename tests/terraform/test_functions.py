"""Provider-defined functions: ``provider::blocks::placeholder`` and ``provider::blocks::ref``."""

from __future__ import annotations

import json
import re

import pytest

from blocks.core import _NAME_RE
from blocks.registry import Registry
from blocks.types.aws import AwsCredentials
from blocks_terraform.functions import NAME_RULE
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

OUTPUTS = """
output "placeholder" {
  value = provider::blocks::placeholder("secret", "db-pass")
}
output "ref" {
  value = provider::blocks::ref("aws-credentials", "prod")
}
"""


@pytest.mark.terraform_min("1.8")
def test_functions_need_no_provider_configuration(tf: Terraform) -> None:
    tf.env["BLOCKS_HOME"] = str(tf.workdir / "no-registry-here")  # configuring would fail
    tf.write(OUTPUTS)
    tf.apply()
    outputs = json.loads(tf.run("output", "-json").stdout)
    assert outputs["placeholder"]["value"] == "{{ blocks.secret.db-pass }}"
    assert outputs["ref"]["value"] == "aws-credentials/prod"


@pytest.mark.terraform_min("1.8")
def test_ref_points_a_typed_resource_at_a_block_managed_elsewhere(
    tf: Terraform, tf_registry: Registry
) -> None:
    AwsCredentials(region_name="eu-west-1").save("prod", registry=tf_registry)
    tf.write('resource "blocks_s3_bucket" "raw" {\n  name        = "raw"\n'
             '  bucket_name = "acme-raw"\n'
             '  credentials = provider::blocks::ref("aws-credentials", "prod")\n}\n')
    tf.apply()
    assert tf_registry.load("s3-bucket/raw").credentials.block_ref == "aws-credentials/prod"
    tf.assert_no_changes()


@pytest.mark.terraform_min("1.8")
@pytest.mark.parametrize(("call", "parameter", "message"), [
    ('placeholder("secrets", "db-pass")', "type", "unknown block type 'secrets'"),
    ('ref("aws-credentials", "Prod_1")', "name", "invalid block name 'Prod_1'"),
])
def test_bad_function_arguments_are_errors_naming_the_argument(
    tf: Terraform, call: str, parameter: str, message: str
) -> None:
    tf.write(f'output "x" {{\n  value = provider::blocks::{call}\n}}\n')
    proc = tf.run("validate", check=False)
    assert proc.returncode == 1
    text = re.sub(r"\s+", " ", proc.stderr)
    assert f'Invalid value for "{parameter}" parameter: {message}' in text, proc.stderr


def test_function_name_rule_is_the_registry_rule() -> None:
    assert NAME_RULE.pattern == _NAME_RE.pattern
