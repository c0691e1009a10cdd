"""A block type shipped by another package (``blocks.types`` entry point) becomes a typed
resource, validated by its own rules, without any provider code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

PLUGIN = '''
from pydantic import Field, SecretStr, field_validator

from blocks.core import Block


class Webhook(Block):
    """A webhook endpoint and its signing token."""

    url: str = Field(description="Endpoint URL (https only).")
    token: SecretStr = Field(description="Signing token.")
    retries: int = Field(default=3, ge=0, description="Delivery attempts.")

    @field_validator("url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("must start with https://")
        return value
'''


def _install_plugin(root: Path) -> None:
    (root / "acme_blocks.py").write_text(PLUGIN)
    info = root / "acme_blocks-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-blocks\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[blocks.types]\nwebhook = acme_blocks:Webhook\n")


def test_plugin_type_gets_a_typed_resource(tf: Terraform, tmp_path: Path) -> None:
    plugin_dir = tmp_path / "plugin"
    plugin_dir.mkdir()
    _install_plugin(plugin_dir)
    tf.env["PYTHONPATH"] = str(plugin_dir)
    tf.env["XDG_CACHE_HOME"] = str(tmp_path / "plugin-cache")  # specs built with the plug-in

    tf.write('resource "blocks_webhook" "hook" {\n  name  = "hook"\n'
             '  url   = "http://insecure.example"\n  token = "tok"\n}\n')
    code, out = tf.plan()
    assert code == 1 and 'url   = "http://insecure.example"' in out, out
    assert "must start with https://" in out

    tf.write('resource "blocks_webhook" "hook" {\n  name  = "hook"\n'
             '  url   = "https://hooks.example/in"\n  token = "tok"\n}\n')
    tf.apply()
    state = tf.state("blocks_webhook.hook")
    assert state["retries"] == 3 and state["id"] == "webhook/hook"
    tf.assert_no_changes()
