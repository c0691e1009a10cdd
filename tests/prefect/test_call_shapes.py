"""Prefect's call shapes on our blocks, without a server: async twins, validate=False, nameless
save, placeholders, include_secrets dumps, errors that are ValueErrors, signatures and help."""

from __future__ import annotations

import asyncio
import inspect
import pydoc
import threading
import warnings

import pytest

from blocks import (
    AwsCredentials,
    Block,
    BlockAlreadyExists,
    BlockNotFound,
    BlockNotSaved,
    BlocksError,
    Registry,
    S3Bucket,
    Secret,
    SecretDict,
    ValidationError,
)
from blocks._async import run_sync
from blocks._lenient import BlockSchemaWarning

pytestmark = pytest.mark.over_http  # the registry fixture runs through a blocks server too

class Meter(Block):
    """A test type whose schema changes below."""

    reading: int
    label: str = "m"


class Vault(Block):
    token: Secret
    key: str


def redefine(original: type[Block], annotations: dict[str, object]) -> type[Block]:
    """The same class (module and name, so the same slug) with a new schema, as when code
    changes between a save and a load; the catalog entry is the new class until restored."""
    return type(original.__name__, (Block,), {
        "__annotations__": annotations, "__module__": original.__module__,
        "__qualname__": original.__qualname__})


@pytest.fixture(autouse=True)
def restore_catalog() -> object:
    yield None
    from blocks import catalog

    for cls in (Meter, Vault):
        catalog.register(cls)


def test_missing_and_taken_blocks_are_value_errors(registry: Registry) -> None:
    with pytest.raises(ValueError) as info:
        Secret.load("absent", registry=registry)
    assert isinstance(info.value, BlockNotFound) and isinstance(info.value, BlocksError)
    assert isinstance(info.value, LookupError)
    Secret(value="v").save("taken", registry=registry)
    with pytest.raises(ValueError) as taken:
        Secret(value="w").save("taken", registry=registry)
    assert isinstance(taken.value, BlockAlreadyExists)


def test_validate_false_loads_a_document_saved_before_a_schema_change(
    registry: Registry,
) -> None:
    Meter(reading=5, label="kitchen").save("m1", registry=registry)

    # "reading" retyped (the stored int no longer fits) and a required "unit" added.
    Meter2 = redefine(Meter, {"reading": list[str], "label": str, "unit": str})

    with pytest.raises(ValidationError):
        Meter2.load("m1", registry=registry)
    with pytest.warns(BlockSchemaWarning) as caught:
        meter = Meter2.load("m1", validate=False, registry=registry)
    assert (meter.reading, meter.label, meter.unit) == (5, "kitchen", None)  # type: ignore[attr-defined]
    message = str(caught[0].message)
    assert "meter/m1" in message and "unit" in message and "reading" in message
    assert "save('m1', overwrite=True)" in message
    assert meter.block_ref == "meter/m1"


def test_validate_false_keeps_secrets_typed_and_out_of_the_warning(registry: Registry) -> None:
    Vault(token=Secret(value="tok-123"), key="k").save("v1", registry=registry)
    Vault2 = redefine(Vault, {"token": Secret, "key": str, "region": str})

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vault = Vault2.load("v1", validate=False, registry=registry)
    assert vault.token.get() == "tok-123" and vault.region is None  # type: ignore[attr-defined]
    assert all("tok-123" not in str(w.message) for w in caught)


def test_save_without_a_name_after_load_uses_its_name(registry: Registry) -> None:
    Secret(value="one").save("token", registry=registry)
    loaded = Secret.load("token", registry=registry)
    loaded.value = "two"  # type: ignore[assignment]
    info = loaded.save(overwrite=True, registry=registry)
    assert (info.name, info.version) == ("token", 2)
    assert Secret.load("token", registry=registry).get() == "two"
    with pytest.raises(BlockNotSaved, match="give a name"):
        Secret(value="x").save(overwrite=True, registry=registry)


def test_placeholders(registry: Registry) -> None:
    secret = Secret(value="v")
    with pytest.raises(BlockNotSaved):
        secret.get_block_placeholder()
    secret.save("db-pass", registry=registry)
    assert secret.get_block_placeholder() == "{{ blocks.secret.db-pass }}"
    assert secret.get_block_placeholder(prefect=True) == "{{ prefect.blocks.secret.db-pass }}"


def test_model_dump_reveals_secrets_only_when_asked() -> None:
    bucket = S3Bucket(bucket_name="data-lake", credentials=AwsCredentials(
        aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="s3cr3t-dump"))
    assert "s3cr3t-dump" not in str(bucket.model_dump())
    assert "s3cr3t-dump" not in bucket.model_dump_json()
    shown = bucket.model_dump(context={"include_secrets": True})
    assert shown["credentials"]["aws_secret_access_key"] == "s3cr3t-dump"
    as_json = bucket.model_dump(mode="json", context={"include_secrets": True})
    assert as_json["credentials"]["aws_secret_access_key"] == "s3cr3t-dump"

    class Headers(Block):
        values: SecretDict

    dumped = Headers(values={"X-Token": "t-1"}).model_dump(context={"include_secrets": True})
    assert dumped == {"values": {"X-Token": "t-1"}}


def test_json_secret_keeps_its_key_order(registry: Registry) -> None:
    value = {"zeta": 1, "alpha": {"b": 2, "a": 1}, "mid": [{"y": 1, "x": 2}]}
    Secret(value=value).save("ordered", registry=registry)
    loaded = Secret.load("ordered", registry=registry).get()
    assert loaded == value
    assert list(loaded) == ["zeta", "alpha", "mid"]  # type: ignore[arg-type]
    assert list(loaded["alpha"]) == ["b", "a"]  # type: ignore[index,call-overload]


def test_signature_and_help_show_the_fields() -> None:
    sig = inspect.signature(S3Bucket)
    assert list(sig.parameters) == ["bucket_name", "bucket_folder", "credentials"]
    assert sig.parameters["bucket_name"].annotation is str
    assert sig.parameters["bucket_folder"].default == ""
    text = pydoc.render_doc(S3Bucket, renderer=pydoc.plaintext)
    assert "bucket_name (str, required)" in text
    assert "Bucket name (3-63 lowercase letters" in text
    # The JSON Schema keeps the docstring as written.
    schema = S3Bucket.block_schema()
    assert "Fields:" not in schema["json_schema"]["description"]
    assert schema["description"].startswith("An S3 bucket")


def test_async_twins_run_off_the_event_loop(registry: Registry) -> None:
    async def run() -> tuple[object, ...]:
        loop_thread = threading.get_ident()
        worker = await run_sync(threading.get_ident)
        info = await Secret(value="a").asave("async-one", registry=registry)
        loaded = await Secret.aload("async-one", registry=registry)
        awaited = await Secret.load("async-one", registry=registry)  # Prefect 3 style
        again = await loaded.asave(overwrite=True, registry=registry)
        history = await Secret.ahistory("async-one", registry=registry)
        rolled = await Secret.arollback("async-one", 1, registry=registry)
        many = await asyncio.gather(*(Secret.aload("async-one", registry=registry)
                                      for _ in range(20)))
        await Secret.adelete("async-one", registry=registry)
        return (worker != loop_thread, info.version, loaded.get(), awaited.get(),
                again.version, [v.version for v in history], rolled.version,
                {m.get() for m in many})

    assert asyncio.run(run()) == (True, 1, "a", "a", 2, [1, 2], 3, {"a"})
    with pytest.raises(BlockNotFound):
        asyncio.run(Secret.aload("async-one", registry=registry))


def test_awaiting_save_and_delete_works_as_in_prefect(registry: Registry) -> None:
    """Prefect 3 code writes ``await block.save(name)`` and ``await X.delete(name)``."""

    async def run() -> tuple[object, ...]:
        info = await Secret(value="a").save("awaited", registry=registry)
        loaded = await Secret.load("awaited", registry=registry)
        loaded.value = "b"  # type: ignore[assignment]
        again = await loaded.save(overwrite=True, registry=registry)
        rolled = await Secret.rollback("awaited", 1, registry=registry)
        gone = await Secret.delete("awaited", registry=registry)
        return info.version, again.version, rolled.version, gone

    assert asyncio.run(run()) == (1, 2, 3, None)
    with pytest.raises(BlockNotFound):
        Secret.load("awaited", registry=registry)
    Secret(value="c").save("plain", registry=registry)
    assert repr(Secret.delete("plain", registry=registry)) == "Deleted('secret/plain')"
