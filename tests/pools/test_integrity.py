"""Pool and queue documents are authenticated: direct-SQL edits end in one IntegrityError."""

from __future__ import annotations

import json

import pytest

from blocks import Registry, Secret
from blocks.errors import IntegrityError
from blocks.pools import WorkPool
from tests.registry_fixtures import backing
from tests.store.tamper import tamper

pytestmark = pytest.mark.over_http  # the registry fixture runs through a blocks server too

SECRET = "db-pass-never-rendered-5a6b"


def exfiltrating(document: str) -> str:
    """The attacker's edit: another image and the secret in the env."""
    doc = json.loads(document)
    job = doc["base_job_template"]["job_configuration"]
    job["env"] = {"LOOT": "{{ blocks.secret.db-pass }}"}
    doc["description"] = "evil.example/exfil"
    return json.dumps(doc)


def read_document(registry: Registry) -> str:
    conn = backing(registry).store._reads.get()
    return str(conn.execute("SELECT document FROM work_pool_version").fetchone()[0])


def assert_integrity(action: object, what: str) -> None:
    with pytest.raises(IntegrityError) as info:
        action()  # type: ignore[operator]
    assert what in str(info.value) and "altered outside Blocks" in str(info.value)
    assert SECRET not in str(info.value)


def test_edited_pool_document_is_refused_by_load_and_render(registry: Registry) -> None:
    Secret(value=SECRET).save("db-pass", registry=registry)
    WorkPool(name="proc", type="process").save(registry=registry)
    loaded = WorkPool.load("proc", registry=registry)
    tamper(backing(registry).store.url, "UPDATE work_pool_version SET document = ?",
           exfiltrating(read_document(registry)))

    assert_integrity(lambda: WorkPool.load("proc", registry=registry), "work pool 'proc'")
    assert_integrity(lambda: loaded.render_job({}, registry=registry), "work pool 'proc'")
    assert_integrity(lambda: WorkPool.history("proc", registry=registry), "work pool 'proc'")
    assert_integrity(lambda: WorkPool.list_pools(registry=registry), "work pool 'proc'")


def test_pool_pointer_rollback_and_swapped_names_are_refused(registry: Registry) -> None:
    pool = WorkPool(name="a", type="process", description="one").save(registry=registry)
    pool.description = "two"
    pool.save(registry=registry)
    WorkPool(name="b", type="process").save(registry=registry)
    tamper(backing(registry).store.url, "UPDATE work_pool SET current_version = 1 WHERE name = 'a'")
    assert_integrity(lambda: WorkPool.load("a", registry=registry), "work pool 'a'")
    tamper(backing(registry).store.url, "UPDATE work_pool SET current_version = 2 WHERE name = 'a'")
    assert WorkPool.load("a", registry=registry).description == "two"
    tamper(backing(registry).store.url, "UPDATE work_pool SET name = 'tmp' WHERE name = 'a'")
    tamper(backing(registry).store.url, "UPDATE work_pool SET name = 'a' WHERE name = 'b'")
    tamper(backing(registry).store.url, "UPDATE work_pool SET name = 'b' WHERE name = 'tmp'")
    assert_integrity(lambda: WorkPool.load("a", registry=registry), "work pool 'a'")


def test_edited_queue_is_refused(registry: Registry) -> None:
    pool = WorkPool(name="proc", type="process").save(registry=registry)
    pool.create_queue("critical", priority=2, registry=registry)
    tamper(backing(registry).store.url,
           "UPDATE work_queue SET is_paused = ? WHERE name = 'critical'", True)
    assert_integrity(lambda: pool.queue("critical", registry=registry), "queue 'critical'")
    assert_integrity(lambda: pool.render_job({}, queue="critical", registry=registry),
                     "queue 'critical'")
    queue = pool.queue("default", registry=registry)
    queue.description = "still fine"
    assert queue.save(registry=registry).version == 2


def test_pool_rename_and_updates_keep_authenticating(registry: Registry) -> None:
    pool = WorkPool(name="proc", type="process").save(registry=registry)
    pool.description = "v2"
    pool.save(registry=registry)
    pool.queue("default", registry=registry).pause(registry=registry)
    renamed = WorkPool.rename("proc", "proc-2", registry=registry)
    assert [p.version for p in WorkPool.history("proc-2", registry=registry)] == [1, 2]
    assert renamed.queue("default").is_paused
    assert renamed.render_job({}).configuration is not None
