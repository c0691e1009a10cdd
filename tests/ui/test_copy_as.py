"""The "copy as" texts: for every built-in type and a plug-in, the Python code builds the same
block, the ``blocks save`` JSON parses to it once its secrets are filled in, the Terraform
names each secret as a sensitive variable, and no text holds a secret value."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from blocks import Registry, catalog
from blocks.codec import to_display
from blocks.server.ui.copy_as import copy_as
from blocks.server.ui.forms_render import masked_paths
from tests.ui.test_forms import SAMPLES, TYPES

EMBEDDING = {"s3-bucket", "github-repository", "snowflake-connector"}
"""Samples whose nested credentials block is embedded, not a saved one."""
SAVED_CREDS = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
               "aws_secret_access_key": "ref-secret-1", "region_name": "eu-west-1"}


def _env(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_").upper()


def _secrets(block: Any) -> dict[str, str]:
    """Environment name -> secret value (as text), for every secret of the block itself."""
    clear = to_display(block, show_secrets=True)
    found = {}
    for path in masked_paths(to_display(block)):
        value: Any = clear
        for part in path.split("."):
            value = value[int(part)] if isinstance(value, list) else value[part]
        found[_env(path)] = value if isinstance(value, str) else json.dumps(value)
    return found


def _python_block(text: str, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Any:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    *head, call = text.strip().split("\n\n")
    call = call.rsplit(".save(", 1)[0]
    scope: dict[str, Any] = {}
    exec("\n\n".join(head) + "\n\nresult = " + call, scope)  # the code copy_as wrote
    return scope["result"]


@pytest.mark.parametrize("slug", TYPES)
def test_copy_as_rebuilds_the_block_without_showing_secrets(
        slug: str, sqlite_registry: Registry, blocks_home: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    reg = sqlite_registry
    reg.init()
    cls = catalog.get(slug)
    reg.save(cls.model_validate(SAMPLES[slug]), "sample")
    block = reg.load(f"{slug}/sample")
    texts = copy_as(block, to_display(block), f"{slug}/sample")
    env = _secrets(block)
    for value in env.values():
        for text in (texts.python, texts.json, texts.terraform):
            assert value not in text

    assert _python_block(texts.python, monkeypatch, env) == block

    document = texts.json
    for name, value in env.items():
        document = document.replace("${" + name + "}", json.dumps(value)[1:-1])
    assert reg.parse(slug, json.loads(document)) == block
    assert f"blocks save {slug}/sample" in texts.json_command

    resource = "blocks_secret" if slug == "secret" else f"blocks_{slug.replace('-', '_')}"
    if slug in EMBEDDING:
        resource = "blocks_block"  # typed resources take a nested block's id only
    assert f'resource "{resource}" "sample" {{' in texts.terraform
    for name in env:
        variable = f"sample_{name.lower()}"
        assert f"var.{variable}" in texts.terraform
        assert f'variable "{variable}" {{\n  type      = string\n  sensitive = true\n}}' in \
            texts.terraform


def test_a_saved_reference_is_loaded_in_python_and_an_id_in_terraform(
        sqlite_registry: Registry, blocks_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reg = sqlite_registry
    reg.init()
    reg.save(catalog.get("aws-credentials").model_validate(SAVED_CREDS), "etl")
    bucket = catalog.get("s3-bucket").model_validate(
        {"bucket_name": "acme-lake", "credentials": reg.load("aws-credentials/etl")})
    reg.save(bucket, "lake")
    block = reg.load("s3-bucket/lake")
    texts = copy_as(block, to_display(block), "s3-bucket/lake")
    assert 'credentials=AwsCredentials.load("etl")' in texts.python
    assert "from blocks import AwsCredentials, S3Bucket" in texts.python
    assert json.loads(texts.json) == {"bucket_name": "acme-lake",
                                      "credentials": {"$ref": "aws-credentials/etl"}}
    assert 'resource "blocks_s3_bucket" "lake" {' in texts.terraform
    assert 'credentials = "aws-credentials/etl"' in texts.terraform
    assert "ref-secret-1" not in texts.python + texts.json + texts.terraform
    assert _python_block(texts.python, monkeypatch, {}) == block


def test_terraform_strings_escape_templates() -> None:
    from blocks.server.ui.copy_as import _hcl_string

    assert _hcl_string('a "b" ${c} %{d} \\') == '"a \\"b\\" $${c} %%{d} \\\\"'
