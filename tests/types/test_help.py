"""``help()`` of every built-in block type fits a screen or two and keeps what a user needs:
the class docstring, the fields and the type's methods (with the ``Block`` methods by name),
without pydantic's inherited machinery."""

from __future__ import annotations

import inspect
import pydoc

import pytest

from blocks import Block, S3Bucket, catalog
from blocks._help import own_methods

TYPES = sorted(catalog.all_types().items())
MAX_LINES = 120


def rendered(cls: type[Block]) -> str:
    return pydoc.render_doc(cls, renderer=pydoc.plaintext)


@pytest.mark.parametrize(("slug", "cls"), TYPES, ids=[slug for slug, _ in TYPES])
def test_help_fits_and_keeps_docstring_fields_and_methods(slug: str, cls: type[Block]) -> None:
    text = rendered(cls)
    assert len(text.splitlines()) <= MAX_LINES, (slug, len(text.splitlines()))
    source = inspect.cleandoc(cls.__dict__["_block_doc_source"] or cls.__name__)
    assert source.splitlines()[0] in text
    for name, info in cls.model_fields.items():
        assert f"{info.alias or name} (" in text, (slug, name)
    for name, _ in own_methods(cls):
        assert f"    {name}" in text, (slug, name)
    for name in ("save", "load", "delete", "history", "rollback", "rename"):
        assert name in text
    for machinery in ("model_validate", "model_dump_json", "parse_obj", "__fields__",
                      "Methods inherited from pydantic"):
        assert machinery not in text, (slug, machinery)


def test_s3_bucket_lists_its_io_methods_once_with_their_async_twins_named() -> None:
    text = rendered(S3Bucket)
    for name in ("read_path", "write_path", "list_objects", "upload_from_path",
                 "download_folder_to_path", "copy_object", "get_directory"):
        assert text.count(f"    {name}(") == 1, name
    assert "has an async" in text and "(``aread_path``)" in text
    assert "aupload_from_path(" not in text


def test_details_stay_one_call_away() -> None:
    assert "Args:" in rendered(S3Bucket.list_objects)  # type: ignore[arg-type]
    assert "model_validate" in dir(Block) and "save" in dir(Block)
    bucket = S3Bucket(bucket_name="data-lake")
    assert {"read_path", "aread_path", "save", "model_dump"} <= set(dir(bucket))
