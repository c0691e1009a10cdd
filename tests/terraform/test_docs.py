"""Reference docs are generated from the schemas and kept in step with them."""

from __future__ import annotations

from pathlib import Path

from blocks.catalog import BUILTIN_TYPES
from blocks_terraform import docs
from blocks_terraform.provider import BlocksProvider

ROOT = Path(__file__).resolve().parents[2]
# Other tests define their own block types in this process; only built-ins are documented.
SHIPPED = {s.replace("-", "_") for s in BUILTIN_TYPES} | {"block", "work_pool", "work_queue",
                                                          "default_job_template"}


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
