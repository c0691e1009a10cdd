"""A database writer without the master key against the mirror rows, with a real Prefect server:
an inserted row copies nothing, a retargeted row overwrites nothing, a deleted row does not let
``blocks rm`` leave the copy behind silently. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from blocks import Registry, Secret, Settings
from blocks.errors import IntegrityError
from blocks.integrations.mirrors import push_stale
from blocks.integrations.prefect import PrefectClient
from blocks.integrations.prefect.documents import read_document
from blocks.verify import verify
from tests.servers import Server
from tests.store.tamper import tamper

VALUE = "mirror-guarded-cred-8d4e"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def mirrored(
    request: pytest.FixtureRequest, blocks_home: Path, prefect_server: Server,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Registry, str]]:
    """A registry on each database whose bridge points at the session's Prefect server, and
    a per-database prefix for the fixed names on that shared server."""
    monkeypatch.setenv("BLOCKS_PREFECT_API_URL", prefect_server.url)
    settings = Settings(home=blocks_home)
    if request.param == "postgres":
        settings = Settings(home=blocks_home, database_url=request.getfixturevalue("pg_url"))
    reg = Registry(settings)
    yield reg, f"mi-{request.param}"
    reg.close()


def refused(action: object, what: str) -> None:
    with pytest.raises(IntegrityError) as info:
        action()  # type: ignore[operator]
    assert what in str(info.value) and VALUE not in str(info.value)


def test_inserted_mirror_row_copies_nothing_to_prefect(
    mirrored: tuple[Registry, str], prefect: PrefectClient
) -> None:
    reg, prefix = mirrored
    Secret(value=VALUE).save(f"{prefix}-key", registry=reg)
    block_id = reg.summary(f"secret/{prefix}-key").id
    tamper(reg.store.url, "INSERT INTO block_mirror (block_id, target, target_name) "
                          "VALUES (?, 'prefect', ?)", block_id, f"{prefix}-loot")

    refused(lambda: Secret(value=VALUE + "-2").save(f"{prefix}-key", overwrite=True,
                                                    registry=reg), "the mirror records")
    refused(lambda: push_stale(reg), "the mirror records")
    reg.save(Secret(value=VALUE + "-3"), f"{prefix}-key", stage="pending", overwrite=True)
    refused(lambda: reg.move_stages(f"secret/{prefix}-key", expected_current=2, current=3,
                                    previous=2, pending=None), "the mirror records")  # rotation
    assert read_document(prefect, "secret", f"{prefix}-loot") is None
    assert {p.kind for p in verify(reg).problems} == {"mirror", "census"}


def test_retargeted_mirror_row_does_not_overwrite_another_prefect_block(
    mirrored: tuple[Registry, str], prefect: PrefectClient
) -> None:
    reg, prefix = mirrored
    Secret(value="victim-value").save(f"{prefix}-victim", registry=reg, mirror_to_prefect=True)
    Secret(value=VALUE).save(f"{prefix}-mine", registry=reg, mirror_to_prefect=True)
    mine = reg.summary(f"secret/{prefix}-mine").id
    tamper(reg.store.url, "UPDATE block_mirror SET target_name = ? WHERE block_id = ?",
           f"{prefix}-victim", mine)

    refused(lambda: Secret(value=VALUE + "-2").save(f"{prefix}-mine", overwrite=True,
                                                    registry=reg), "the mirror records")
    assert read_document(prefect, "secret", f"{prefix}-victim")["data"] == {
        "value": "victim-value"}
    assert {p.kind for p in verify(reg).problems} == {"mirror", "census"}


def test_deleted_mirror_row_stops_blocks_rm_from_leaving_the_copy_behind(
    mirrored: tuple[Registry, str], prefect: PrefectClient
) -> None:
    reg, prefix = mirrored
    Secret(value=VALUE).save(f"{prefix}-gone", registry=reg, mirror_to_prefect=True)
    tamper(reg.store.url, "DELETE FROM block_mirror")

    refused(lambda: reg.delete(f"secret/{prefix}-gone"), "the mirror records")
    assert reg.summary(f"secret/{prefix}-gone").current_version == 1  # nothing deleted
    assert read_document(prefect, "secret", f"{prefix}-gone")["data"] == {"value": VALUE}
    assert [p.kind for p in verify(reg).problems] == ["census"]
