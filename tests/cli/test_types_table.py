"""``blocks types SLUG``: a field table for people, the JSON Schema with ``--json``."""

from __future__ import annotations

import json

import pytest

from blocks import catalog
from blocks.cli.main import main
from blocks.cli.schema_table import HEADERS, field_rows
from tests.core.models import TestCreds  # registers the test types


def _rows(out: str) -> dict[str, list[str]]:
    """Split the table by the header's column positions."""
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("FIELD "))
    starts = [lines[header].index(h) for h in HEADERS]
    rows = {}
    for line in lines[header + 1:]:
        if not line.strip():
            break
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        rows[cells[0]] = cells[1:]
    return rows


def test_types_slug_prints_a_field_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["types", "test-creds"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("test-creds  (TestCreds, schema version ")
    rows = _rows(out)
    assert list(rows) == list(TestCreds.model_json_schema()["properties"])
    assert rows["user"][:2] == ["string", "yes"]
    assert rows["password"][2] == "yes"           # secret
    assert rows["headers"][0] == "map" and rows["headers"][2] == "yes"  # headers.*
    assert "$defs" not in out and '"properties"' not in out
    assert "JSON Schema: blocks types test-creds --json" in out


def test_nested_block_field_names_its_type_and_inner_secrets(
    capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["types", "s3-bucket"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows["bucket_name"][:2] == ["string", "yes"]
    assert rows["credentials"][0] == "block aws-credentials | minio-credentials"
    assert rows["credentials"][2] == "inside"        # credentials.aws_secret_access_key
    assert rows["bucket_folder"][3] == '""'           # default
    assert rows["bucket_name"][4].startswith("Bucket name")


def test_every_builtin_type_has_a_row_per_field_with_a_description() -> None:
    for slug, cls in catalog.all_types().items():
        if not cls.__module__.startswith("blocks.types"):  # types that other tests define
            continue
        rows = field_rows(cls.block_schema())
        assert [r[0] for r in rows] == list(cls.model_json_schema()["properties"]), slug
        for name, kind, *_rest, description in rows:
            assert kind, (slug, name)
            assert description, f"{slug}.{name} has no description"


def test_json_flag_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["types", "aws-credentials", "--json"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["slug"] == "aws-credentials" and "json_schema" in schema
    assert main(["--json", "types", "aws-credentials"]) == 0
    assert json.loads(capsys.readouterr().out) == schema


def test_unknown_slug_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["types", "nope-type"]) == 1
    assert "unknown block type 'nope-type'" in capsys.readouterr().err
