"""Sealed heads: direct-SQL edits of names, pointers, ids and versions end in IntegrityError."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from blocks import Registry, Secret
from blocks.errors import BlockNotFound, ConflictError, IntegrityError
from tests.core.models import TestCreds, TestService
from tests.registry_fixtures import backing
from tests.store.tamper import tamper

pytestmark = pytest.mark.over_http  # the registry fixture runs through a blocks server too

OLD = "leaked-old-password-1a2b"
NEW = "rotated-new-password-3c4d"


def sql(registry: Registry, statement: str, *params: Any) -> None:
    """Run SQL as an attacker with write access to the database would: own connection, no
    foreign-key checks, no Blocks code."""
    tamper(backing(registry).store.url, statement, *params)


def two_versions(registry: Registry, name: str = "db") -> None:
    registry.save(TestCreds(user="app", password=OLD), name)
    registry.save(TestCreds(user="app", password=NEW), name, overwrite=True)


def assert_integrity(action: Callable[[], Any], name: str = "test-creds/db") -> None:
    with pytest.raises(IntegrityError) as info:
        action()
    text = str(info.value)
    assert name in text and "altered outside Blocks" in text
    assert OLD not in text and NEW not in text


def test_pointer_rollback_is_refused(registry: Registry) -> None:
    two_versions(registry)
    sql(registry, "UPDATE block SET current_version = 1")
    assert_integrity(lambda: registry.load("test-creds/db"))
    assert_integrity(lambda: registry.history("test-creds/db"))
    assert_integrity(lambda: registry.save(TestCreds(user="x", password="y"), "db",
                                           overwrite=True))


def test_deleted_newer_versions_are_detected(registry: Registry) -> None:
    two_versions(registry)
    registry.save(TestCreds(user="app", password="third"), "db", overwrite=True)
    sql(registry, "DELETE FROM block_version WHERE version = 2")
    assert registry.load("test-creds/db").password.get_secret_value() == "third"
    assert_integrity(lambda: registry.history("test-creds/db"))
    assert_integrity(lambda: registry.load("test-creds/db", version=2))
    sql(registry, "DELETE FROM block_version WHERE version = 3")
    assert_integrity(lambda: registry.load("test-creds/db"))


def test_deleting_newest_and_moving_pointer_is_detected(registry: Registry) -> None:
    two_versions(registry)
    sql(registry, "DELETE FROM block_version WHERE version = 2")
    sql(registry, "UPDATE block SET current_version = 1, latest_version = 1")
    assert_integrity(lambda: registry.load("test-creds/db"))


def test_swapped_names_are_detected(registry: Registry) -> None:
    registry.save(TestCreds(user="a", password=OLD), "a")
    registry.save(TestCreds(user="b", password=NEW), "b")
    sql(registry, "UPDATE block SET name = 'tmp' WHERE name = 'a'")
    sql(registry, "UPDATE block SET name = 'a' WHERE name = 'b'")
    sql(registry, "UPDATE block SET name = 'b' WHERE name = 'tmp'")
    assert_integrity(lambda: registry.load("test-creds/a"), "test-creds/a")
    assert_integrity(lambda: registry.load("test-creds/b"), "test-creds/b")


def test_swapped_ids_are_detected(registry: Registry) -> None:
    a = registry.save(TestCreds(user="a", password=OLD), "a").block_id
    b = registry.save(TestCreds(user="b", password=NEW), "b").block_id
    sql(registry, "UPDATE block SET id = 'tmp' WHERE id = ?", a)
    sql(registry, "UPDATE block SET id = ? WHERE id = ?", a, b)
    sql(registry, "UPDATE block SET id = ? WHERE id = 'tmp'", b)
    assert_integrity(lambda: registry.load("test-creds/a"), "test-creds/a")
    assert_integrity(lambda: registry.load("test-creds/b"), "test-creds/b")


def test_head_without_mac_is_refused(registry: Registry) -> None:
    two_versions(registry)
    sql(registry, "UPDATE block SET head_mac = NULL")
    assert_integrity(lambda: registry.load("test-creds/db"))


def test_tampered_reference_target_head_is_refused(registry: Registry) -> None:
    registry.save(TestCreds(user="app", password=OLD), "db")
    registry.save(TestCreds(user="app", password=NEW), "db", overwrite=True)
    registry.save(TestService(url="u", creds=registry.load("test-creds/db")), "svc")
    sql(registry, "UPDATE block SET current_version = 1 WHERE name = 'db'")
    with pytest.raises(IntegrityError) as info:
        registry.load("test-service/svc")
    assert OLD not in str(info.value)


def test_rename_rollback_save_delete_keep_working(registry: Registry) -> None:
    two_versions(registry)
    registry.rename("test-creds/db", "db2")
    assert registry.load("test-creds/db2").password.get_secret_value() == NEW
    registry.rollback("test-creds/db2", 1)
    assert registry.load("test-creds/db2").password.get_secret_value() == OLD
    assert [v.version for v in registry.history("test-creds/db2")] == [1, 2, 3]
    registry.delete("test-creds/db2")
    with pytest.raises(BlockNotFound):
        registry.load("test-creds/db2")


@pytest.mark.local_only("_move_head is the local registry's internal (move_stages is the API)")
def test_move_head_compare_and_set(registry: Registry) -> None:
    two_versions(registry)
    head = registry._move_head("test-creds/db", current=1, stages={"current": 1, "pending": 2},
                               expected_latest=2)
    assert (head.current_version, head.latest_version) == (1, 2)
    assert head.stage_map() == {"current": 1, "pending": 2}
    assert registry.load("test-creds/db").password.get_secret_value() == OLD
    with pytest.raises(ConflictError):
        registry._move_head("test-creds/db", current=2, stages={"current": 2},
                            expected_latest=1)
    with pytest.raises(ValueError):
        registry._move_head("test-creds/db", current=2, stages={"current": 1},
                            expected_latest=2)
    registry._move_head("test-creds/db", current=2, stages={"current": 2, "previous": 1},
                        expected_latest=2)
    assert registry.load("test-creds/db").password.get_secret_value() == NEW
    assert registry.save(TestCreds(user="app", password="v3"), "db", overwrite=True).version == 3


def test_secret_type_loads_after_many_saves(registry: Registry) -> None:
    for i in range(3):
        Secret(value=f"v{i}").save("s", overwrite=True, registry=registry)
    assert Secret.load("s", registry=registry).get() == "v2"


def test_purge_refuses_a_moved_pointer(registry: Registry) -> None:
    two_versions(registry)
    sql(registry, "UPDATE block SET current_version = 1")
    # The real current version is 2: a moved pointer must not let purge shred it.
    assert_integrity(lambda: registry.purge("test-creds/db", 2))
    sql(registry, "UPDATE block SET current_version = 2")
    assert registry.load("test-creds/db").password.get_secret_value() == NEW
