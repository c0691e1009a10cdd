"""``rotation { }`` and ``rotate_trigger`` on typed resources, with the real Terraform binary:
a rotation run outside Terraform leaves ``terraform plan`` with no changes, writes of other
fields keep the rotated values, a hand edit is restored, and a changed trigger rotates."""

from __future__ import annotations

import pytest

from blocks.registry import Registry
from blocks.rotation import Rotation, rotation_events
from blocks.types.aws import AwsCredentials
from blocks.types.database import DatabaseCredentials
from tests.rotation.conftest import MotoAuth, moto_auth, new_user  # noqa: F401
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

DB = """
resource "blocks_database_credentials" "app" {
  name     = "app-db"
  driver   = "postgresql+psycopg"
  host     = "%s"
  database = "app"
  username = "app"
  rotation {
    every   = "30d"
    grace   = "0s"
    options = jsonencode({ field = "password", length = 24 })
  }
  rotate_trigger = "%s"
}
"""
AWS = """
resource "blocks_aws_credentials" "deployer" {
  name                  = "deployer"
  aws_access_key_id     = "%s"
  aws_secret_access_key = "%s"
  region_name           = "us-east-1"
  aws_client_parameters = { endpoint_url = "%s" }
  rotation {
    rotator = "aws-iam-access-key"
    grace   = "0s"
  }
  rotate_trigger = "%s"
}
"""



def _password(registry: Registry, version: int | None = None) -> str:
    block = registry.load("database-credentials/app-db", version=version)
    assert isinstance(block, DatabaseCredentials) and block.password is not None
    return block.password.get_secret_value()


def test_typed_rotation_run_outside_terraform_leaves_no_changes(
    tf: Terraform, tf_registry: Registry
) -> None:
    tf.write(DB % ("db.internal", "one"))
    tf.apply()
    policy = Rotation(tf_registry).policy("database-credentials/app-db")
    assert policy is not None and policy.policy.schedule() == "every 30d"
    assert tf.state("blocks_database_credentials.app")["rotation_fingerprint"] is not None

    done = tf.blocks("rotate", "--due")  # the first rotation is due at once
    assert done.returncode == 0, done.stderr
    rotated = _password(tf_registry)
    assert len(rotated) == 24
    code, out = tf.plan()
    assert code == 0, out  # neither a perpetual diff nor a revert

    tf.write(DB % ("db2.internal", "one"))  # another field: the rotated password stays
    tf.apply()
    stored = tf_registry.load("database-credentials/app-db")
    assert isinstance(stored, DatabaseCredentials) and stored.host == "db2.internal"
    assert _password(tf_registry) == rotated
    tf.assert_no_changes()

    tf.write(DB % ("db2.internal", "two"))  # rotate_trigger: rotate on apply
    tf.apply()
    after_trigger = _password(tf_registry)
    assert after_trigger != rotated
    state = tf.state("blocks_database_credentials.app")
    assert state["version"] == tf_registry.summary("database-credentials/app-db").current_version
    tf.assert_no_changes()
    actors = {e.actor.split(":")[0] for e in rotation_events("database-credentials/app-db",
                                                           registry=tf_registry)}
    assert actors == {"cli", "terraform"}
    text = tf.state_text()
    for value in (rotated, after_trigger):
        assert value not in text


def test_typed_rotation_hand_edit_is_restored_to_the_rotated_value(
    tf: Terraform, tf_registry: Registry
) -> None:
    tf.write(DB % ("db.internal", "one"))
    tf.apply()
    assert Rotation(tf_registry).rotate("database-credentials/app-db", force=True).status == (
        "rotated")
    rotated = _password(tf_registry)
    tf.assert_no_changes()
    edited = tf_registry.load("database-credentials/app-db")
    assert isinstance(edited, DatabaseCredentials)
    edited.password = "set-by-hand-0123"  # type: ignore[assignment]
    edited.save(overwrite=True, registry=tf_registry)
    code, out = tf.plan()
    assert code == 2 and "changed-outside-terraform" in out
    assert "set-by-hand-0123" not in out
    tf.apply()
    assert _password(tf_registry) == rotated
    tf.assert_no_changes()


def test_typed_rotation_refuses_a_rotator_that_cannot_rotate_the_type(tf: Terraform) -> None:
    tf.write("""
resource "blocks_database_credentials" "app" {
  name     = "app-db"
  driver   = "postgresql+psycopg"
  host     = "db.internal"
  database = "app"
  rotation { every = "30d" }
}
""")
    proc = tf.run("plan", check=False)
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert "Invalid rotation" in out and "options.field" in out


@pytest.mark.aws
def test_typed_aws_key_rotated_outside_terraform_leaves_no_changes(
    tf: Terraform, tf_registry: Registry, moto_auth: MotoAuth  # noqa: F811
) -> None:
    user, key_id, secret = new_user(moto_auth)
    tf.write(AWS % (key_id, secret, moto_auth.url, "one"))
    tf.apply()
    assert Rotation(tf_registry).rotate("aws-credentials/deployer", force=True).status == (
        "rotated")
    rotated = tf_registry.load("aws-credentials/deployer")
    assert isinstance(rotated, AwsCredentials) and rotated.aws_access_key_id != key_id
    code, out = tf.plan()
    assert code == 0, out

    tf.write(AWS % (key_id, secret, moto_auth.url, "two"))
    tf.apply()
    again = tf_registry.load("aws-credentials/deployer")
    assert isinstance(again, AwsCredentials)
    assert again.aws_access_key_id not in (key_id, rotated.aws_access_key_id)
    keys = moto_auth.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert {k["AccessKeyId"] for k in keys} == {again.aws_access_key_id}  # grace 0: revoked
    tf.assert_no_changes()
    assert tf.state("blocks_aws_credentials.deployer")["aws_access_key_id"] == key_id


FROM_SECRET = """
resource "blocks_secret" "first" {
  name = "first-password"
  generate {
    length = 32
  }
}

resource "blocks_database_credentials" "app" {
  name                  = "app-db"
  driver                = "postgresql+psycopg"
  host                  = "db.internal"
  database              = "app"
  username              = "app"
  password_from_secret  = blocks_secret.first.id
  password_wo_version   = blocks_secret.first.version
  rotation {
    options = jsonencode({ field = "password" })
  }
}
"""


def test_typed_rotation_of_a_write_only_first_value_leaves_no_changes(
    tf: Terraform, tf_registry: Registry
) -> None:
    tf.write(FROM_SECRET)
    tf.apply()
    first = _password(tf_registry)
    assert first == tf_registry.load("secret/first-password").get()
    assert Rotation(tf_registry).rotate("database-credentials/app-db", force=True).status == (
        "rotated")
    rotated = _password(tf_registry)
    assert rotated != first
    code, out = tf.plan()
    assert code == 0, out
    text = tf.state_text()
    assert first not in text and rotated not in text


def test_removing_rotation_gives_the_fields_back_to_the_configuration(
    tf: Terraform, tf_registry: Registry
) -> None:
    tf.write(DB % ("db.internal", "one"))
    tf.apply()
    assert Rotation(tf_registry).rotate("database-credentials/app-db", force=True).status == (
        "rotated")
    tf.write("""
resource "blocks_database_credentials" "app" {
  name     = "app-db"
  driver   = "postgresql+psycopg"
  host     = "db.internal"
  database = "app"
  username = "app"
  password = "configured-again-0123"
}
""")
    tf.apply()
    assert _password(tf_registry) == "configured-again-0123"
    assert Rotation(tf_registry).policy("database-credentials/app-db") is None
    tf.assert_no_changes()


def test_removing_rotation_and_generate_from_a_secret(tf: Terraform, tf_registry: Registry) -> None:
    """``blocks_secret`` with ``generate {}`` and ``rotation {}``: removing the rotation, then
    the generator (the value comes from the configuration again) each converge in one apply."""
    tf.write("""
resource "blocks_secret" "t" {
  name = "gen-token"
  generate { length = 24 }
  rotation { every = "30d" }
}
""")
    tf.apply()
    assert Rotation(tf_registry).rotate("secret/gen-token", force=True).status == "rotated"
    tf.assert_no_changes()
    tf.write("""
resource "blocks_secret" "t" {
  name = "gen-token"
  generate { length = 24 }
}
""")
    tf.apply()
    assert Rotation(tf_registry).policy("secret/gen-token") is None
    tf.assert_no_changes()
    tf.write("""
resource "blocks_secret" "t" {
  name  = "gen-token"
  value = "from-the-configuration-0123"
}
""")
    tf.apply()
    assert tf_registry.load("secret/gen-token").get() == "from-the-configuration-0123"
    tf.assert_no_changes()
