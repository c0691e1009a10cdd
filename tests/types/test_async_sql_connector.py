"""AsyncSqlAlchemyConnector: prefect-sqlalchemy's async connector on SQLite (aiosqlite) and
the real PostgreSQL (psycopg's async mode); stored, found by slug, and refused for sync drivers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from blocks import AsyncSqlAlchemyConnector, Block, Registry, ValidationError


def async_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url  # postgresql+psycopg: psycopg 3 is async too


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return async_url(request, tmp_path)


def test_async_fetches_continue_and_execute_commits(url: str) -> None:
    async def run() -> list[Any]:
        async with AsyncSqlAlchemyConnector(connection_info=url, fetch_size=2) as db:
            await db.execute("create table items (n integer)")
            await db.execute_many("insert into items values (:n)", [{"n": i} for i in range(5)])
            query = "select n from items where n >= :least order by n"
            first = await db.fetch_one(query, {"least": 1})
            two = await db.fetch_many(query, {"least": 1})
            rest = await db.fetch_all(query, {"least": 1})
            await db.reset_connections()
            again = await db.fetch_one(query, {"least": 1})
            async with db.get_connection(begin=False) as conn:
                from sqlalchemy import text

                count = (await conn.execute(text("select count(*) from items"))).scalar()
            return [tuple(first), [r[0] for r in two], [r[0] for r in rest], tuple(again), count]

    assert asyncio.run(run()) == [(1,), [2, 3], [4], (1,), 5]


def test_get_client_gives_the_async_engine(tmp_path: Path) -> None:
    from sqlalchemy.ext.asyncio import AsyncEngine

    db = AsyncSqlAlchemyConnector(connection_info=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert isinstance(db.get_client("engine"), AsyncEngine)
    with pytest.raises(ValueError, match="'engine' or 'connection'"):
        db.get_client("cursor")  # type: ignore[arg-type]
    asyncio.run(db.close())


def test_sync_driver_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match=r"connection_info.*not an async driver"):
        AsyncSqlAlchemyConnector(connection_info="sqlite:///x.db")
    with pytest.raises(ValidationError, match="not an async driver"):
        AsyncSqlAlchemyConnector(connection_info={"driver": "postgresql+psycopg2",
                                                  "database": "app"})


def test_saved_connector_loads_by_slug_in_a_fresh_process(
    sqlite_registry: Registry, blocks_home: Path, tmp_path: Path
) -> None:
    AsyncSqlAlchemyConnector(connection_info=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}").save(
        "warehouse", registry=sqlite_registry)
    code = ("from blocks import Block\n"
            "b = Block.load('async-sqlalchemy-connector/warehouse')\n"
            "print(type(b).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "AsyncSqlAlchemyConnector"
    loaded = Block.load("async-sqlalchemy-connector/warehouse", registry=sqlite_registry)
    assert isinstance(loaded, AsyncSqlAlchemyConnector)
