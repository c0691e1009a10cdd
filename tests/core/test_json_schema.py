"""Every built-in type's JSON Schema is one a standard validator accepts, and it accepts the
type's documents: the samples in ``examples/block-documents/`` (references replaced by the
documents they name) and what a loaded block dumps, as Prefect sends a block parameter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from blocks import MinIOCredentials, S3Bucket, catalog

SAMPLES = Path(__file__).resolve().parents[2] / "examples" / "block-documents"


def inline(doc: Any) -> Any:
    """``doc`` with every ``{"$ref": "slug/name"}`` replaced by that sample document."""
    if isinstance(doc, dict):
        if set(doc) == {"$ref"}:
            slug, name = doc["$ref"].split("/")
            return inline(json.loads((SAMPLES / slug / f"{name}.json").read_text()))
        return {key: inline(value) for key, value in doc.items()}
    if isinstance(doc, list):
        return [inline(item) for item in doc]
    return doc


def sample_documents() -> list[str]:
    return [f"{p.parent.name}/{p.stem}" for p in sorted(SAMPLES.glob("*/*.json"))]


def validator(slug: str) -> jsonschema.protocols.Validator:
    schema = catalog.get(slug).block_schema()["json_schema"]
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema)


def errors(slug: str, doc: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in validator(slug).iter_errors(doc)]


def test_every_built_in_type_has_a_sample_document() -> None:
    shipped = {slug for slug, cls in catalog.all_types().items()
               if cls.__module__.startswith("blocks.types.")}  # built-ins and entry points
    assert set(catalog.BUILTIN_TYPES) <= shipped
    assert {ref.split("/")[0] for ref in sample_documents()} == shipped


@pytest.mark.parametrize("ref", sample_documents())
def test_json_schema_validators_accept_the_sample_document_and_its_loaded_dump(ref: str) -> None:
    slug = ref.split("/")[0]
    doc = inline({"$ref": ref})
    assert errors(slug, doc) == []
    block = catalog.get(slug).model_validate(doc)
    dumped = block.model_dump(mode="json", by_alias=True, context={"include_secrets": True})
    assert errors(slug, dumped) == []


def test_an_s3_bucket_with_minio_credentials_is_valid_and_a_wrong_credentials_field_is_not(
) -> None:
    minio = MinIOCredentials(minio_root_user="admin", minio_root_password="pw")
    bucket = S3Bucket(bucket_name="lake", credentials=minio)
    assert errors("s3-bucket", bucket.model_dump(
        mode="json", by_alias=True, context={"include_secrets": True})) == []
    wrong = inline(json.loads((SAMPLES / "s3-bucket" / "data-lake.json").read_text()))
    wrong["credentials"]["aws_secret_acces_key"] = "typo"
    assert errors("s3-bucket", wrong)  # the schema still says what credentials look like
