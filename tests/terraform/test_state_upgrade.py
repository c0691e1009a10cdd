"""State written by the previous provider schema (version 0) keeps working: nested models held
as JSON strings become objects, and attributes added since (``placeholder``) are filled in."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from blocks.pools import WorkPool
from blocks.registry import Registry
from blocks.types.aws import AwsClientParameters, AwsCredentials
from blocks.types.system import Secret
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

PROVIDER = 'provider["registry.terraform.io/blocks-registry/blocks"]'

CONFIG = """
resource "blocks_aws_credentials" "minio" {
  name                  = "minio"
  aws_access_key_id     = "AKIAEXAMPLE0000"
  aws_secret_access_key = "minio-secret"
  aws_client_parameters = { endpoint_url = "http://127.0.0.1:9000" }
}
resource "blocks_secret" "token" {
  name  = "token"
  value = "t0ken"
}
resource "blocks_work_pool" "etl" {
  name = "etl"
  type = "process"
}
"""


def _instance(kind: str, name: str, attributes: dict[str, object]) -> dict[str, object]:
    return {"mode": "managed", "type": kind, "name": name, "provider": PROVIDER,
            "instances": [{"schema_version": 0, "attributes": attributes,
                           "sensitive_attributes": []}]}


def test_version_0_state_plans_clean_with_the_new_schema(tf: Terraform,
                                                         tf_registry: Registry) -> None:
    AwsCredentials(
        aws_access_key_id="AKIAEXAMPLE0000", aws_secret_access_key=SecretStr("minio-secret"),
        aws_client_parameters=AwsClientParameters(endpoint_url="http://127.0.0.1:9000"),
    ).save("minio", registry=tf_registry)
    Secret(value="t0ken").save("token", registry=tf_registry)
    pool = WorkPool(name="etl", type="process").save(registry=tf_registry)
    old = {
        "version": 4, "terraform_version": "1.0.3", "serial": 3,
        "lineage": "5d1c0ad6-1f6e-4a57-9c53-0b1e7a3c1e11", "outputs": {},
        "resources": [
            _instance("blocks_aws_credentials", "minio", {
                "id": "aws-credentials/minio", "name": "minio", "version": 1,
                "aws_access_key_id": "AKIAEXAMPLE0000", "aws_secret_access_key": "minio-secret",
                "aws_session_token": None, "profile_name": None, "region_name": None,
                # What version 0 kept: the configuration's own (partial) JSON document.
                "aws_client_parameters": json.dumps({"endpoint_url": "http://127.0.0.1:9000"}),
                "role_arn": None, "role_session_name": None, "external_id": None}),
            _instance("blocks_secret", "token", {
                "id": "secret/token", "name": "token", "version": 1, "value": "t0ken",
                "value_json": None, "fingerprint": None, "generate": None}),
            _instance("blocks_work_pool", "etl", {
                "id": "etl", "name": "etl", "type": "process", "description": "",
                "base_job_template": json.dumps(pool.base_job_template),
                "concurrency_limit": None, "paused": False, "version": pool.version}),
        ],
    }
    (tf.workdir / "terraform.tfstate").write_text(json.dumps(old))
    tf.write(CONFIG)
    tf.assert_no_changes()
    tf.apply()
    state = tf.state("blocks_aws_credentials.minio")
    assert state["aws_client_parameters"]["endpoint_url"] == "http://127.0.0.1:9000"
    # verify is a bool or a CA bundle path, so Terraform holds it as text
    assert state["aws_client_parameters"]["verify"] == "true"
    assert tf.state("blocks_secret.token")["placeholder"] == "{{ blocks.secret.token }}"
    assert tf_registry.summary("aws-credentials/minio").current_version == 1
