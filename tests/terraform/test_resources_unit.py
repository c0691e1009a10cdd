"""Resource classes called directly (no Terraform): validation, plans, CRUD, drift, schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from tf.iface import CreateContext, DeleteContext, ImportContext, ReadContext, UpdateContext
from tf.types import Unknown
from tf.utils import Diagnostics

from blocks.core import Block
from blocks.registry import Registry
from blocks.settings import Settings
from blocks_terraform import schema_cache, typed_schema
from blocks_terraform.framework import Json, PlanContext, SingleNestedBlock, is_known
from blocks_terraform.provider import BlocksProvider
from blocks_terraform.resources import secret, typed
from blocks_terraform.runtime import MASK


class UnitWebhook(Block):
    """A user-defined type, as a plug-in would ship it."""

    url: str
    token: SecretStr
    retries: int = 3
    tags: list[str] = []
    headers: dict[str, str] | None = None


@pytest.fixture
def provider(tmp_path: Path) -> BlocksProvider:
    p = BlocksProvider()
    p.configure_provider(Diagnostics(), {"home": str(tmp_path), "database_url": None,
                                         "create_registry": True})
    return p


def resource(provider: BlocksProvider, name: str) -> Any:
    classes = {c.get_name(): c for c in provider.get_resources()}
    return provider.new_resource(classes[name])


def full_state(res: Any, **values: Any) -> dict[str, Any]:
    state = {a.name: None for a in res.get_schema().attributes}
    state.update(values)
    return state


def test_validate_points_at_the_attribute(provider: BlocksProvider) -> None:
    res = resource(provider, "s3_bucket")
    diags = Diagnostics()
    res.check_config(diags, full_state(res, name="lake", bucket_name="bad name"))
    assert [d.path for d in diags.diagnostics] == [["bucket_name"]]


def test_validate_tolerates_unknown_values(provider: BlocksProvider) -> None:
    res = resource(provider, "snowflake_credentials")
    diags = Diagnostics()
    res.check_config(diags,
                 full_state(res, name=Unknown, account="nh12345.us-east-2.aws", user=Unknown,
                            password=Unknown, authenticator="snowflake_jwt"))
    assert not diags.diagnostics


def test_create_plan_fills_defaults_and_leaves_the_id_to_apply(provider: BlocksProvider) -> None:
    res = resource(provider, "s3_bucket")
    config = full_state(res, name="lake", bucket_name="data-lake")
    planned = res.plan(PlanContext(Diagnostics(), "blocks_s3_bucket", set(), config=config,
                                   creating=True), None, dict(config))
    assert planned["bucket_folder"] == "" and planned["credentials"] is None
    # Unknown until the block exists, so references to it wait for it and known ones can be
    # looked up at plan time.
    assert planned["id"] is Unknown and planned["placeholder"] is Unknown
    assert planned["version"] is Unknown


def test_crud_round_trip_and_secret_drift_never_copies_the_new_value(
    provider: BlocksProvider, tmp_path: Path
) -> None:
    res = resource(provider, "github_credentials")
    diags = Diagnostics()
    planned = full_state(res, name="gh", token="ghp_first")
    state = res.create(CreateContext(diags, "blocks_github_credentials"), planned)
    assert not diags.diagnostics and state["version"] == 1
    assert res.read(ReadContext(diags, "x"), state) == state

    registry = Registry(Settings(home=tmp_path))
    block = registry.load("github-credentials/gh")
    block.token = "ghp_outofband"
    registry.save(block, "gh", overwrite=True)
    refreshed = res.read(ReadContext(diags, "x"), state)
    assert refreshed["token"] == MASK
    assert "ghp_outofband" not in json.dumps(refreshed)

    updated = res.update(UpdateContext(diags, "x"), refreshed, {**state, "version": Unknown})
    assert updated["version"] == 3 and updated["token"] == "ghp_first"
    res.delete(DeleteContext(diags, "x"), updated)
    assert res.read(ReadContext(diags, "x"), updated) is None
    assert not diags.diagnostics
    registry.close()


def test_import_of_missing_block_is_an_error(provider: BlocksProvider) -> None:
    res = resource(provider, "s3_bucket")
    ctx = ImportContext(Diagnostics(), "blocks_s3_bucket")
    assert res.import_(ctx, "nope") is None
    assert "no block s3-bucket/nope" in ctx.diagnostics.diagnostics[0].detail


def test_conflicting_secret_sources_are_rejected(provider: BlocksProvider) -> None:
    res = resource(provider, "secret")
    diags = Diagnostics()
    res.validate(diags, "blocks_secret",
                 full_state(res, name="s", value="x", generate={"length": 20}))
    assert diags.diagnostics[0].path == ["generate"]


def test_secret_writes_only_when_needed() -> None:
    gen = {"length": 32, "special": None, "keepers": {"k": "1"}}
    base = {"value": None, "value_json": None, "fingerprint": "hmac-sha256:x", "generate": gen}
    assert not secret.writes(base, dict(base))
    assert secret.writes(base, {**base, "generate": {**gen, "keepers": {"k": "2"}}})
    assert secret.writes({**base, "fingerprint": secret.DRIFTED}, dict(base))
    assert not secret.writes({**base, "generate": None, "value": "adopted"}, dict(base))
    assert secret.writes({**base, "generate": None, "value": "a"},
                         {**base, "generate": None, "value": "b"})


def test_generated_values_follow_the_options() -> None:
    plain = secret.generate_value({"length": 50})
    assert len(plain) == 50 and plain.isalnum()
    assert len(secret.generate_value({})) == secret.DEFAULT_LENGTH


def test_bytes_secrets_compare_pem_text_with_stored_base64() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n"
    import base64

    stored = base64.b64encode(pem.encode()).decode()
    assert typed.same_secret(pem, stored, as_bytes=True)
    assert not typed.same_secret(pem, base64.b64encode(b"other").decode(), as_bytes=True)


def test_user_types_get_typed_resources() -> None:
    specs = {s["name"]: s for s in typed_schema.field_specs(UnitWebhook.block_schema())}
    assert specs["url"]["required"] and specs["url"]["kind"] == "string"
    assert specs["token"]["sensitive"]
    assert specs["retries"]["kind"] == "number" and specs["retries"]["default"] == 3
    assert specs["tags"]["kind"] == "list" and specs["tags"]["element"] == "string"
    assert specs["headers"]["kind"] == "json"
    built = schema_cache.build()
    cls = typed.resource_class("unit-webhook", built["types"]["unit-webhook"])
    attrs = {a.name: a for a in cls.get_schema().attributes}
    assert cls.get_name() == "unit_webhook"
    assert attrs["token"].sensitive and attrs["retries"].computed and attrs["url"].required


def test_framework_types_pass_none_and_unknown_through() -> None:
    for value in (None, Unknown):
        assert Json().encode(value) is value and Json().decode(value) is value
    assert Json().decode(Json().encode({"b": 1, "a": [2]})) == {"a": [2], "b": 1}
    from tf.schema import Attribute
    from tf.schema import Block as TfBlock
    from tf.types import Number

    nested = SingleNestedBlock("g", TfBlock(attributes=[Attribute("n", Number(), optional=True)]))
    assert nested.decode(nested.encode({"n": 3})) == {"n": 3}
    assert nested.decode(None) is None
    assert not is_known({"a": [1, Unknown]}) and is_known({"a": [1, None]})


def test_provider_config_overrides_the_environment(tmp_path: Path) -> None:
    p = BlocksProvider()
    url = f"sqlite:///{tmp_path / 'other.db'}"
    p.configure_provider(Diagnostics(), {"database_url": url, "home": str(tmp_path)})
    assert p.runtime.settings().resolved_database_url == url
    diags = Diagnostics()
    p.validate_config(diags, {"key_provider": "nope"})
    assert diags.diagnostics[0].path == ["key_provider"]


def test_generated_secret_follows_a_same_value_save_made_elsewhere(
    provider: BlocksProvider, tmp_path: Path
) -> None:
    res = resource(provider, "secret")
    diags = Diagnostics()
    gen = {"length": 20, "special": None, "keepers": {"r": "1"}}
    state = res.create(CreateContext(diags, "blocks_secret"),
                       full_state(res, name="s", generate=gen))
    registry = Registry(Settings(home=tmp_path))
    from blocks.types.system import Secret

    same = registry.load("secret/s").get()
    Secret(value=same).save("s", overwrite=True, registry=registry)
    refreshed = res.read(ReadContext(diags, "x"), state)
    assert refreshed["version"] == 2 and refreshed["fingerprint"] == state["fingerprint"]
    rotated = res.update(UpdateContext(diags, "x"), refreshed,
                         {**refreshed, "generate": {**gen, "keepers": {"r": "2"}}})
    assert not diags.diagnostics, diags
    assert rotated["version"] == 3 and registry.load("secret/s").get() != same
    registry.close()
