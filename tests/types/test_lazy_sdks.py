"""Built-in types load without their SDKs: boto3, the Snowflake connector and psycopg load only
when a method needs them."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("boto3", "botocore", "snowflake", "psycopg", "sqlalchemy.dialects.postgresql")


@pytest.mark.parametrize(
    "module", ["aws", "s3", "snowflake", "github", "database", "system"],
)
def test_importing_a_type_module_loads_no_sdk(module: str) -> None:
    code = (
        "import sys, blocks\n"
        f"import blocks.types.{module}\n"
        "from blocks import catalog\n"
        "catalog.all_types()\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_every_builtin_field_has_a_description() -> None:
    from blocks import catalog

    for slug, target in catalog.BUILTIN_TYPES.items():
        cls = catalog.get(slug)
        assert f"{cls.__module__}:{cls.__name__}" == target
        schema = cls.model_json_schema()
        objects = [schema, *schema.get("$defs", {}).values()]
        missing = [
            f"{obj['title']}.{name}"
            for obj in objects
            for name, prop in obj.get("properties", {}).items()
            if not prop.get("description")
        ]
        assert not missing, f"{slug}: fields without description: {missing}"
