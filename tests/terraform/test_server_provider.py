"""The provider through a ``blocks server`` (issue 20, point 3): ``api_url`` and ``api_token``
in the provider block or as BLOCKS_API_URL / BLOCKS_API_TOKEN, with no registry, database URL
or master key where Terraform runs; a token without ``write`` is a diagnostic naming it.

Every test runs on each Terraform binary of ``tests/terraform/versions.py`` (1.0.3 and the
newest installed one).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from blocks import Registry, Secret, Settings
from blocks.errors import BlockNotFound
from tests.server_process import (
    ServerProcess,
    blocks_cli,
    require_server_extra,
    server_env,
    start_server,
)
from tests.terraform.conftest import HEADER, Terraform

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

PROVIDER = """
variable "blocks_token" {
  type      = string
  sensitive = true
}

provider "blocks" {
  api_url   = "%s"
  api_token = var.blocks_token
}
"""
SECRETS = """
resource "blocks_secret" "db" {
  name  = "tf-db-password"
  value = "v-db-1234567"
}

resource "blocks_secret" "generated" {
  name = "tf-generated"
  generate {
    length = 24
  }
}
"""


@dataclass
class Served:
    server: ServerProcess
    home: Path
    env: dict[str, str]

    def token(self, name: str, policy: dict[str, object]) -> str:
        """A token of a new policy ``name`` (made with the CLI on the server's registry)."""
        path = self.home.parent / f"{name}-policy.json"
        path.write_text(json.dumps(policy))
        blocks_cli(["policies", "put", name, "--file", str(path)], self.env)
        out = blocks_cli(["tokens", "create", name, "--policy", name], self.env).stdout
        return token_in(out)


def token_in(output: str) -> str:
    """The token a ``blocks server init`` / ``blocks tokens create`` printed."""
    found = re.search(r"\bblk_[A-Za-z0-9_\-]{20,}", output)
    assert found is not None, "no token in the command's output"
    return found.group(0)


@pytest.fixture
def served(tf: Terraform, tmp_path: Path) -> Iterator[Served]:
    """A blocks server over the test's registry; Terraform's own BLOCKS_HOME is emptied, so
    the provider can reach the registry only through the server."""
    require_server_extra()
    env = server_env(home=str(tf.home))
    blocks_cli(["server", "init"], env)
    with start_server(env, tmp_path / "server") as server:
        empty = tmp_path / "terraform-home"
        empty.mkdir()
        tf.env["BLOCKS_HOME"] = str(empty)
        yield Served(server, tf.home, env)


def _load(home: Path, name: str) -> str:
    registry = Registry(Settings(home=home))
    try:
        return str(Secret.load(name, registry=registry).get())
    finally:
        registry.close()


def test_apply_plan_destroy_through_the_server_with_a_token(tf: Terraform,
                                                            served: Served) -> None:
    token = served.token("terraform", {"blocks": {"secret/*": ["read", "write", "delete"]}})
    tf.env["TF_VAR_blocks_token"] = token
    tf.write(HEADER + PROVIDER % served.server.url + SECRETS, header=False)
    out = tf.apply()
    assert "2 added" in out and token not in out
    assert _load(served.home, "tf-db-password") == "v-db-1234567"
    assert len(_load(served.home, "tf-generated")) == 24
    assert not (Path(tf.env["BLOCKS_HOME"]) / "blocks.db").exists()  # nothing local
    assert token not in tf.state_text()
    tf.assert_no_changes()

    # The same through the environment only: BLOCKS_API_URL and BLOCKS_API_TOKEN.
    tf.env.update(BLOCKS_API_URL=served.server.url, BLOCKS_API_TOKEN=token)
    tf.write(SECRETS)
    tf.assert_no_changes()
    tf.destroy()
    for name in ("tf-db-password", "tf-generated"):
        with pytest.raises(BlockNotFound):
            _load(served.home, name)
    # Every call went through the server, as the token's holder.
    calls = {(e["principal"], e["route"]) for e in served.server.access_log()
             if (e["route"] or "").startswith("/v1/blocks/")}
    assert ("terraform", "/v1/blocks/{slug}/{name}") in calls, calls
    assert token not in served.server.stdout() + served.server.stderr()


def test_a_token_without_write_is_a_diagnostic_naming_the_capability(
        tf: Terraform, served: Served) -> None:
    token = served.token("read-only", {"blocks": {"secret/*": ["read"]}})
    tf.env["TF_VAR_blocks_token"] = token
    tf.write(HEADER + PROVIDER % served.server.url + SECRETS, header=False)
    proc = tf.run("apply", "-auto-approve", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Forbidden" in out and "write" in out and "secret/" in out, out
    assert "Plugin error" not in out and "Traceback" not in out, out
    assert token not in out
    registry = Registry(Settings(home=served.home))
    assert [b.name for b in registry.list("secret")] == []
    registry.close()


def test_a_refused_token_is_a_diagnostic_on_the_provider_block(tf: Terraform,
                                                               served: Served) -> None:
    wrong = "blk_" + "x" * 43
    tf.env["TF_VAR_blocks_token"] = wrong
    tf.write(HEADER + PROVIDER % served.server.url + SECRETS, header=False)
    code, out = tf.plan()
    assert code == 1, out
    assert "Cannot use the blocks server" in out and "api_token" in out, out
    assert wrong not in out


def test_api_url_with_a_database_url_names_both(tf: Terraform) -> None:
    tf.write(HEADER + 'provider "blocks" {\n  api_url      = "http://127.0.0.1:8800"\n'
             '  database_url = "sqlite:///elsewhere.db"\n}\n' + SECRETS, header=False)
    code, out = tf.plan()
    assert code == 1, out
    flat = " ".join(out.split())
    assert "api_url and database_url are both set" in flat, out
    assert "Plugin error" not in out, out
