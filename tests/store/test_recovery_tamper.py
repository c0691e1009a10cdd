"""The deletion schedule is sealed like heads: a database writer without the master key who
moves a shred date, or deletes or un-deletes a block by raw SQL, is refused where the schedule
is used (undo, gc, the listings, a save of the name, a load) and reported by ``blocks verify``.
Both databases (the ``registry`` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blocks import Registry, Secret
from blocks.errors import IntegrityError
from blocks.key_management import KeyManager
from blocks.store.recovery import tombstone
from blocks.verify import verify
from tests.store.tamper import tamper

VALUE = "deleted-secret-value-5c2e"
LATER = datetime.now(UTC) + timedelta(days=8)


def sql(registry: Registry, statement: str, *params: Any) -> None:
    tamper(registry.store.url, statement, *params)


def read(registry: Registry, statement: str, *params: Any) -> tuple[Any, ...]:
    conn = registry.store._reads.get()
    if registry.store.dialect == "postgresql":
        statement = statement.replace("?", "%s")
    return tuple(conn.execute(statement, params).fetchone())


def problems(registry: Registry) -> set[str]:
    return {p.kind for p in verify(registry).problems}


def uses(registry: Registry) -> list[tuple[str, Any]]:
    return [("deleted", registry.deleted), ("gc", lambda: registry.gc(now=LATER)),
            ("undo", lambda: registry.undelete("secret/api"))]


def deleted_block(registry: Registry) -> str:
    registry.save(Secret(value=VALUE), "api")
    block_id = registry.summary("secret/api").id
    registry.delete("secret/api")
    return block_id


@pytest.mark.parametrize("days", [-30, 30])
def test_a_moved_shred_date_is_refused_at_use_and_reported(registry: Registry, days: int) -> None:
    block_id = deleted_block(registry)
    moved = datetime.now(UTC) + timedelta(days=days)
    stamp = moved.replace(tzinfo=None).isoformat(sep=" ") if registry.store.dialect == "sqlite" \
        else moved
    sql(registry, "UPDATE block_deletion SET shred_after = ? WHERE block_id = ?", stamp, block_id)
    for _, use in uses(registry):
        with pytest.raises(IntegrityError, match=r"secret/api \(scheduled deletion\).*does not "
                                                 "authenticate") as info:
            use()
        assert VALUE not in str(info.value)
    assert "deletion" in problems(registry)
    with pytest.raises(IntegrityError):
        registry.save(Secret(value="x"), "api")  # the save that would bring it back refuses too
    assert read(registry, "SELECT COUNT(*) FROM block_version WHERE block_id = ?", block_id) == (1,)


def test_a_schedule_row_deleted_by_sql_is_refused_and_reported(registry: Registry) -> None:
    block_id = deleted_block(registry)
    sql(registry, "DELETE FROM block_deletion WHERE block_id = ?", block_id)
    for _, use in uses(registry)[:2]:
        with pytest.raises(IntegrityError, match=r"deletion schedule.*sealed census"):
            use()
    assert {"census", "deletion"} <= problems(registry)


def test_an_old_head_put_back_while_its_deletion_exists_is_refused_by_load(
    registry: Registry,
) -> None:
    registry.save(Secret(value=VALUE), "api")
    old = read(registry, "SELECT name, head_term, head_mac FROM block WHERE name = 'api'")
    block_id = registry.summary("secret/api").id
    registry.delete("secret/api")
    sql(registry, "UPDATE block SET name = ?, head_term = ?, head_mac = ? WHERE id = ?",
        *old, block_id)  # an un-delete by raw SQL: the head from before the delete
    for action in (lambda: registry.load("secret/api"),
                   lambda: registry.save(Secret(value="x"), "api", overwrite=True),
                   registry.deleted):
        with pytest.raises(IntegrityError, match="secret/api") as info:
            action()
        assert VALUE not in str(info.value)
    assert {"census", "deletion", "version"} <= problems(registry)


def test_an_old_head_put_back_with_its_deletion_removed_is_refused_by_the_schedule(
    registry: Registry,
) -> None:
    registry.save(Secret(value=VALUE), "api")
    old = read(registry, "SELECT name, head_term, head_mac FROM block WHERE name = 'api'")
    block_id = registry.summary("secret/api").id
    registry.delete("secret/api")
    sql(registry, "UPDATE block SET name = ?, head_term = ?, head_mac = ? WHERE id = ?",
        *old, block_id)
    sql(registry, "DELETE FROM block_deletion WHERE block_id = ?", block_id)
    for _, use in uses(registry)[:2]:
        with pytest.raises(IntegrityError, match="deletion schedule"):
            use()
    with pytest.raises(IntegrityError, match="deletion schedule"):
        registry.delete("secret/api")  # every delete with a window checks the schedule first
    assert "census" in problems(registry)


def test_a_delete_by_raw_sql_is_refused_and_reported(registry: Registry) -> None:
    registry.save(Secret(value=VALUE), "api")
    block_id = registry.summary("secret/api").id
    sql(registry, "UPDATE block SET name = ? WHERE id = ?", tombstone(block_id), block_id)
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    sql(registry, "INSERT INTO block_deletion (block_id, type_slug, name, deleted_at, "
                  "shred_after, mac_term, mac) VALUES (?, 'secret', 'api', ?, ?, 1, ?)",
        block_id, now, now, b"\x00" * 32)
    for _, use in uses(registry)[:2]:
        with pytest.raises(IntegrityError):
            use()
    assert read(registry, "SELECT COUNT(*) FROM block_version WHERE block_id = ?", block_id) == (1,)
    assert {"census", "deletion", "head"} <= problems(registry)


def test_an_old_deletion_put_back_after_an_undo_is_refused_and_reported(
    registry: Registry,
) -> None:
    block_id = deleted_block(registry)
    head = read(registry, "SELECT name, head_term, head_mac FROM block WHERE id = ?", block_id)
    row = read(registry, "SELECT block_id, type_slug, name, deleted_at, shred_after, mac_term, "
                         "mac FROM block_deletion WHERE block_id = ?", block_id)
    registry.undelete("secret/api")
    sql(registry, "UPDATE block SET name = ?, head_term = ?, head_mac = ? WHERE id = ?",
        *head, block_id)
    sql(registry, "INSERT INTO block_deletion (block_id, type_slug, name, deleted_at, "
                  "shred_after, mac_term, mac) VALUES (?, ?, ?, ?, ?, ?, ?)", *row)
    for _, use in uses(registry):
        with pytest.raises(IntegrityError, match=r"deletion schedule.*sealed census"):
            use()
    assert "census" in problems(registry)


def test_rewrap_and_retire_move_the_schedule_to_the_new_term(registry: Registry) -> None:
    deleted_block(registry)
    keys = KeyManager(registry)
    keys.rotate()
    keys.rewrap()
    keys.retire(1)
    assert read(registry, "SELECT mac_term FROM block_deletion") == (2,)
    assert [d.ref for d in registry.deleted()] == ["secret/api"]
    assert verify(registry).ok, verify(registry).problems
    registry.undelete("secret/api")
    assert registry.load("secret/api").get() == VALUE
