"""``blocks terraform forget``: after the last ``terraform destroy`` nothing Terraform-only stays
in the registry (issue 23, point 5). The provider makes ``secret/terraform-fingerprint-key`` on
first use and cannot know when the last state using it is gone, so the user says so."""

from __future__ import annotations

import json

import pytest

from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform


def _refs(tf: Terraform) -> list[str]:
    done = tf.blocks("ls", "--json")
    assert done.returncode == 0, done.stderr
    return sorted(f"{b['type']}/{b['name']}" for b in json.loads(done.stdout))


def test_forget_after_destroy_leaves_an_empty_registry(tf: Terraform) -> None:
    tf.write('resource "blocks_secret" "token" {\n  name = "token"\n  generate {}\n}\n')
    tf.apply()
    assert _refs(tf) == ["secret/terraform-fingerprint-key", "secret/token"]
    tf.destroy()
    assert _refs(tf) == ["secret/terraform-fingerprint-key"]  # the provider cannot know

    refused = tf.blocks("terraform", "forget")  # no terminal, no --yes: nothing happens
    assert refused.returncode == 2 and "--yes" in refused.stderr
    done = tf.blocks("terraform", "forget", "--yes")
    assert done.returncode == 0, done.stderr
    assert "deleted secret/terraform-fingerprint-key" in done.stderr
    assert _refs(tf) == []
    again = tf.blocks("terraform", "forget", "--yes")
    assert again.returncode == 0 and "nothing to forget" in again.stderr
    # The next configuration gets a new key and converges.
    tf.apply()
    tf.assert_no_changes()
