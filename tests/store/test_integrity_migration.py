"""Upgrading a 0002 database to 0003_integrity: existing rows are sealed once, on first open."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocks import Registry, Settings
from blocks.errors import IntegrityError
from blocks.pools import WorkPool
from blocks.store.migrate import downgrade
from blocks.store.migrations import HEAD_REVISION
from tests.core.models import TestCreds
from tests.store.tamper import tamper

PW = "migrated-pw-9f8e"


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_0002_database_is_sealed_on_first_open(
    backend: str, blocks_home: Path, request: pytest.FixtureRequest
) -> None:
    settings = Settings(home=blocks_home)
    if backend == "postgres":
        settings = Settings(home=blocks_home, database_url=request.getfixturevalue("pg_url"))
    old = Registry(settings)
    old.save(TestCreds(user="u", password=PW), "a")
    old.save(TestCreds(user="u", password=PW + "-2"), "a", overwrite=True)
    pool = WorkPool(name="k8s", type="kubernetes").save(registry=old)
    pool.create_queue("critical", registry=old)
    downgrade(old.store.engine, "0002_pools")  # the database as a 0002 release left it
    assert old.store.schema_revision() == "0002_pools"
    old.close()

    new = Registry(settings)
    assert new.load("test-creds/a").password.get_secret_value() == PW + "-2"
    assert [v.version for v in new.history("test-creds/a")] == [1, 2]
    assert WorkPool.load("k8s", registry=new).queue("critical").name == "critical"
    assert new.store.schema_revision() == HEAD_REVISION
    new.close()

    # Sealed once: from now on a row without its MAC is an integrity error.
    tamper(settings.resolved_database_url, "UPDATE block SET head_mac = NULL")
    again = Registry(settings)
    with pytest.raises(IntegrityError, match="test-creds/a"):
        again.load("test-creds/a")
    again.close()
