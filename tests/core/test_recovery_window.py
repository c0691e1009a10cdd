"""The recovery window of deletes: rm schedules, undo and a save of the name bring the block
back (same id, history kept), gc shreds what is due; dependent code follows (references,
pools, rotation policies). Both databases (the ``registry`` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from blocks import Registry, Secret, Settings
from blocks.errors import (
    BlockNotFound,
    ConflictError,
    InvalidArgument,
    ReferencedBlockError,
    ValidationError,
)
from blocks.pools import WorkPool
from blocks.rotation import Rotation, RotationPolicy, get_rotation
from blocks.store.engine import read_only
from blocks.verify import verify
from tests.core.models import TestCreds, TestService
from tests.registry_fixtures import backing

LATER = timedelta(days=7, minutes=1)


def creds(password: str = "pw-1") -> TestCreds:
    return TestCreds(user="bob", password=password, blob=b"\x00", headers={"a": "b"})


def rows(registry: Registry, block_id: str) -> int:
    with read_only(registry.store.engine).connect() as conn:
        return int(conn.exec_driver_sql(
            "SELECT COUNT(*) FROM block_version WHERE block_id = ?"
            if registry.store.dialect == "sqlite" else
            "SELECT COUNT(*) FROM block_version WHERE block_id = %(i)s",
            (block_id,) if registry.store.dialect == "sqlite" else {"i": block_id},
        ).scalar_one())


def test_a_deleted_block_leaves_loads_lists_and_references_at_once(registry: Registry) -> None:
    registry.save(Secret(value="one"), "api")
    block_id = registry.summary("secret/api").id
    before = datetime.now(UTC)
    registry.delete("secret/api")
    with pytest.raises(BlockNotFound, match=r"secret/api; it was deleted and is shredded after "
                                            r".*'blocks rm --undo secret/api' brings it back"):
        registry.load("secret/api")
    with pytest.raises(BlockNotFound, match="blocks rm --undo"):
        registry.summary("secret/api")
    with pytest.raises(BlockNotFound):
        registry.history("secret/api")
    assert registry.list() == [] and registry.list("secret") == []
    assert registry.store.get_current_by_id(block_id) is None  # references by id: gone too
    [deleted] = registry.deleted()
    assert (deleted.ref, deleted.id) == ("secret/api", block_id)
    assert before <= deleted.deleted_at and deleted.shred_after - deleted.deleted_at == \
        timedelta(days=7)
    assert rows(registry, block_id) == 1  # kept for an undo
    assert verify(registry).ok, verify(registry).problems


@pytest.mark.over_http
def test_undo_brings_back_the_same_block_with_its_history_and_stages(registry: Registry) -> None:
    registry.save(Secret(value="one"), "api")
    registry.save(Secret(value="two"), "api", overwrite=True)
    block_id = registry.summary("secret/api").id
    registry.delete("secret/api")
    back = registry.undelete("secret/api")
    assert (back.id, back.current_version) == (block_id, 2)
    assert registry.load("secret/api").get() == "two"
    assert [v.version for v in registry.history("secret/api")] == [1, 2]
    assert registry.stages("secret/api") == {"current": 2, "previous": 1}
    assert registry.deleted() == []
    with pytest.raises(BlockNotFound, match="no deleted block secret/api in its recovery window"):
        registry.undelete("secret/api")
    assert verify(backing(registry)).ok


@pytest.mark.over_http
@pytest.mark.parametrize("expected_version", [None, 0])
def test_saving_the_name_of_a_deleted_block_brings_it_back_as_a_new_version(
    registry: Registry, expected_version: int | None
) -> None:
    registry.save(Secret(value="one"), "api")
    block_id = registry.summary("secret/api").id
    registry.delete("secret/api")
    saved = registry.save(Secret(value="again"), "api", expected_version=expected_version)
    assert (saved.block_id, saved.version) == (block_id, 2)
    assert [v.version for v in registry.history("secret/api")] == [1, 2]
    assert registry.load("secret/api", version=1).get() == "one"
    assert registry.deleted() == []
    assert verify(backing(registry)).ok


def test_gc_shreds_only_what_is_due(registry: Registry) -> None:
    registry.save(Secret(value="soon"), "soon")
    registry.save(Secret(value="late"), "late")
    soon, late = (registry.summary(f"secret/{n}").id for n in ("soon", "late"))
    registry.delete("secret/soon", recovery_window="1h")
    registry.delete("secret/late", recovery_window=30)
    assert registry.gc().shredded == []
    result = registry.gc(now=datetime.now(UTC) + timedelta(hours=2))
    assert [d.ref for d in result.shredded] == ["secret/soon"] and result.waiting == []
    assert rows(registry, soon) == 0 and rows(registry, late) == 1
    assert [d.ref for d in registry.deleted()] == ["secret/late"]
    with pytest.raises(BlockNotFound, match="a shredded block cannot be brought back"):
        registry.undelete("secret/soon")
    registry.save(Secret(value="new"), "soon")
    assert registry.summary("secret/soon").id != soon  # shredded: a new block
    assert verify(registry).ok


def test_a_zero_window_shreds_at_once_and_now_shreds_a_waiting_block(registry: Registry) -> None:
    registry.save(Secret(value="one"), "a")
    registry.save(Secret(value="two"), "b")
    b_id = registry.summary("secret/b").id
    registry.delete("secret/a", recovery_window=0)
    assert registry.deleted() == []
    registry.delete("secret/b")
    with pytest.raises(BlockNotFound, match="it was deleted and is shredded after"):
        registry.delete("secret/b")  # already waiting: a second delete says so
    registry.delete("secret/b", recovery_window=timedelta(0))  # rm --now of a waiting block
    assert registry.deleted() == [] and rows(registry, b_id) == 0
    with pytest.raises(BlockNotFound):
        registry.delete("secret/b", recovery_window=0)
    assert verify(registry).ok


@pytest.mark.over_http
@pytest.mark.parametrize("window", ["31d", "-1d", "7 days", "soon", -1, 1.5])
def test_a_bad_window_is_refused_naming_the_forms(registry: Registry, window: object) -> None:
    registry.save(Secret(value="one"), "a")
    with pytest.raises(InvalidArgument, match=r"invalid recovery window .*: use 0 \(shred at "
                                              r"once\) up to 30d"):
        registry.delete("secret/a", recovery_window=window)  # type: ignore[arg-type]
    assert registry.load("secret/a").get() == "one"


def test_the_setting_sets_the_default_window(blocks_home: object) -> None:
    reg = Registry(Settings(home=blocks_home, recovery_window="0"))  # type: ignore[arg-type]
    try:
        reg.save(Secret(value="one"), "a")
        reg.delete("secret/a")
        assert reg.deleted() == []
        reg.save(Secret(value="one"), "b")
        reg.delete("secret/b", recovery_window="2d")
        [d] = reg.deleted()
        assert d.shred_after - d.deleted_at == timedelta(days=2)
    finally:
        reg.close()


@pytest.mark.over_http
def test_a_referenced_block_stays_undeletable_while_a_live_block_references_it(
    registry: Registry,
) -> None:
    registry.save(creds(), "prod")
    registry.save(TestService(url="u", creds=registry.load("test-creds/prod")), "api")
    with pytest.raises(ReferencedBlockError, match="test-service/api"):
        registry.delete("test-creds/prod")
    assert registry.deleted() == []


def test_a_deleted_referrer_lets_its_target_be_deleted_and_gc_shreds_in_order(
    registry: Registry,
) -> None:
    registry.save(creds(), "prod")
    registry.save(TestService(url="u", creds=registry.load("test-creds/prod")), "api")
    registry.delete("test-service/api")  # as terraform destroy: the referrer first
    with pytest.raises(ReferencedBlockError, match=r"test-service/api \(field creds\), deleted "
                                                   r"and in its recovery window"):
        registry.delete("test-creds/prod", recovery_window=0)
    registry.delete("test-creds/prod")
    with pytest.raises(ConflictError, match=r"cannot bring back test-service/api: it references "
                                            r"test-creds/prod .*deleted too.*--undo"):
        registry.undelete("test-service/api")
    registry.undelete("test-creds/prod")
    registry.undelete("test-service/api")
    assert registry.load("test-service/api").creds.password.get_secret_value() == "pw-1"
    registry.delete("test-service/api")
    registry.delete("test-creds/prod", recovery_window="1h")  # due before its referrer
    result = registry.gc(now=datetime.now(UTC) + timedelta(hours=2))
    assert result.shredded == [] and [d.ref for d, _ in result.waiting] == ["test-creds/prod"]
    result = registry.gc(now=datetime.now(UTC) + LATER)
    assert [d.ref for d in result.shredded] == ["test-service/api", "test-creds/prod"]
    assert registry.deleted() == [] and verify(registry).ok


@pytest.mark.over_http
def test_a_pool_naming_a_deleted_block_fails_to_resolve_it_until_undo(registry: Registry) -> None:
    registry.save(Secret(value="tok-value"), "tok")
    pool = WorkPool(name="etl", type="process").save(registry=registry)  # type: ignore[arg-type]
    job = {"env": {"TOKEN": "{{ blocks.secret.tok }}"}}
    assert pool.render_job(job, registry=registry).configuration["env"]["TOKEN"] == "tok-value"
    registry.delete("secret/tok")
    with pytest.raises(ValidationError, match="names block secret/tok, which does not exist"):
        pool.render_job(job, registry=registry)  # as after a delete without a window
    registry.undelete("secret/tok")
    assert pool.render_job(job, registry=registry).configuration["env"]["TOKEN"] == "tok-value"


def test_a_rotation_policy_waits_with_its_block_and_comes_back_with_it(
    registry: Registry,
) -> None:
    secret = Secret(value="first-value-0123456789")
    secret.rotation = RotationPolicy(rotator="generated", interval="1s", options={"length": 40})
    secret.save("tok", registry=registry)
    rotation = Rotation(registry, clock=lambda: datetime.now(UTC) + timedelta(days=1))
    assert rotation.due() == ["secret/tok"]
    registry.delete("secret/tok")
    assert rotation.due() == [] and rotation.rotate_due() == []
    assert verify(registry).ok
    registry.undelete("secret/tok")
    assert get_rotation("secret/tok", registry=registry) is not None
    assert rotation.due() == ["secret/tok"]
    registry.delete("secret/tok")
    registry.gc(now=datetime.now(UTC) + LATER)
    with pytest.raises(BlockNotFound):
        get_rotation("secret/tok", registry=registry)
    assert verify(registry).ok


def test_the_name_of_a_deleted_block_stays_reserved_for_its_undo(registry: Registry) -> None:
    registry.save(Secret(value="one"), "api")
    registry.save(Secret(value="two"), "other")
    registry.delete("secret/api")
    with pytest.raises(ConflictError, match=r"cannot rename secret/other to api: secret/api is "
                                            r"a deleted block shredded after .*'blocks rm "
                                            r"--undo secret/api' brings it back, or shred it "
                                            r"first \('blocks rm --now secret/api'\)"):
        registry.rename("secret/other", "api")
    registry.delete("secret/api", recovery_window=0)
    assert registry.rename("secret/other", "api").name == "api"
