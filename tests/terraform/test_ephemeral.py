"""Ephemeral resources hand Blocks secrets to write-only attributes and to other providers'
settings without plan or state ever holding them; older Terraform still loads the schema."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from blocks import catalog
from blocks.registry import Registry
from blocks.settings import Settings
from blocks.types.database import DatabaseCredentials
from blocks.types.system import Secret
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

SOURCE_V1, SOURCE_V2 = "eph-source-old-5c1d", "eph-source-now-8a2f"
DB_PASSWORD = "eph-db-admin-93be"
TYPED = {  # ephemeral type -> (the stored block's fields, the field handed on)
    "aws_credentials": ({"region_name": "eu-west-1", "aws_access_key_id": "AKIAEXAMPLE0000",
                         "aws_secret_access_key": "eph-aws-secret-41d0"},
                        "aws_secret_access_key"),
    "snowflake_credentials": ({"account": "nh12345.eu-west-1.aws", "user": "etl",
                               "password": "eph-sf-pass-77c2"}, "password"),
    "github_credentials": ({"token": "ghp_ephexample5e61"}, "token"),
}
OTHER_KEY = base64.b64encode(bytes(range(7, 39))).decode()

CONFIG = """
variable "other_home" { type = string }

ephemeral "blocks_secret" "src" {
  name = "source-pass"
}
ephemeral "blocks_secret" "src_v1" {
  name    = "source-pass"
  version = 1
}
ephemeral "blocks_secret" "src_previous" {
  name  = "source-pass"
  stage = "previous"
}
ephemeral "blocks_database_credentials" "admin" {
  name = "admin"
}
ephemeral "blocks_secret" "other_key" {
  name = "other-master-key"
}

%s
resource "blocks_secret" "copy" {
  name             = "copy"
  value_wo         = ephemeral.blocks_secret.src.value
  value_wo_version = 1
}
resource "blocks_secret" "old_copy" {
  name             = "old-copy"
  value_wo         = ephemeral.blocks_secret.src_v1.value
  value_wo_version = 1
}
resource "blocks_secret" "previous_copy" {
  name             = "previous-copy"
  value_wo         = ephemeral.blocks_secret.src_previous.value
  value_wo_version = 1
}
resource "blocks_secret" "db_copy" {
  name             = "db-copy"
  value_wo         = ephemeral.blocks_database_credentials.admin.password
  value_wo_version = 1
}

# A second registry whose master key is a secret of the first one.
provider "blocks" {
  alias      = "other"
  home       = var.other_home
  master_key = ephemeral.blocks_secret.other_key.value
}
resource "blocks_secret" "in_other" {
  provider = blocks.other
  name     = "marker"
  value    = "written-with-the-ephemeral-key"
}
"""


TYPED_HCL = """
ephemeral "blocks_{kind}" "x" {{
  name = "x"
}}
resource "blocks_secret" "{kind}" {{
  name             = "{slug}-copy"
  value_wo         = ephemeral.blocks_{kind}.x.{field}
  value_wo_version = 1
}}
"""


def _plan_and_everything_kept(tf: Terraform) -> tuple[int, str]:
    """A saved plan's exit code (0: no changes), and the state file, the plan's output,
    ``show -json`` of the saved plan and every file inside it."""
    proc = tf.run("plan", "-detailed-exitcode", "-out", "tfplan", check=False)
    texts = [tf.state_text(), proc.stdout, tf.run("show", "-json", "tfplan").stdout]
    with zipfile.ZipFile(tf.workdir / "tfplan") as plan:
        texts += [plan.read(n).decode("utf-8", "replace") for n in plan.namelist()]
    return proc.returncode, "\n".join(texts)


@pytest.mark.terraform_min("1.11")  # ephemeral resources: 1.10; write-only attributes: 1.11
@pytest.mark.tf_launcher  # two configurations of the provider need two processes
def test_ephemeral_values_reach_write_only_attributes_and_provider_settings_not_state(
    tf: Terraform, tf_registry: Registry, tmp_path: Path
) -> None:
    Secret(value=SOURCE_V1).save("source-pass", registry=tf_registry)
    Secret(value=SOURCE_V2).save("source-pass", overwrite=True, registry=tf_registry)
    DatabaseCredentials(driver="postgresql+psycopg", host="db.internal", username="admin",
                        password=DB_PASSWORD, database="app").save("admin", registry=tf_registry)
    Secret(value=OTHER_KEY).save("other-master-key", registry=tf_registry)
    other_home = tmp_path / "other-home"
    other = Registry(Settings(home=other_home, master_key=OTHER_KEY))
    other.init()
    assert not (other_home / "master.key").exists()  # the key is only in the first registry
    for kind, (data, _) in TYPED.items():
        catalog.get(kind.replace("_", "-"))(**data).save("x", registry=tf_registry)
    tf.env["TF_VAR_other_home"] = str(other_home)
    tf.write(CONFIG % "".join(
        TYPED_HCL.format(kind=kind, slug=kind.replace("_", "-"), field=field)
        for kind, (_, field) in TYPED.items()))

    out = tf.apply()
    assert tf_registry.load("secret/copy").get() == SOURCE_V2
    assert tf_registry.load("secret/old-copy").get() == SOURCE_V1
    assert tf_registry.load("secret/previous-copy").get() == SOURCE_V1
    assert tf_registry.load("secret/db-copy").get() == DB_PASSWORD
    assert other.load("secret/marker").get() == "written-with-the-ephemeral-key"
    typed_values = [data[field] for data, field in TYPED.values()]
    assert [tf_registry.load(f"secret/{kind.replace('_', '-')}-copy").get()
            for kind in TYPED] == typed_values
    other.close()

    code, kept = _plan_and_everything_kept(tf)
    assert code == 0, kept  # nothing to change after the apply
    assert "written-with-the-ephemeral-key" in kept  # an ordinary value is found by the grep
    for value in (SOURCE_V1, SOURCE_V2, DB_PASSWORD, OTHER_KEY, *typed_values):
        assert (out + kept).count(value) == 0, value


@pytest.mark.terraform_min("1.10")
def test_ephemeral_resource_errors_name_the_attribute_and_the_block(tf: Terraform) -> None:
    tf.write('ephemeral "blocks_secret" "x" {\n  name  = "a"\n  stage = "later"\n  '
             'version = 2\n}\n')
    proc = tf.run("validate", check=False)
    assert proc.returncode == 1
    assert "stage must be one of current, pending, previous, got 'later'" in proc.stderr
    assert "set version (a version number) or stage" in proc.stderr

    tf.write('ephemeral "blocks_database_credentials" "x" {\n  name = "nowhere"\n}\n'
             'resource "blocks_secret" "s" {\n  name = "s"\n'
             '  value_wo = ephemeral.blocks_database_credentials.x.password\n'
             '  value_wo_version = 1\n}\n')
    code, out = tf.plan()
    assert code == 1
    assert "database-credentials/nowhere" in out


def test_ephemeral_schemas_only_reach_terraform_that_knows_them(tf: Terraform) -> None:
    tf.write("")
    schema = json.loads(tf.run("providers", "schema", "-json").stdout)
    provider = next(iter(schema["provider_schemas"].values()))
    assert "blocks_secret" in provider["resource_schemas"]
    if tf.binary.at_least("1.10"):
        ephemeral = provider["ephemeral_resource_schemas"]
        for name in ("blocks_secret", "blocks_aws_credentials", "blocks_database_credentials",
                     "blocks_snowflake_credentials", "blocks_github_credentials"):
            assert name in ephemeral, name
        password = ephemeral["blocks_database_credentials"]["block"]["attributes"]["password"]
        assert password["computed"] and password["sensitive"]
    else:  # 1.0.3 skips the fields it does not know, and works as before
        assert "ephemeral_resource_schemas" not in provider
        tf.write('resource "blocks_secret" "s" {\n  name  = "s"\n  value = "v"\n}\n')
        tf.apply()
        tf.assert_no_changes()


def test_tf_protocol_code_still_lacks_ephemeral_resources() -> None:
    """Our messages fill a gap of ``tf``'s generated code; if it closes, ours can go."""
    from tf.gen import tfplugin_pb2 as pb
    from tf.gen import tfplugin_pb2_grpc as rpc

    from blocks_terraform.ephemeral import CALLS, messages

    for call in CALLS:
        assert not hasattr(pb, call) and not hasattr(rpc.ProviderServicer, call), call
    assert 8 not in pb.GetProviderSchema.Response.DESCRIPTOR.fields_by_number
    assert 6 not in pb.GetMetadata.Response.DESCRIPTOR.fields_by_number
    # tf's classes keep our fields as unknown fields and write them out again.
    extra = messages()["GetProviderSchemaResponseExtra"](
        ephemeral_resource_schemas={"blocks_secret": pb.Schema(version=0)})
    response = pb.GetProviderSchema.Response.FromString(extra.SerializeToString())
    assert messages()["GetProviderSchemaResponseExtra"].FromString(
        response.SerializeToString()) == extra


def test_no_blocks_import_for_schema_calls() -> None:
    """Ephemeral schemas come from the cached specs, like the resources'."""
    subprocess.run([sys.executable, "-c", "from blocks_terraform import schema_cache; "
                    "schema_cache.load()"], check=True, env=os.environ)
    code = ("import sys; from blocks_terraform.provider import BlocksProvider; "
            "[c.get_schema() for c in BlocksProvider().get_ephemeral_resources()]; "
            "print(sorted(m for m in sys.modules if m.startswith(('pydantic', 'blocks.'))))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, env=os.environ).stdout
    assert out.strip() == "[]"


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.terraform_min("1.11")  # the examples feed write-only attributes
def test_ephemeral_resource_and_function_examples_validate(tf: Terraform) -> None:
    files = sorted(EXAMPLES.glob("ephemeral-resources/*/ephemeral-resource.tf"))
    files += sorted(EXAMPLES.glob("functions/*/function.tf"))
    assert len(files) >= 7
    for path in files:
        tf.write(path.read_text())
        proc = tf.run("validate", check=False)
        assert proc.returncode == 0, (path, proc.stdout + proc.stderr)
