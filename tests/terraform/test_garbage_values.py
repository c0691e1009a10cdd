"""Issue 13, point 10: garbage values in Terraform configuration are diagnostics naming the
attribute (never "Plugin error" or "internal error"), and ``generate.length`` is bounded."""

from __future__ import annotations

import json

import pytest

from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

CASES = {
    "length-1e400": ('resource "blocks_secret" "s" {\n  name = "s"\n  generate {\n'
                     '    length = 1e400\n  }\n}\n', "length"),
    "length-1e7": ('resource "blocks_secret" "s" {\n  name = "s"\n  generate {\n'
                   '    length = 1e7\n  }\n}\n', "length"),
    "length-1e12": ('resource "blocks_secret" "s" {\n  name = "s"\n  generate {\n'
                    '    length = 1e12\n  }\n}\n', "length"),
    "deep-value-json": ('resource "blocks_secret" "s" {\n  name = "s"\n'
                        '  value_json = "' + "[" * 3000 + "]" * 3000 + '"\n}\n', "value_json"),
    "deep-data": ('resource "blocks_block" "b" {\n  type = "secret"\n  name = "b"\n'
                  '  data = "{\\"value\\": ' + "[" * 3000 + "]" * 3000 + '}"\n}\n', "data"),
    "private-key-not-base64": (
        'resource "blocks_snowflake_credentials" "c" {\n  name = "c"\n  account = "acme"\n'
        '  user = "u"\n  private_key = "!!!notbase64"\n}\n', "private_key"),
    "ref-not-a-string": ('resource "blocks_block" "b" {\n  type = "github-repository"\n'
                         '  name = "b"\n  data = jsonencode({\n'
                         '    repository_url = "https://github.com/o/r.git"\n'
                         '    credentials = { "$ref" = 5 }\n  })\n}\n', "data"),
}


def _assert_clean_diagnostic(out: str, attribute: str) -> None:
    assert "Error:" in out, out
    assert "Plugin error" not in out and "internal error" not in out, out
    assert "Traceback" not in out and "RecursionError" not in out, out
    assert attribute in out, out


@pytest.mark.parametrize("case", sorted(CASES))
def test_garbage_value_is_a_diagnostic_naming_the_attribute(tf: Terraform, case: str) -> None:
    hcl, attribute = CASES[case]
    tf.write(hcl)
    proc = tf.run("apply", "-auto-approve", check=False)
    assert proc.returncode == 1
    _assert_clean_diagnostic(proc.stdout + proc.stderr, attribute)
    assert not tf.home.joinpath("blocks.db").exists() or "secret/s" not in tf.run(
        "state", "list", check=False).stdout


@pytest.mark.parametrize("length", ["1e400", "1e7", "1e12", "4097", "15", "16.5", "-1e400"])
def test_generate_length_out_of_bounds_is_refused_at_validate(tf: Terraform, length: str) -> None:
    tf.write(f'resource "blocks_secret" "s" {{\n  name = "s"\n  generate {{\n'
             f'    length = {length}\n  }}\n}}\n')
    proc = tf.run("validate", check=False)
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    _assert_clean_diagnostic(out, "length")
    bound = "beyond the range of numbers Blocks accepts" if "e400" in length else "16 to 4096"
    assert bound in out


def test_generate_length_at_the_bound_works(tf: Terraform) -> None:
    tf.write('resource "blocks_secret" "s" {\n  name = "s"\n  generate {\n'
             '    length = 4096\n  }\n}\n')
    tf.apply()
    from blocks import Registry, Settings

    registry = Registry(Settings(home=tf.home))
    try:
        assert len(registry.load("secret/s").get()) == 4096
    finally:
        registry.close()


def test_light_json_check_mirrors_the_codec_bound() -> None:
    from blocks import codec
    from blocks_terraform import json_check

    assert json_check.MAX_DEPTH == codec.MAX_DEPTH
    for text in ("[" * 65 + "]" * 65, "NaN", "1e400", "9" * 5000, "{", "[" * 5000):
        assert json_check.json_problem(text) is not None, text[:10]
    assert json_check.json_problem("[" * 64 + "]" * 64) is None
    assert codec.json_problem(json.loads("[" * 64 + "]" * 64)) is None
    assert codec.json_problem(json.loads("[" * 65 + "]" * 65)) is not None


def test_generic_block_with_a_valid_reference_still_applies(tf: Terraform) -> None:
    """``blocks_block`` now builds its block with ``Registry.parse``: references still resolve."""
    tf.write('resource "blocks_block" "creds" {\n  type = "github-credentials"\n'
             '  name = "ci"\n  data = jsonencode({ token = "ghp_ref_ok" })\n}\n'
             'resource "blocks_block" "repo" {\n  type = "github-repository"\n'
             '  name = "flows"\n  data = jsonencode({\n'
             '    repository_url = "https://github.com/o/r.git"\n'
             '    credentials = { "$ref" = blocks_block.creds.id }\n  })\n}\n')
    tf.apply()
    from blocks import GitHubRepository, Registry, Settings

    registry = Registry(Settings(home=tf.home))
    try:
        repo = registry.load("github-repository/flows")
        assert isinstance(repo, GitHubRepository) and repo.credentials is not None
        assert repo.credentials.block_ref == "github-credentials/ci"
    finally:
        registry.close()
