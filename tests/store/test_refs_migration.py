"""Upgrading a 0010 database to 0012_seal_refs_mirrors: references, mirrors and censuses are
sealed once, on first open with the master key, and the Registry says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocks import Registry, Settings
from blocks.errors import IntegrityError
from blocks.sealed_refs import SealedOnUpgrade
from blocks.store.migrate import downgrade
from blocks.store.migrations import HEAD_REVISION
from blocks.verify import verify
from tests.core.models import TestCreds, TestService
from tests.store.tamper import tamper

PW = "migrated-ref-pw-3c2b"


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_0010_database_is_sealed_on_first_open(
    backend: str, blocks_home: Path, request: pytest.FixtureRequest
) -> None:
    settings = Settings(home=blocks_home)
    if backend == "postgres":
        settings = Settings(home=blocks_home, database_url=request.getfixturevalue("pg_url"))
    old = Registry(settings)
    creds = TestCreds(user="u", password=PW)
    creds.save("db", registry=old)
    TestService(url="https://svc", creds=creds).save("app", registry=old)
    downgrade(old.store.engine, "0010_block_mirrors")  # the database as a 0010 release left it
    with old.store.engine.begin() as conn:  # a mirror configured by that release
        conn.exec_driver_sql(
            f"INSERT INTO block_mirror (block_id, target, target_name) "
            f"VALUES ('{creds.block_id}', 'prefect', 'db')")
    old.close()

    new = Registry(settings)
    with pytest.warns(SealedOnUpgrade, match=r"sealed 2 reference and mirror row\(s\).* 2 "):
        assert new.load("test-service/app").creds.password.get_secret_value() == PW
    assert new.store.schema_revision() == HEAD_REVISION
    report = verify(new)
    assert report.ok, report.problems
    assert report.checked["censuses"] == 3  # test-creds, test-service, mirrors
    new.close()

    # Sealed once: from now on a row without its MAC is refused.
    tamper(settings.resolved_database_url, "UPDATE block_mirror SET mac = NULL")
    again = Registry(settings)
    with pytest.raises(IntegrityError, match="the mirror of test-creds/db to prefect"):
        again.save(TestCreds(user="u", password=PW + "-2"), "db", overwrite=True)
    assert [p.kind for p in verify(again).problems] == ["mirror"]
    again.close()
