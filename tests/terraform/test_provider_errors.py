"""A registry the provider cannot use is reported on the provider block, at configure."""

from __future__ import annotations

import base64
import socket

import pytest

from blocks.registry import Registry
from tests.terraform.conftest import HEADER, Terraform

pytestmark = pytest.mark.terraform

SECRET = 'resource "blocks_secret" "s" {\n  name  = "s"\n  value = "v-123"\n}\n'


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_postgresql_is_a_diagnostic_on_the_provider_block(tf: Terraform) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/test"
    tf.write(HEADER + f'provider "blocks" {{\n  database_url = "{url}"\n}}\n' + SECRET,
             header=False)
    code, out = tf.plan()
    assert code == 1, out
    assert "Cannot open the Blocks registry" in out and "database_url" in out, out
    assert "Plugin error" not in out and "rpc error" not in out, out


def test_a_wrong_master_key_fails_at_configure_so_plan_fails(tf: Terraform,
                                                             tf_registry: Registry) -> None:
    wrong = base64.b64encode(b"w" * 32).decode()
    tf.write(HEADER + f'provider "blocks" {{\n  master_key = "{wrong}"\n}}\n' + SECRET,
             header=False)
    code, out = tf.plan()
    assert code == 1, out
    assert "Wrong Blocks master key" in out and wrong not in out, out
    assert tf_registry.list("secret") == []
