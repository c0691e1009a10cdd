"""``rotation { }`` and ``rotate_trigger`` on ``blocks_secret`` with the real Terraform binary."""

from __future__ import annotations

import pytest

from blocks.registry import Registry
from blocks.rotation import Rotation, rotation_events
from tests.terraform.conftest import Terraform

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

ROTATED = """
resource "blocks_secret" "db" {
  name = "db-password"
  generate {
    length = 40
  }
  rotation {
    every   = "30d"
    grace   = "0s"
    options = jsonencode({ length = 40 })
  }
  rotate_trigger = "%s"
}
"""



def test_rotation_declared_in_terraform_then_rotated_leaves_no_changes(
    tf: Terraform, tf_registry: Registry
) -> None:
    tf.write(ROTATED % "one")
    tf.apply()
    policy = Rotation(tf_registry).policy("secret/db-password")
    assert policy is not None and policy.policy.schedule() == "every 30d"
    first = tf_registry.load("secret/db-password").get()

    done = tf.blocks("rotate", "--due")
    assert done.returncode == 0, done.stderr
    rotated = tf_registry.load("secret/db-password")
    assert rotated.get() != first and rotated.block_version == 2
    code, out = tf.plan()
    assert code == 0, out  # neither a perpetual diff nor a revert
    assert tf_registry.load("secret/db-password").get() == rotated.get()

    tf.write(ROTATED % "two")  # rotate_trigger: rotate on apply
    tf.apply()
    assert tf_registry.load("secret/db-password").block_version == 3
    assert tf.state("blocks_secret.db")["version"] == 3
    tf.assert_no_changes()
    actors = {e.actor.split(":")[0] for e in rotation_events("secret/db-password",
                                                           registry=tf_registry)}
    assert actors == {"cli", "terraform"}
    state = tf.state_text()
    for version in (1, 2, 3):
        assert str(tf_registry.load("secret/db-password", version=version).get()) not in state


def test_hand_edit_after_rotation_is_still_restored(tf: Terraform, tf_registry: Registry) -> None:
    from blocks.types.system import Secret

    tf.write(ROTATED % "one")
    tf.apply()
    assert tf.blocks("rotate", "secret/db-password", "--now").returncode == 0
    rotated = tf_registry.load("secret/db-password").get()
    tf.assert_no_changes()
    Secret(value="set-by-hand").save("db-password", overwrite=True, registry=tf_registry)
    code, out = tf.plan()
    assert code == 2 and "changed-outside-terraform" in out
    tf.apply()
    assert tf_registry.load("secret/db-password").get() == rotated


def test_rotation_requires_generate(tf: Terraform) -> None:
    tf.write("""
resource "blocks_secret" "s" {
  name  = "plain"
  value = "configured"
  rotation { every = "30d" }
}
""")
    proc = tf.run("plan", check=False)
    assert proc.returncode == 1
    assert "Rotation needs generate" in proc.stdout + proc.stderr


def test_deleted_rotation_events_do_not_make_apply_restore_the_old_value(
    tf: Terraform, tf_registry: Registry
) -> None:
    # A database writer deletes the events that say the value was rotated: the provider must
    # not take the rotation for a hand edit and "restore" the pre-rotation value.
    from tests.store.tamper import tamper

    tf.write(ROTATED % "one")
    tf.apply()
    assert tf.blocks("rotate", "--due").returncode == 0
    rotated = tf_registry.load("secret/db-password").get()
    tamper(tf_registry.store.url, "DELETE FROM event_log WHERE kind = 'rotation'")

    code, out = tf.plan()
    assert code == 1 and "integrity check failed for the event log" in out, out
    assert tf.run("apply", "-auto-approve", check=False).returncode != 0
    assert tf_registry.load("secret/db-password").get() == rotated
    assert rotated not in tf.last.stdout + tf.last.stderr
