"""Alembic migrations: applied on first use and by init, reversible, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from blocks import Registry, Settings, StoreError
from blocks.store.migrate import downgrade, script_head, upgrade
from blocks.store.migrations import HEAD_REVISION
from blocks.store.sql import SqlStore
from tests.core.models import TestCreds


def test_head_revision_constant_matches_the_scripts() -> None:
    assert script_head() == HEAD_REVISION


def test_first_use_applies_migrations(registry: Registry) -> None:
    assert registry.store.schema_revision() is None
    assert registry.list() == []
    assert registry.store.schema_revision() == HEAD_REVISION
    tables = set(inspect(registry.store.engine).get_table_names())
    assert {"block", "block_version", "block_ref", "keyring_term", "alembic_version"} <= tables


def test_downgrade_to_base_and_upgrade_again(registry: Registry) -> None:
    registry.save(TestCreds(user="bob", password="p"), "a")
    engine = registry.store.engine
    downgrade(engine, "base")
    assert "block" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert registry.store.schema_revision() == HEAD_REVISION


def test_store_without_auto_migrate_asks_for_init(blocks_home: Path) -> None:
    store = SqlStore(f"sqlite:///{blocks_home / 'fresh.db'}", auto_migrate=False)
    with pytest.raises(StoreError, match="run 'blocks init'"):
        store.ensure_schema()
    store.close()


def test_database_from_a_newer_version_is_refused(blocks_home: Path) -> None:
    reg = Registry(Settings(home=blocks_home))
    reg.init()
    with reg.store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'")
    reg.close()
    again = Registry(Settings(home=blocks_home))
    with pytest.raises(StoreError, match="newer version of blocks"):
        again.load("test-creds/a")
    again.close()
