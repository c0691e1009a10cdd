"""What lands in state: generated secrets never do; drift on them is seen by fingerprint."""

from __future__ import annotations

import pytest

from blocks.registry import Registry
from blocks.types.system import Secret
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

GENERATED = """
resource "blocks_secret" "db" {
  name = "db-password"
  generate {
    length  = 40
    keepers = { rotation = "%s" }
  }
}
"""


def test_generated_secret_keeps_only_version_and_fingerprint_in_state(
    tf: Terraform, tf_registry: Registry
) -> None:
    tf.write(GENERATED % "2026-q4")
    tf.apply()
    value = tf_registry.load("secret/db-password").get()
    assert isinstance(value, str) and len(value) == 40
    state = tf.state("blocks_secret.db")
    assert state["value"] is None and state["value_json"] is None
    assert state["fingerprint"].startswith("hmac-sha256:")
    assert state["version"] == 1
    assert value not in tf.state_text()
    tf.assert_no_changes()


def test_changing_a_nested_block_regenerates_without_inconsistent_result(
    tf: Terraform, tf_registry: Registry
) -> None:
    tf.write(GENERATED % "2026-q4")
    tf.apply()
    first = tf_registry.load("secret/db-password").get()
    tf.write(GENERATED % "2027-q1")
    out = tf.apply()
    assert "inconsistent" not in out
    second = tf_registry.load("secret/db-password").get()
    assert second != first
    assert tf.state("blocks_secret.db")["version"] == 2
    assert second not in tf.state_text()
    tf.assert_no_changes()


def test_generated_secret_drift_is_seen_by_fingerprint_and_rolled_back(
    tf: Terraform, tf_registry: Registry
) -> None:
    tf.write(GENERATED % "2026-q4")
    tf.apply()
    original = tf_registry.load("secret/db-password").get()
    Secret(value="set-by-hand").save("db-password", overwrite=True, registry=tf_registry)
    code, out = tf.plan()
    assert code == 2, out
    # 1.0 shows the refreshed value (-> "..."), 1.11 the planned change ("..." -> known after)
    assert '"changed-outside-terraform"' in out
    assert "set-by-hand" not in out
    tf.apply()
    assert tf_registry.load("secret/db-password").get() == original
    assert "set-by-hand" not in tf.state_text()
    tf.assert_no_changes()


def test_deleted_secret_is_recreated(tf: Terraform, tf_registry: Registry) -> None:
    tf.write(GENERATED % "2026-q4")
    tf.apply()
    tf_registry.delete("secret/db-password")
    code, out = tf.plan()
    assert code == 2 and "will be created" in out, out
    tf.apply()
    assert len(tf_registry.load("secret/db-password").get()) == 40


def test_generated_secret_import_keeps_value_out_of_state(
    tf: Terraform, tf_registry: Registry
) -> None:
    tf.write(GENERATED % "2026-q4")
    tf.apply()
    value = tf_registry.load("secret/db-password").get()
    tf.write(GENERATED.replace('    keepers = { rotation = "%s" }\n', ""))
    tf.run("state", "rm", "blocks_secret.db")
    tf.run("import", "blocks_secret.db", "db-password:generated")
    tf.assert_no_changes()
    assert value not in tf.state_text()


def test_changed_configured_secret_never_enters_state(
    tf: Terraform, tf_registry: Registry
) -> None:
    tf.write('resource "blocks_github_credentials" "gh" {\n  name  = "gh"\n'
             '  token = "ghp_configured"\n}\n'
             'data "blocks_block" "gh" {\n  type = "github-credentials"\n'
             '  name = blocks_github_credentials.gh.name\n}\n')
    tf.apply()
    block = tf_registry.load("github-credentials/gh")
    block.token = "ghp_outofband"
    tf_registry.save(block, "gh", overwrite=True)
    tf.run("apply", "-refresh-only", "-auto-approve")
    text = tf.state_text()
    assert "ghp_outofband" not in text
    assert '\\"token\\":\\"********\\"' in text  # the data source masks secrets


@pytest.mark.tf_launcher  # the provider's own log lines reach TF_LOG only when Terraform starts it
def test_secrets_never_appear_in_output_or_trace_logs(
    tf: Terraform, tf_registry: Registry
) -> None:
    tf.env["TF_LOG"] = "TRACE"
    tf.write(GENERATED % "2026-q4" + 'resource "blocks_github_credentials" "gh" {\n'
             '  name  = "gh"\n  token = "ghp_configuredTOKEN123"\n}\n')
    tf.apply()
    assert tf.last is not None
    logs = tf.last.stdout + tf.last.stderr
    assert "ghp_configuredTOKEN123" not in logs
    assert tf_registry.load("secret/db-password").get() not in logs + tf.state_text()
