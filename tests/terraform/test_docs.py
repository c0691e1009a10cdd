"""Reference docs are generated from the schemas and kept in step with them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from blocks.catalog import BUILTIN_TYPES
from blocks.settings import Settings
from blocks_terraform import docs, typed_schema
from blocks_terraform.provider import BlocksProvider

ROOT = Path(__file__).resolve().parents[2]
# Other tests define their own block types in this process; only built-ins are documented.
SHIPPED = {s.replace("-", "_") for s in BUILTIN_TYPES} | {
    "block", "blocks", "work_pool", "work_pools", "work_queue", "default_job_template",
    "placeholder", "ref"}
EPHEMERAL_EXAMPLES = {"secret", "aws_credentials", "database_credentials",
                      "snowflake_credentials", "github_credentials"}


def test_generated_docs_match_the_committed_ones(tmp_path: Path) -> None:
    written = docs.generate(tmp_path)
    for path in written:
        if path.name != "index.md" and path.stem not in SHIPPED:
            continue
        committed = ROOT / "terraform" / "docs" / path.relative_to(tmp_path)
        assert committed.read_text() == path.read_text(), (
            f"{committed} is stale: run `blocks terraform docs`"
        )


def test_every_attribute_is_described() -> None:
    provider = BlocksProvider()
    schemas = [r.get_schema() for r in provider.get_resources()]
    schemas += [d.get_schema() for d in provider.get_data_sources()]
    schemas += [e.get_schema() for e in provider.get_ephemeral_resources()]
    for schema in schemas:
        assert schema.description
        attributes = list(schema.attributes)
        for block in schema.block_types:
            attributes += block.block.attributes
        for attribute in attributes:
            assert attribute.description and len(attribute.description) > 10, attribute.name


def test_every_resource_has_an_example_and_an_import_script() -> None:
    for resource in BlocksProvider().get_resources():
        if resource.get_name() not in SHIPPED:
            continue
        folder = ROOT / "examples" / "resources" / f"blocks_{resource.get_name()}"
        assert (folder / "resource.tf").exists() and (folder / "import.sh").exists(), folder


def test_credentials_ephemeral_resources_and_functions_have_examples() -> None:
    provider = BlocksProvider()
    names = {e.get_name() for e in provider.get_ephemeral_resources()}
    assert names >= EPHEMERAL_EXAMPLES
    for name in EPHEMERAL_EXAMPLES:
        assert (ROOT / "examples" / "ephemeral-resources" / f"blocks_{name}" /
                "ephemeral-resource.tf").exists(), name
    for function in provider.get_functions():
        assert (ROOT / "examples" / "functions" / function.get_name() / "function.tf").exists()


def test_data_source_pages_carry_no_resource_only_text() -> None:
    for page in (ROOT / "terraform" / "docs" / "data-sources").glob("*.md"):
        text = page.read_text()
        for phrase in ("Changing it", "replaces the", "Default:", "renames"):
            assert phrase not in text, (page.name, phrase)


def _readme_settings() -> str:
    """The settings table users read (the README points to docs/settings.md)."""
    assert "docs/settings.md" in (ROOT / "README.md").read_text()
    return (ROOT / "docs" / "settings.md").read_text()


def test_provider_page_and_readme_list_the_same_variables_and_every_default() -> None:
    index = (ROOT / "terraform" / "docs" / "index.md").read_text()
    table = _readme_settings()
    for spec in typed_schema.settings_specs(Settings.model_fields):
        line = next(x for x in index.splitlines() if x.startswith(f"- `{spec['name']}` "))
        assert "Default:" in line, line
        for variable in spec["environment"]:
            assert f"`{variable}`" in line, (variable, line)
            assert f"`{variable}`" in table, (variable, "missing from the README table")
        assert f"`{spec['name']}`" in table
    documented = set(re.findall(r"`((?:BLOCKS|AWS|VAULT|PREFECT)_[A-Z_]+)`", table))
    listed = {v for s in typed_schema.settings_specs(Settings.model_fields)
              for v in s["environment"]}
    assert documented == listed


PROBES = {"key_provider": "vault-transit", "sqlite_synchronous": "FULL",
          "api_url": "http://127.0.0.1:18199", "api_cache_seconds": "42",
          "keyring_cache_seconds": "42", "database_url": "sqlite:///probe.db",
          "recovery_window": "3d", "audit_reads": "true"}


@pytest.mark.parametrize("spec", typed_schema.settings_specs(Settings.model_fields),
                         ids=lambda s: s["name"])
def test_every_documented_variable_works(spec: dict[str, Any],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    value = PROBES.get(spec["name"], "probe")
    for variable in spec["environment"]:
        monkeypatch.delenv(variable, raising=False)  # earlier ones would win
    for variable in spec["environment"]:
        monkeypatch.setenv(variable, value)
        read = getattr(Settings(), spec["name"])
        shown = read.get_secret_value() if hasattr(read, "get_secret_value") else read
        assert str(shown) in (value, f"{value}.0"), (variable, shown)
        monkeypatch.delenv(variable)


def test_fingerprint_key_is_explained() -> None:
    for text in ((ROOT / "docs" / "terraform.md").read_text(),
                 (ROOT / "terraform" / "docs" / "index.md").read_text()):
        assert "secret/terraform-fingerprint-key" in text
        assert "Deleting it" in text and "changed outside Terraform" in text
