"""A database writer without the master key against references, old heads and whole blocks.

Each attack is raw SQL on the registry's database (``tests.store.tamper``); each is refused
where Blocks would act on it, or reported by ``blocks verify`` where nothing acts on it.
"""

from __future__ import annotations

from typing import Any

import pytest

from blocks import Registry, Secret
from blocks.errors import IntegrityError, ReferencedBlockError
from blocks.pools import WorkPool
from blocks.verify import verify
from tests.core.models import TestCreds, TestService
from tests.store.tamper import tamper

OLD = "old-leaked-pass-7c1d"
NEW = "new-pass-after-rotation-2e9f"
SECRET = "db-pass-only-v1-injects-4b8a"


def sql(registry: Registry, statement: str, *params: Any) -> None:
    tamper(registry.store.url, statement, *params)


def head_row(registry: Registry, name: str) -> tuple[Any, ...]:
    conn = registry.store._reads.get()
    sql_text = ("SELECT current_version, latest_version, stages, head_term, head_mac FROM block "
                "WHERE name = ?")
    if registry.store.dialect == "postgresql":
        sql_text = sql_text.replace("?", "%s")
    return tuple(conn.execute(sql_text, (name,)).fetchone())


def problems(registry: Registry) -> list[tuple[str, str, str]]:
    return [(p.kind, p.what, p.detail) for p in verify(registry).problems]


def test_old_head_put_back_while_newer_versions_exist_is_refused(registry: Registry) -> None:
    registry.save(TestCreds(user="app", password=OLD), "db")
    old_head = head_row(registry, "db")  # a backup, or a copy taken before the rotation
    registry.save(TestCreds(user="app", password=NEW), "db", overwrite=True)
    sql(registry, "UPDATE block SET current_version = ?, latest_version = ?, stages = ?, "
                  "head_term = ?, head_mac = ? WHERE name = 'db'", *old_head)

    for action in (lambda: registry.load("test-creds/db"),
                   lambda: registry.save(TestCreds(user="x", password="y"), "db",
                                         overwrite=True)):
        with pytest.raises(IntegrityError, match=r"test-creds/db.*beyond its sealed head") as info:
            action()
        assert OLD not in str(info.value) and NEW not in str(info.value)
    found = problems(registry)
    assert {p[0] for p in found} == {"version"} and "beyond its sealed head" in found[0][2]


def test_old_pool_head_put_back_is_refused_by_load_and_render_job(registry: Registry) -> None:
    Secret(value=SECRET).save("db-pass", registry=registry)
    pool = WorkPool(name="proc", type="process")
    pool.base_job_template["job_configuration"]["env"] = {"LOOT": "{{ blocks.secret.db-pass }}"}
    pool.save(registry=registry)
    conn = registry.store._reads.get()
    old_head = tuple(conn.execute("SELECT current_version, head_term, head_mac FROM work_pool")
                     .fetchone())
    current = WorkPool.load("proc", registry=registry)
    current.base_job_template["job_configuration"]["env"] = {}  # the secret is no longer sent
    current.save(registry=registry)
    sql(registry, "UPDATE work_pool SET current_version = ?, head_term = ?, head_mac = ?",
        *old_head)

    for action in (lambda: WorkPool.load("proc", registry=registry),
                   lambda: current.render_job({}, registry=registry),
                   lambda: current.save(registry=registry)):
        with pytest.raises(IntegrityError, match=r"work pool 'proc'.*beyond the sealed head"):
            action()
    assert any(p[0] == "pool-head" or "proc" in p[1] for p in problems(registry))


def service(registry: Registry) -> str:
    """``test-service/app`` referencing ``test-creds/db``; returns the referenced id."""
    creds = TestCreds(user="app", password=NEW)
    creds.save("db", registry=registry)
    TestService(url="https://app.example", creds=creds).save("app", registry=registry)
    return str(creds.block_id)


def test_deleted_reference_rows_do_not_let_a_referenced_block_be_deleted(
    registry: Registry,
) -> None:
    service(registry)
    sql(registry, "DELETE FROM block_ref")

    with pytest.raises(ReferencedBlockError, match=r"test-service/app \(field creds\)"):
        registry.delete("test-creds/db")
    assert registry.load("test-service/app").creds.password.get_secret_value() == NEW
    assert ("reference", "test-service/app",
            "its reference rows are not the references in its sealed document (deleted or "
            "changed outside Blocks?)") in problems(registry)


def test_inserted_or_retargeted_reference_row_is_refused(registry: Registry) -> None:
    target = service(registry)
    other = TestCreds(user="o", password="p")
    other.save("other", registry=registry)
    sql(registry, "UPDATE block_ref SET ref_block_id = ?", other.block_id)
    with pytest.raises(IntegrityError, match=r"reference from test-service/app \(field creds\)"):
        registry.delete("test-creds/other")
    sql(registry, "UPDATE block_ref SET ref_block_id = ?", target)
    sql(registry, "INSERT INTO block_ref (block_id, path, ref_block_id) VALUES (?, 'x', ?)",
        target, other.block_id)
    with pytest.raises(IntegrityError, match=r"reference from test-creds/db \(field x\)"):
        registry.delete("test-creds/other")
    kinds = [p[0] for p in problems(registry)]
    assert "reference-row" in kinds and "reference" in kinds


def test_whole_block_deleted_by_a_database_writer_is_reported_by_verify(
    registry: Registry,
) -> None:
    service(registry)
    registry.save(TestCreds(user="a", password="gone-pass-1"), "gone")
    registry.save(TestCreds(user="a", password="gone-pass-2"), "gone", overwrite=True)
    registry.rename("test-creds/gone", "gone2")
    registry.delete("test-service/app")
    assert verify(registry).ok  # honest creates, renames and deletes keep the census

    gone = registry.summary("test-creds/gone2").id
    for table, column in (("block_ref", "block_id"), ("block_version", "block_id"),
                          ("block", "id")):
        sql(registry, f"DELETE FROM {table} WHERE {column} = ?", gone)

    assert problems(registry) == [(
        "census", "the census of test-creds blocks",
        "2 blocks were recorded, 1 exist: some were deleted or put back outside Blocks",
    )]


def test_deleted_census_record_is_reported(registry: Registry) -> None:
    registry.save(TestCreds(user="a", password="p"), "one")
    sql(registry, "DELETE FROM sealed_census")
    found = problems(registry)
    assert ("census", "the census of mirrors", "its sealed record is missing") in found
    assert any(p[1] == "the census of test-creds blocks" and "no sealed record" in p[2]
               for p in found)


def test_rewrap_moves_reference_mirror_and_census_macs_so_the_old_term_retires(
    registry: Registry,
) -> None:
    from blocks.integrations.mirror_rows import write_rows
    from blocks.key_management import KeyManager

    target = service(registry)
    write_rows(registry, target, "prefect", [{"target_name": "db"}])  # sealed, never pushed
    keys = KeyManager(registry)
    old = registry.keyring.current_term
    keys.rotate()
    assert not keys.rewrap().failed
    keys.retire(old)  # refused while any MAC still uses the term
    assert verify(registry).ok, verify(registry).problems
    with pytest.raises(ReferencedBlockError):
        registry.delete("test-creds/db")
