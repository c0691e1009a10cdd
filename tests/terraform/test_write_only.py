"""Write-only secret fields (``<field>_wo`` + ``<field>_wo_version``): the value reaches the
registry, never plan or state; drift is seen through the keyed fingerprint."""

from __future__ import annotations

import pytest

from blocks.registry import Registry
from blocks.types.system import Secret
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

CREDS = """
resource "blocks_aws_credentials" "creds" {
  name                             = "creds"
  aws_access_key_id                = "AKIAEXAMPLE0000"
  aws_secret_access_key_wo         = "%s"
  aws_secret_access_key_wo_version = %d
}
"""
# How write-only values are meant to be fed: an ephemeral variable (or ephemeral resource) is
# kept out of saved plans as well; a literal would be in the configuration itself.
EPHEMERAL = """
variable "aws_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}
""" + CREDS.replace('"%s"', "var.aws_secret")
SNOWFLAKE = """
variable "sf_pass" {
  type      = string
  ephemeral = true
}
resource "blocks_snowflake_credentials" "sf" {
  name                = "sf"
  account             = "nh12345.us-east-2.aws"
  user                = "etl"
  password_wo         = var.sf_pass
  password_wo_version = 1
}
"""


def _secret(registry: Registry, ref: str, field: str) -> str:
    value = getattr(registry.load(ref), field)
    return str(value.get_secret_value())


def _use(tf: Terraform, secret: str, version: int, hcl: str = EPHEMERAL) -> None:
    tf.env["TF_VAR_aws_secret"] = secret
    tf.write(hcl % version)


def _everything_terraform_keeps(tf: Terraform) -> str:
    """State, ``terraform show -json`` of the state and of a saved plan, and the plan output."""
    shown = tf.run("show", "-json").stdout
    tf.run("plan", "-out", "tfplan")
    planned = tf.run("show", "-json", "tfplan").stdout
    return tf.state_text() + shown + planned + tf.run("plan").stdout


@pytest.mark.terraform_min("1.11")
def test_write_only_secret_stays_out_of_plan_and_state(
    tf: Terraform, tf_registry: Registry
) -> None:
    _use(tf, "wo-secret-one", 1)
    out = tf.apply()
    assert "wo-secret-one" not in out
    assert _secret(tf_registry, "aws-credentials/creds", "aws_secret_access_key") == "wo-secret-one"
    state = tf.state("blocks_aws_credentials.creds")
    assert state["aws_secret_access_key_wo"] is None
    assert state["aws_secret_access_key"] is None
    assert state["aws_secret_access_key_wo_version"] == 1
    assert state["write_only_fingerprint"].startswith("hmac-sha256:")
    assert "wo-secret-one" not in _everything_terraform_keeps(tf)
    tf.assert_no_changes()

    # A new value is written when its version changes, and only then.
    _use(tf, "wo-secret-two", 1)
    tf.assert_no_changes()
    _use(tf, "wo-secret-two", 2)
    tf.apply()
    assert _secret(tf_registry, "aws-credentials/creds", "aws_secret_access_key") == "wo-secret-two"
    assert tf_registry.load("aws-credentials/creds").block_version == 2
    tf.assert_no_changes()

    # Out-of-band change: drift through the fingerprint; apply writes the configured value back.
    block = tf_registry.load("aws-credentials/creds")
    block.aws_secret_access_key = "changed-by-hand"
    tf_registry.save(block, "creds", overwrite=True)
    code, out = tf.plan()
    assert code == 2, out
    assert '"changed-outside-terraform"' in out
    assert "changed-by-hand" not in out + tf.state_text()
    tf.apply()
    assert _secret(tf_registry, "aws-credentials/creds", "aws_secret_access_key") == "wo-secret-two"
    tf.assert_no_changes()
    text = _everything_terraform_keeps(tf)
    assert "wo-secret-two" not in text and "changed-by-hand" not in text

    # An update of another field keeps the write-only value.
    _use(tf, "wo-secret-two", 2,
         EPHEMERAL.replace("  name ", '  region_name = "eu-west-1"\n  name '))
    tf.apply()
    assert _secret(tf_registry, "aws-credentials/creds", "aws_secret_access_key") == "wo-secret-two"
    tf.assert_no_changes()
    tf.destroy()


@pytest.mark.terraform_min("1.11")
def test_write_only_fields_pass_the_model_rules_and_switch_from_plain(
    tf: Terraform, tf_registry: Registry
) -> None:
    # Snowflake credentials need a password or a key: the write-only password counts.
    tf.env["TF_VAR_sf_pass"] = "snow-wo-pass-1"
    tf.write(SNOWFLAKE.replace("  password_wo         = var.sf_pass\n"
                               "  password_wo_version = 1\n", '  password = "plain-pass"\n'))
    tf.apply()
    assert "plain-pass" in tf.state_text()  # the plain attribute is held in state
    tf.write(SNOWFLAKE)
    tf.apply()
    assert _secret(tf_registry, "snowflake-credentials/sf", "password") == "snow-wo-pass-1"
    assert "plain-pass" not in tf.state_text()
    assert "snow-wo-pass-1" not in _everything_terraform_keeps(tf)
    tf.assert_no_changes()


def test_write_only_rules_are_checked_at_validate(tf: Terraform) -> None:
    tf.write(CREDS.replace("  aws_secret_access_key_wo_version = %d\n",
                           '  aws_secret_access_key = "plain"\n') % "wo")
    proc = tf.run("validate", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1
    if tf.binary.at_least("1.11"):
        assert "Conflicting aws_secret_access_key and aws_secret_access_key_wo" in out
    else:
        assert "needs Terraform >= 1.11" in out


def test_write_only_on_terraform_without_it_is_refused_before_anything_is_written(
    tf: Terraform, tf_registry: Registry
) -> None:
    # A sensitive (not ephemeral: 1.0 has no ephemeral variables) variable, so that Terraform's
    # own source snippet in the error shows no value.
    _use(tf, "wo-secret-old", 1, EPHEMERAL.replace("  ephemeral = true\n", ""))
    if tf.binary.at_least("1.11"):
        tf.apply()  # the other half of this behaviour: the same configuration applies
        assert _secret(tf_registry, "aws-credentials/creds",
                       "aws_secret_access_key") == "wo-secret-old"
        return
    proc = tf.run("apply", "-auto-approve", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1
    assert "aws_secret_access_key_wo needs Terraform >= 1.11" in out
    assert "Upgrade Terraform" in out and "wo-secret-old" not in out
    assert not (tf.workdir / "terraform.tfstate").exists() or "wo-secret-old" not in (
        tf.state_text())
    assert tf_registry.list() == []


def test_schema_marks_twins_write_only_in_the_protocol() -> None:
    from blocks_terraform.protocol import WriteOnlyAttribute, _messages
    from blocks_terraform.provider import BlocksProvider

    resources = {r.get_name(): r for r in BlocksProvider().get_resources()}
    schema = resources["aws_credentials"].get_schema()
    twins = {a.name: a for a in schema.attributes if isinstance(a, WriteOnlyAttribute)}
    assert set(twins) == {"aws_secret_access_key_wo", "aws_session_token_wo"}
    wire = twins["aws_secret_access_key_wo"].to_pb().SerializeToString()
    assert _messages()["AttributeExtra"].FromString(wire).write_only is True
    names = {a.name for a in schema.attributes}
    assert {"aws_secret_access_key_wo_version", "write_only_fingerprint"} <= names
    # Resources without secret fields get no twins and no fingerprint.
    assert not any(a.name.endswith(("_wo", "_fingerprint"))
                   for a in resources["s3_bucket"].get_schema().attributes)


SECRET = """
variable "api_token" {
  type      = string
  sensitive = true
  ephemeral = true
}
resource "blocks_secret" "api" {
  name             = "api"
  value_wo         = var.api_token
  value_wo_version = %d
}
"""


@pytest.mark.terraform_min("1.11")
def test_write_only_secret_block_value(tf: Terraform, tf_registry: Registry) -> None:
    tf.env["TF_VAR_api_token"] = "tok-wo-1"
    tf.write(SECRET % 1)
    tf.apply()
    assert tf_registry.load("secret/api").get() == "tok-wo-1"
    state = tf.state("blocks_secret.api")
    assert state["value"] is None and state["value_wo"] is None
    assert state["fingerprint"].startswith("hmac-sha256:")
    tf.assert_no_changes()
    tf.env["TF_VAR_api_token"] = "tok-wo-2"
    tf.assert_no_changes()  # a new value is written when the version changes
    tf.write(SECRET % 2)
    tf.apply()
    assert tf_registry.load("secret/api").get() == "tok-wo-2"
    Secret(value="by-hand").save("api", overwrite=True, registry=tf_registry)
    code, out = tf.plan()
    assert code == 2 and '"changed-outside-terraform"' in out, out
    tf.apply()
    assert tf_registry.load("secret/api").get() == "tok-wo-2"
    tf.assert_no_changes()
    text = _everything_terraform_keeps(tf)
    assert "tok-wo" not in text and "by-hand" not in text
