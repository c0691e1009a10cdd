"""A read that checks one row against another sees them as of one moment: a save committed by
another process between its two reads never makes an intact block look altered."""

from __future__ import annotations

from typing import Any

import pytest

from blocks import Registry, Secret
from tests.concurrency import interleaved, meanwhile


def test_history_read_while_another_process_saves_is_not_an_integrity_error(
    registry: Registry
) -> None:
    Secret(value="v1").save("raced", registry=registry)
    saved: list[int] = []

    def save_elsewhere(other: Registry) -> None:  # right after the versions are read
        saved.append(Secret(value="v2").save("raced", overwrite=True, registry=other).version)

    with interleaved(registry, registry.store, "history", lambda *a, **k: True, save_elsewhere,
                     after=True):
        versions = registry.history("secret/raced")
    assert saved == [2]
    assert [v.version for v in versions] == [1]  # as of the moment the read began
    assert [v.version for v in registry.history("secret/raced")] == [1, 2]
    assert registry.verify().ok


@pytest.mark.postgres
def test_deleted_blocks_listed_while_another_process_deletes_one_on_postgres(
    pg_registry: Registry
) -> None:
    """PostgreSQL only: on SQLite the listing's transaction holds the write lock, so no other
    process can delete in between (on PostgreSQL the deletion schedule's rows were read before
    its census was locked)."""
    from blocks.store import census

    registry = pg_registry
    Secret(value="a").save("first", registry=registry)
    Secret(value="b").save("second", registry=registry)
    registry.delete("secret/first")
    with interleaved(registry, census, "read",
                     lambda *a, **k: a[2] == "deleted" and bool(k.get("lock")),
                     lambda other: other.delete("secret/second"), after=False) as ran:
        listed = registry.deleted()
    assert ran
    assert {d.name for d in listed} == {"first", "second"}


def test_verify_while_another_process_saves_and_creates_reports_nothing(registry: Registry) -> None:
    """``blocks verify`` compares heads with versions and censuses with rows, each within one
    read transaction: on PostgreSQL that transaction must see one moment too."""
    Secret(value="v1").save("raced", registry=registry)

    def save_and_create(other: Registry) -> None:
        Secret(value="v2").save("raced", overwrite=True, registry=other)
        Secret(value="new").save("created-meanwhile", registry=other)

    report = meanwhile(registry, "FROM block ORDER BY", save_and_create, registry.verify)
    assert report.ok, report.problems
    assert registry.verify().ok


def test_mirror_rows_read_while_another_process_adds_a_mirror(registry: Registry) -> None:
    from blocks.integrations import mirror_rows

    Secret(value="a").save("mirrored", registry=registry)
    Secret(value="b").save("mirrored-too", registry=registry)
    mine, theirs = (registry.summary(f"secret/{n}").id for n in ("mirrored", "mirrored-too"))
    mirror_rows.write_rows(registry, mine, "prefect", [{"target_name": "mirrored"}])
    rows = meanwhile(
        registry, "FROM sealed_census",
        lambda other: mirror_rows.write_rows(other, theirs, "prefect", [{"target_name": "too"}]),
        lambda: mirror_rows.rows(registry, mine))
    assert [r["target_name"] for r in rows] == ["mirrored"]
    assert [r["target_name"] for r in mirror_rows.rows(registry, theirs)] == ["too"]


def test_verify_while_another_process_deletes_a_block_reports_nothing(
    registry: Registry
) -> None:
    Secret(value="a").save("kept", registry=registry)
    Secret(value="b").save("going", registry=registry)
    Secret(value="c").save("going-too", registry=registry)
    for needle, name in (("SELECT name, members, digest FROM sealed_census", "going"),
                         ("FROM block_version ORDER BY", "going-too")):
        report = meanwhile(registry, needle, lambda other, n=name: other.delete(f"secret/{n}"),
                           registry.verify)
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

    report = meanwhile(registry, "SELECT block_id, path, ref_block_id FROM block_ref",
                       repoint, registry.verify)
    assert report.ok, report.problems
    assert registry.verify().ok


def test_verify_while_another_process_rotates_reports_nothing(registry: Registry) -> None:
    from blocks.rotation_types.policy import RotationPolicy
    from blocks.store import chain

    Secret(value="r").save("rotated", registry=registry)
    registry.rotation().set_policy("secret/rotated", RotationPolicy(
        rotator="generated", interval="1d", options={"length": 24}))
    with interleaved(registry, chain, "walk", lambda *a, **k: k.get("keep") is not None,
                     lambda other: other.rotation().rotate("secret/rotated", force=True),
                     after=True) as ran:
        report = registry.verify()
    assert ran
    assert report.ok, report.problems
    assert registry.verify().ok


@pytest.mark.postgres
def test_deleted_blocks_listed_while_the_first_deletion_commits_on_postgres(
    pg_registry: Registry
) -> None:
    """The deletion schedule's census row is made by the first deletion: a listing that found
    none locked nothing, and the first deletion may commit before it reads the rows."""
    from blocks.store import census

    registry = pg_registry
    Secret(value="a").save("first", registry=registry)
    with interleaved(registry, census, "read",
                     lambda *a, **k: a[2] == "deleted" and bool(k.get("lock")),
                     lambda other: other.delete("secret/first"), after=True) as ran:
        listed = registry.deleted()
    assert ran
    assert [d.name for d in listed] == ["first"]


def test_a_policy_set_elsewhere_just_as_a_rotation_takes_its_lease(registry: Registry) -> None:
    """The lease's row and the block's newest rotation event are read in one transaction: a
    policy set by another process right after the lease was taken is not "put back from a
    copy" (the rotation goes on with the row it leased)."""
    from blocks.rotation import records
    from blocks.rotation_types.policy import RotationPolicy

    Secret(value="r").save("leased", registry=registry)
    registry.rotation().set_policy("secret/leased", RotationPolicy(
        rotator="generated", interval="1d", options={"length": 24}))
    before = registry.load("secret/leased").value.get_secret_value()  # type: ignore[attr-defined]
    wider = RotationPolicy(rotator="generated", interval="2d", options={"length": 32})
    acquire = records.RotationStore.acquire

    def leased(self: Any, *args: Any, **kwargs: Any) -> Any:
        def then_a_policy_elsewhere(*a: Any, **k: Any) -> bool:
            return True

        with interleaved(registry, records, "_check", then_a_policy_elsewhere,
                         lambda other: other.rotation().set_policy("secret/leased", wider),
                         after=True) as ran:
            found = acquire(self, *args, **kwargs)
        assert ran
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(records.RotationStore, "acquire", leased)
        registry.rotation().rotate("secret/leased", force=True)
    assert registry.load("secret/leased").value.get_secret_value() != before  # type: ignore[attr-defined]
    assert registry.verify().ok
