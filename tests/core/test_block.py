"""The Block model: slugs, names, schema, secret paths, errors without secret values."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from blocks import Block, InvalidName, UnknownBlockType, ValidationError, catalog
from blocks.core import validate_name
from tests.core.models import TestCreds, TestService


@pytest.mark.parametrize(
    ("cls_name", "slug"),
    [("S3Bucket", "s3-bucket"), ("AwsCredentials", "aws-credentials"),
     ("HTTPHeaders", "http-headers"), ("Secret", "secret")],
)
def test_slug_is_derived_from_class_name(cls_name: str, slug: str) -> None:
    assert catalog.slug_from_class_name(cls_name) == slug


def test_explicit_slug_wins_and_class_is_registered() -> None:
    assert TestCreds.block_type_slug == "test-creds"
    assert catalog.get("test-creds") is TestCreds


def test_taking_another_types_slug_is_refused() -> None:
    with pytest.raises(ValueError, match=r"already used by"):
        type("Impostor", (Block,), {"__module__": "elsewhere", "block_type_slug": "test-creds",
                                    "__annotations__": {}})


def test_unknown_slug_lists_known_types() -> None:
    with pytest.raises(UnknownBlockType, match=r"known types: .*s3-bucket"):
        catalog.get("no-such-type")


@pytest.mark.parametrize("name", ["a", "data-lake", "x1", "a" * 63, "0-9"])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["", "A", "data_lake", "-x", "x-", "a" * 64, "a b", "a/b"])
def test_invalid_names_state_the_rule(name: str) -> None:
    with pytest.raises(InvalidName, match="lowercase letters, digits and dashes"):
        validate_name(name)


def test_secret_paths_cover_str_bytes_dicts_and_nested_blocks() -> None:
    assert TestCreds.secret_paths() == ("password", "blob", "headers.*")
    assert TestService.secret_paths() == (
        "creds.password", "creds.blob", "creds.headers.*",
        "backup.password", "backup.blob", "backup.headers.*",
    )


def test_schema_has_checksum_version_secret_fields_and_references() -> None:
    schema = TestService.block_schema()
    assert schema["slug"] == "test-service"
    assert schema["checksum"].startswith("sha256:") and len(schema["checksum"]) == 71
    assert schema["version"] == "1"
    assert schema["block_references"] == {"creds": ["test-creds"], "backup": ["test-creds"]}
    assert "creds.password" in schema["secret_fields"]
    assert schema["json_schema"]["properties"]["url"]["type"] == "string"


def test_checksum_changes_when_fields_change() -> None:
    class Va(Block):
        block_type_slug = "test-checksum-a"
        x: int

    class Vb(Block):
        block_type_slug = "test-checksum-b"
        x: str

    assert Va.block_schema()["checksum"] != Vb.block_schema()["checksum"]


def test_validation_error_names_path_and_rule_never_the_value() -> None:
    with pytest.raises(ValidationError) as info:
        TestCreds(user="has space", password="hunter2-secret")
    assert info.value.errors == [("user", "Value error, must not contain spaces")]
    assert "hunter2-secret" not in str(info.value)
    with pytest.raises(ValidationError) as info:
        TestCreds(user="bob", password=12345678)  # type: ignore[arg-type]
    assert info.value.errors[0][0] == "password"
    assert "12345678" not in str(info.value)


def test_nested_validation_error_has_dotted_path() -> None:
    with pytest.raises(ValidationError) as info:
        TestService(url="u", creds={"user": "bob"})  # type: ignore[arg-type]
    assert ("creds.password", "Field required") in info.value.errors


def test_assignment_is_validated() -> None:
    creds = TestCreds(user="bob", password="p")
    with pytest.raises(ValidationError, match="user"):
        creds.user = "with space"


def test_unknown_fields_are_rejected_by_name() -> None:
    with pytest.raises(ValidationError) as info:
        TestCreds(user="bob", password="p", pasword="typo")  # type: ignore[call-arg]
    assert info.value.errors[0][0] == "pasword"


def test_repr_and_str_mask_secrets() -> None:
    creds = TestCreds(user="bob", password="hunter2-secret", blob=b"\x00raw-secret",
                      headers={"Authorization": "Bearer tok-secret"})
    for text in (repr(creds), str(creds), repr(TestService(url="u", creds=creds))):
        assert "hunter2-secret" not in text
        assert "raw-secret" not in text
        assert "tok-secret" not in text
    assert creds.password == SecretStr("hunter2-secret")


def test_block_load_needs_slug_on_base_class() -> None:
    with pytest.raises(InvalidName, match="type-slug/name"):
        Block.load("data-lake")


def test_loading_with_other_types_slug_is_refused() -> None:
    with pytest.raises(TypeError, match=r"use Block\.load"):
        TestCreds.load("test-service/x")


def test_aliased_fields_are_stored_listed_and_accepted_under_their_alias() -> None:
    from pydantic import Field

    from blocks.codec import encode, to_display

    class Aliased(Block):
        block_type_slug = "test-aliased"
        url_: SecretStr = Field(alias="url")
        schema_: str = Field(alias="schema")

    assert Aliased.secret_paths() == ("url",)
    assert set(Aliased.block_schema()["json_schema"]["properties"]) == {"url", "schema"}
    by_alias = Aliased(url="postgresql://u:pw@h/d", schema="public")
    by_name = Aliased(url_="postgresql://u:pw@h/d", schema_="public")
    assert encode(by_alias).document == encode(by_name).document
    assert encode(by_alias).document == b'{"schema":"public","url":"postgresql://u:pw@h/d"}'
    assert to_display(by_alias) == {"schema": "public", "url": "********"}
