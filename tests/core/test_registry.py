"""Registry behaviour on SQLite and PostgreSQL: versions, CAS, references, history, rollback."""

from __future__ import annotations

import pytest

from blocks import (
    Block,
    BlockAlreadyExists,
    BlockNotFound,
    ConflictError,
    ReferencedBlockError,
    Registry,
    ValidationError,
)
from tests.core.models import TestCreds, TestService

pytestmark = pytest.mark.over_http  # the registry fixture runs through a blocks server too

def creds(password: str = "pw-1", user: str = "bob") -> TestCreds:
    return TestCreds(user=user, password=password, blob=b"\x00\xffbin",
                     headers={"Authorization": "Bearer t"})


def test_round_trip_keeps_every_kind_of_secret(registry: Registry) -> None:
    info = registry.save(creds(), "prod")
    assert (info.version, info.ref) == (1, "test-creds/prod")
    loaded = registry.load("test-creds/prod")
    assert isinstance(loaded, TestCreds)
    assert loaded.password.get_secret_value() == "pw-1"
    assert loaded.blob is not None and loaded.blob.get_secret_value() == b"\x00\xffbin"
    assert loaded.headers["Authorization"].get_secret_value() == "Bearer t"
    assert (loaded.block_name, loaded.block_version, loaded.block_ref) == (
        "prod", 1, "test-creds/prod")


def test_class_methods_use_the_given_registry(registry: Registry) -> None:
    creds().save("prod", registry=registry)
    assert TestCreds.load("prod", registry=registry).user == "bob"
    assert Block.load("test-creds/prod", registry=registry).block_type_slug == "test-creds"
    assert [v.version for v in TestCreds.history("prod", registry=registry)] == [1]
    TestCreds.delete("prod", registry=registry)
    with pytest.raises(BlockNotFound):
        TestCreds.load("prod", registry=registry)


def test_save_refuses_existing_name_without_overwrite(registry: Registry) -> None:
    registry.save(creds(), "prod")
    with pytest.raises(BlockAlreadyExists, match="overwrite=True"):
        registry.save(creds("pw-2"), "prod")
    assert registry.load("test-creds/prod").password.get_secret_value() == "pw-1"


def test_every_save_is_a_new_version_and_old_ones_stay_readable(registry: Registry) -> None:
    for i in range(1, 4):
        registry.save(creds(f"pw-{i}"), "prod", overwrite=True)
    assert [v.version for v in registry.history("test-creds/prod")] == [1, 2, 3]
    assert registry.load("test-creds/prod").password.get_secret_value() == "pw-3"
    assert registry.load("test-creds/prod", version=1).password.get_secret_value() == "pw-1"
    assert registry.summary("test-creds/prod").current_version == 3


def test_missing_version_error_points_to_history(registry: Registry) -> None:
    registry.save(creds(), "prod")
    with pytest.raises(BlockNotFound, match=r"has no version 7.*blocks history"):
        registry.load("test-creds/prod", version=7)


def test_expected_version_is_compare_and_set(registry: Registry) -> None:
    registry.save(creds(), "prod", expected_version=0)
    with pytest.raises(BlockAlreadyExists,
                       match=r"already exists \(version 1\), but expected_version=0"):
        registry.save(creds(), "prod", expected_version=0)
    registry.save(creds("pw-2"), "prod", expected_version=1)
    with pytest.raises(ConflictError, match="at version 2, not the expected 1"):
        registry.save(creds("pw-lost"), "prod", expected_version=1)
    assert registry.load("test-creds/prod").password.get_secret_value() == "pw-2"


def test_rollback_writes_a_new_version_with_old_content(registry: Registry) -> None:
    registry.save(creds("pw-1"), "prod")
    registry.save(creds("pw-2"), "prod", overwrite=True)
    info = registry.rollback("test-creds/prod", 1)
    assert info.version == 3 and info.note == "rollback to version 1"
    assert registry.load("test-creds/prod").password.get_secret_value() == "pw-1"
    assert [v.version for v in registry.history("test-creds/prod")] == [1, 2, 3]
    with pytest.raises(ConflictError):
        registry.rollback("test-creds/prod", 2, expected_version=2)


def test_nested_saved_block_is_stored_as_reference_and_follows_updates(
    registry: Registry,
) -> None:
    registry.save(creds("pw-1"), "prod")
    service = TestService(url="https://x", creds=registry.load("test-creds/prod"))
    registry.save(service, "api")
    registry.save(creds("pw-rotated"), "prod", overwrite=True)
    loaded = registry.load("test-service/api")
    assert isinstance(loaded, TestService)
    assert loaded.creds.password.get_secret_value() == "pw-rotated"
    assert loaded.creds.block_ref == "test-creds/prod"


def test_unsaved_nested_block_is_embedded(registry: Registry) -> None:
    registry.save(TestService(url="u", creds=creds("inline-pw")), "api")
    loaded = registry.load("test-service/api")
    assert isinstance(loaded, TestService)
    assert loaded.creds.password.get_secret_value() == "inline-pw"
    assert loaded.creds.block_ref is None
    registry.delete("test-service/api")


def test_delete_of_referenced_block_is_refused_naming_referrers(registry: Registry) -> None:
    registry.save(creds(), "prod")
    prod = registry.load("test-creds/prod")
    registry.save(TestService(url="u", creds=prod), "api")
    registry.save(TestService(url="u", creds=creds(), backup=prod), "batch")
    with pytest.raises(ReferencedBlockError) as info:
        registry.delete("test-creds/prod")
    assert info.value.referrers == [
        "test-service/api (field creds)", "test-service/batch (field backup)"]
    assert registry.load("test-creds/prod").user == "bob"
    registry.delete("test-service/api")
    registry.delete("test-service/batch")
    registry.delete("test-creds/prod")
    assert registry.list() == []


def test_reference_dropped_by_new_version_no_longer_blocks_delete(registry: Registry) -> None:
    registry.save(creds(), "prod")
    registry.save(TestService(url="u", creds=registry.load("test-creds/prod")), "api")
    registry.save(TestService(url="u", creds=creds()), "api", overwrite=True)
    registry.delete("test-creds/prod")


def test_edited_nested_block_must_be_saved_first(registry: Registry) -> None:
    registry.save(creds(), "prod")
    prod = registry.load("test-creds/prod")
    prod.user = "alice"
    with pytest.raises(ValidationError, match=r"creds: the nested block test-creds/prod was "
                                              r"changed.*save it first"):
        registry.save(TestService(url="u", creds=prod), "api")
    prod.save("prod", overwrite=True, registry=registry)
    registry.save(TestService(url="u", creds=prod), "api")


def test_list_filters_by_type_and_orders_by_name(registry: Registry) -> None:
    registry.save(creds(), "b")
    registry.save(creds(), "a")
    registry.save(TestService(url="u", creds=creds()), "svc")
    assert [b.ref for b in registry.list()] == [
        "test-creds/a", "test-creds/b", "test-service/svc"]
    assert [b.ref for b in registry.list("test-service")] == ["test-service/svc"]


def test_parse_builds_blocks_from_json_with_named_references(registry: Registry) -> None:
    registry.save(creds(), "prod")
    block = registry.parse("test-service", {"url": "u", "creds": {"$ref": "test-creds/prod"}})
    assert isinstance(block, TestService) and block.creds.block_ref == "test-creds/prod"
    with pytest.raises(ValidationError) as info:
        registry.parse("test-service", {"url": "u", "creds": {"$ref": "test-creds/missing"}})
    assert info.value.errors[0][0] == "creds"
    assert "no block test-creds/missing" in info.value.errors[0][1]


def test_history_of_missing_block_is_not_found(registry: Registry) -> None:
    registry.init()
    with pytest.raises(BlockNotFound, match="no block test-creds/ghost"):
        registry.history("test-creds/ghost")
    with pytest.raises(BlockNotFound):
        registry.delete("test-creds/ghost")
