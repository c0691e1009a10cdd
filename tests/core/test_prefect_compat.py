"""Prefect 3's Block surface: custom slugs, load_from_ref, value equality, bytes as text,
BlockNotSaved as a ValueError."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from pydantic import SecretBytes, SecretStr

from blocks import (
    Block,
    BlockNotFound,
    BlockNotSaved,
    InvalidName,
    Registry,
    ValidationError,
    catalog,
)
from tests.core.models import TestCreds


class PortedWebhook(Block):
    """A block ported from Prefect as it was written there."""

    __test__ = False
    _block_type_slug = "ported-prefect-webhook"

    url: str
    token: SecretStr | None = None


class KeyHolder(Block):
    """A block with a bytes secret."""

    __test__ = False
    key: SecretBytes


def test_prefect_block_type_slug_is_honoured() -> None:
    assert PortedWebhook.block_type_slug == "ported-prefect-webhook"
    assert catalog.get("ported-prefect-webhook") is PortedWebhook


def test_ported_block_saves_and_loads_under_its_prefect_slug(sqlite_registry: Registry) -> None:
    PortedWebhook(url="https://x.example").save("hook", registry=sqlite_registry)
    loaded = Block.load("ported-prefect-webhook/hook", registry=sqlite_registry)
    assert isinstance(loaded, PortedWebhook) and loaded.url == "https://x.example"


def saved_creds(registry: Registry) -> TestCreds:
    creds = TestCreds(user="etl", password="pw-1")
    creds.save("etl", registry=registry)
    return creds


@pytest.mark.parametrize("form", ["id-str", "uuid", "name", "slug-name", "id-dict", "slug-dict",
                                  "name-dict"])
def test_load_from_ref_accepts_prefects_reference_forms(
    sqlite_registry: Registry, form: str
) -> None:
    creds = saved_creds(sqlite_registry)
    assert creds.block_id is not None
    ref = {"id-str": creds.block_id, "uuid": uuid.UUID(creds.block_id), "name": "etl",
           "slug-name": "test-creds/etl", "id-dict": {"block_document_id": creds.block_id},
           "slug-dict": {"block_document_slug": "test-creds/etl"},
           "name-dict": {"block_document_slug": "etl"}}[form]
    loaded = TestCreds.load_from_ref(ref, registry=sqlite_registry)
    assert loaded.password.get_secret_value() == "pw-1"
    assert loaded.block_id == creds.block_id


def test_aload_from_ref_loads_in_async_code(sqlite_registry: Registry) -> None:
    creds = saved_creds(sqlite_registry)
    loaded = asyncio.run(TestCreds.aload_from_ref({"block_document_id": creds.block_id},
                                                  registry=sqlite_registry))
    assert loaded == creds


def test_load_from_ref_of_unknown_id_is_a_value_error(sqlite_registry: Registry) -> None:
    saved_creds(sqlite_registry)
    with pytest.raises(BlockNotFound, match="no block with id") as caught:
        TestCreds.load_from_ref(str(uuid.uuid4()), registry=sqlite_registry)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("bad", [{"name": "etl"}, 42])
def test_load_from_ref_refuses_other_forms_naming_the_accepted_ones(
    sqlite_registry: Registry, bad: object
) -> None:
    with pytest.raises(InvalidName, match="block_document_id") as caught:
        TestCreds.load_from_ref(bad, registry=sqlite_registry)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)


def test_load_from_ref_of_another_type_is_refused(sqlite_registry: Registry) -> None:
    PortedWebhook(url="https://x.example").save("hook", registry=sqlite_registry)
    with pytest.raises(TypeError, match="not a TestCreds"):
        TestCreds.load_from_ref({"block_document_slug": "ported-prefect-webhook/hook"},
                                registry=sqlite_registry)


def test_equality_compares_values_not_saved_version(sqlite_registry: Registry) -> None:
    saved_creds(sqlite_registry)
    loaded = TestCreds.load("etl", registry=sqlite_registry)
    assert TestCreds(user="etl", password="pw-1") == loaded
    assert loaded == TestCreds(user="etl", password="pw-1")
    assert TestCreds(user="etl", password="pw-2") != loaded
    assert loaded != PortedWebhook(url="x")


def test_block_not_saved_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="never saved"):
        TestCreds(user="etl", password="pw").save()
    assert issubclass(BlockNotSaved, ValueError)


def test_secret_bytes_given_as_text_are_its_utf8_as_in_prefect() -> None:
    assert KeyHolder.model_validate({"key": "héllo"}).key.get_secret_value() == "héllo".encode()
    from_json = KeyHolder.model_validate_json('{"key": "aGVsbG8="}')
    assert from_json.key.get_secret_value() == b"aGVsbG8="  # text, even if it looks like base64


def test_secret_bytes_accept_explicit_base64_for_binary_data(sqlite_registry: Registry) -> None:
    block = sqlite_registry.parse("key-holder", {"key": {"base64": "/wAB"}})
    assert block.key.get_secret_value() == b"\xff\x00\x01"
    with pytest.raises(ValidationError, match=r"key: \{'base64': ...\} must hold standard base64"):
        sqlite_registry.parse("key-holder", {"key": {"base64": "not base64!"}})


def test_binary_secret_bytes_survive_save_and_load(sqlite_registry: Registry) -> None:
    KeyHolder(key=b"\xff\x00\x01").save("k", registry=sqlite_registry)
    assert KeyHolder.load("k", registry=sqlite_registry).key.get_secret_value() == b"\xff\x00\x01"
