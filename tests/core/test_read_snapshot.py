"""A read that checks one row against another sees them as of one moment: a save committed by
another process between its two reads never makes an intact block look altered."""

from __future__ import annotations

from typing import Any

import pytest

from blocks import Registry, Secret, Settings


def test_history_read_while_another_process_saves_is_not_an_integrity_error(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    Secret(value="v1").save("raced", registry=registry)
    # Another registry object: its own connection, as another process (the CLI, a replica).
    other = Registry(Settings(home=registry.settings.home,
                              database_url=registry.settings.database_url))
    read_versions = registry.store.history
    saved: list[int] = []

    def versions_then_a_save_elsewhere(slug: str, name: str) -> Any:
        found = read_versions(slug, name)
        if not saved:  # right after the versions are read, before the head is
            saved.append(Secret(value="v2").save("raced", overwrite=True, registry=other).version)
        return found

    monkeypatch.setattr(registry.store, "history", versions_then_a_save_elsewhere)
    try:
        versions = registry.history("secret/raced")
    finally:
        other.close()
    assert saved == [2]
    assert [v.version for v in versions] == [1]  # as of the moment the read began
    monkeypatch.undo()
    assert [v.version for v in registry.history("secret/raced")] == [1, 2]
    assert registry.verify().ok


@pytest.mark.postgres
def test_deleted_blocks_listed_while_another_process_deletes_one_on_postgres(
    pg_registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL only: on SQLite the listing's transaction holds the write lock, so no other
    process can delete in between (on PostgreSQL the deletion schedule's rows were read before
    its census was locked)."""
    from blocks.store import census

    registry = pg_registry
    Secret(value="a").save("first", registry=registry)
    Secret(value="b").save("second", registry=registry)
    registry.delete("secret/first")
    other = Registry(Settings(home=registry.settings.home,
                              database_url=registry.settings.database_url))
    read_census = census.read
    ran: list[bool] = []

    def a_deletion_commits_first(*args: Any, **kwargs: Any) -> Any:
        if not ran and args[2] == "deleted" and kwargs.get("lock"):
            ran.append(True)
            with monkeypatch.context() as inner:
                inner.setattr(census, "read", read_census)
                other.delete("secret/second")
        return read_census(*args, **kwargs)

    monkeypatch.setattr(census, "read", a_deletion_commits_first)
    try:
        listed = registry.deleted()
    finally:
        other.close()
    assert ran
    assert {d.name for d in listed} <= {"first", "second"}
    assert "first" in {d.name for d in listed}
    monkeypatch.undo()
    assert {d.name for d in registry.deleted()} == {"first", "second"}


def test_verify_while_another_process_saves_and_creates_reports_nothing(registry: Registry) -> None:
    """``blocks verify`` compares heads with versions and censuses with rows, each within one
    read transaction: on PostgreSQL that transaction must see one moment too."""
    from sqlalchemy import event

    Secret(value="v1").save("raced", registry=registry)
    other = Registry(Settings(home=registry.settings.home,
                              database_url=registry.settings.database_url))
    engine = registry.store.engine
    ran: list[str] = []

    def a_save_commits_meanwhile(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM block ORDER BY" in statement and not ran:
            ran.append(statement)
            Secret(value="v2").save("raced", overwrite=True, registry=other)
            Secret(value="new").save("created-meanwhile", registry=other)

    event.listen(engine, "after_cursor_execute", a_save_commits_meanwhile)
    try:
        report = registry.verify()
    finally:
        event.remove(engine, "after_cursor_execute", a_save_commits_meanwhile)
        other.close()
    assert ran
    assert report.ok, report.problems
    assert registry.verify().ok


def test_mirror_rows_read_while_another_process_adds_a_mirror(registry: Registry) -> None:
    from sqlalchemy import event

    from blocks.integrations import mirror_rows

    Secret(value="a").save("mirrored", registry=registry)
    Secret(value="b").save("mirrored-too", registry=registry)
    mine, theirs = (registry.summary(f"secret/{n}").id for n in ("mirrored", "mirrored-too"))
    mirror_rows.write_rows(registry, mine, "prefect", [{"target_name": "mirrored"}])
    other = Registry(Settings(home=registry.settings.home,
                              database_url=registry.settings.database_url))
    engine = registry.store.engine
    ran: list[str] = []

    def a_mirror_added_meanwhile(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM sealed_census" in statement and not ran:
            ran.append(statement)
            mirror_rows.write_rows(other, theirs, "prefect", [{"target_name": "too"}])

    event.listen(engine, "after_cursor_execute", a_mirror_added_meanwhile)
    try:
        rows = mirror_rows.rows(registry, mine)
    finally:
        event.remove(engine, "after_cursor_execute", a_mirror_added_meanwhile)
        other.close()
    assert ran
    assert [r["target_name"] for r in rows] == ["mirrored"]
    assert [r["target_name"] for r in mirror_rows.rows(registry, theirs)] == ["too"]


def _verify_with(registry: Registry, needle: str, meanwhile: Any) -> Any:
    """``registry.verify()`` with ``meanwhile(other)`` committed by another process right
    after the first statement holding ``needle``."""
    from sqlalchemy import event

    other = Registry(Settings(home=registry.settings.home,
                              database_url=registry.settings.database_url))
    engine = registry.store.engine
    ran: list[str] = []

    def commit_meanwhile(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if needle in statement and not ran:
            ran.append(statement)
            meanwhile(other)

    event.listen(engine, "after_cursor_execute", commit_meanwhile)
    try:
        report = registry.verify()
    finally:
        event.remove(engine, "after_cursor_execute", commit_meanwhile)
        other.close()
    assert ran
    return report


def test_verify_while_another_process_deletes_a_block_reports_nothing(
    registry: Registry
) -> None:
    Secret(value="a").save("kept", registry=registry)
    Secret(value="b").save("going", registry=registry)
    Secret(value="c").save("going-too", registry=registry)
    for needle, name in (("SELECT name, members, digest FROM sealed_census", "going"),
                         ("FROM block_version ORDER BY", "going-too")):
        report = _verify_with(registry, needle, lambda other, n=name: other.delete(f"secret/{n}"))
        assert report.ok, (needle, report.problems)
    assert registry.verify().ok


def test_verify_while_another_process_repoints_a_reference_reports_nothing(
    registry: Registry
) -> None:
    from tests.core.models import TestCreds, TestService

    for name in ("one", "two"):
        registry.save(TestCreds(user=name, password="pw", blob=b"", headers={}), name)
    registry.save(TestService(url="u", creds=registry.load("test-creds/one")), "api")

    def repoint(other: Registry) -> None:
        other.save(TestService(url="u", creds=other.load("test-creds/two")), "api",
                   overwrite=True)

    report = _verify_with(registry, "SELECT block_id, path, ref_block_id FROM block_ref", repoint)
    assert report.ok, report.problems
    assert registry.verify().ok


def test_verify_while_another_process_rotates_reports_nothing(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from blocks.rotation_types.policy import RotationPolicy
    from blocks.store import chain

    Secret(value="r").save("rotated", registry=registry)
    registry.rotation().set_policy("secret/rotated", RotationPolicy(
        rotator="generated", interval="1d", options={"length": 24}))
    walk = chain.walk
    ran: list[bool] = []

    def a_rotation_commits_after_the_walk(*args: Any, **kwargs: Any) -> Any:
        found = walk(*args, **kwargs)
        if not ran and kwargs.get("keep") is not None:
            ran.append(True)
            with monkeypatch.context() as inner:
                inner.setattr(chain, "walk", walk)
                other.rotation().rotate("secret/rotated", force=True)
        return found

    other = Registry(Settings(home=registry.settings.home,
                              database_url=registry.settings.database_url))
    monkeypatch.setattr(chain, "walk", a_rotation_commits_after_the_walk)
    try:
        report = registry.verify()
    finally:
        other.close()
    assert ran
    assert report.ok, report.problems
    monkeypatch.undo()
    assert registry.verify().ok


@pytest.mark.postgres
def test_deleted_blocks_listed_while_the_first_deletion_commits_on_postgres(
    pg_registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deletion schedule's census row is made by the first deletion: a listing that found
    none locked nothing, and the first deletion may commit before it reads the rows."""
    from blocks.store import census

    registry = pg_registry
    Secret(value="a").save("first", registry=registry)
    other = Registry(Settings(home=registry.settings.home,
                              database_url=registry.settings.database_url))
    read_census = census.read
    ran: list[bool] = []

    def the_first_deletion_commits_after(*args: Any, **kwargs: Any) -> Any:
        found = read_census(*args, **kwargs)
        if not ran and args[2] == "deleted" and kwargs.get("lock"):
            ran.append(True)
            with monkeypatch.context() as inner:
                inner.setattr(census, "read", read_census)
                other.delete("secret/first")
        return found

    monkeypatch.setattr(census, "read", the_first_deletion_commits_after)
    try:
        listed = registry.deleted()
    finally:
        other.close()
    assert ran
    assert [d.name for d in listed] == ["first"]
