"""Prefect's fetch_*/execute* calls on DatabaseCredentials and SqlAlchemyConnector, on SQLite and
the real PostgreSQL; prefect-sqlalchemy documents load as they are."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blocks import DatabaseCredentials, Registry, SqlAlchemyConnector, ValidationError


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A DatabaseCredentials and a SqlAlchemyConnector for the same (empty) database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    blocks = [DatabaseCredentials(url=url), SqlAlchemyConnector(connection_info=url)]
    yield blocks
    for block in blocks:
        block.close()


@pytest.mark.parametrize("which", [0, 1], ids=["DatabaseCredentials", "SqlAlchemyConnector"])
def test_fetches_continue_until_reset(database: list[Any], which: int) -> None:
    db = database[which]
    db.execute("create table items (n integer, label varchar(10))")
    db.execute_many("insert into items values (:n, :label)",
                    [{"n": i, "label": f"l{i}"} for i in range(6)])
    query = "select n, label from items where n >= :least order by n"
    assert tuple(db.fetch_one(query, {"least": 1})) == (1, "l1")
    assert [tuple(r) for r in db.fetch_many(query, {"least": 1}, size=2)] == [(2, "l2"),
                                                                               (3, "l3")]
    assert [r[0] for r in db.fetch_all(query, {"least": 1})] == [4, 5]
    assert db.fetch_one(query, {"least": 1}) is None
    assert [r[0] for r in db.fetch_many(query, {"least": 4})] == [4]  # other parameters
    db.reset_connections()
    assert db.fetch_one(query, {"least": 1})[0] == 1
    db.reset_connections()  # an unfinished SQLite read holds its lock until then
    assert db.execute("update items set label = 'x' where n < 2").rowcount == 2


def test_the_other_block_sees_committed_writes(database: list[Any]) -> None:
    creds, connector = database
    creds.execute("create table t (x integer)")
    creds.execute("insert into t values (:x)", {"x": 7})
    assert connector.fetch_all("select x from t")[0][0] == 7


def test_argument_errors_are_clear(tmp_path: Path) -> None:
    db = SqlAlchemyConnector(connection_info={"driver": "sqlite",
                                              "database": str(tmp_path / "a.db")})
    with pytest.raises(TypeError, match="list of dicts"):
        db.execute_many("insert into t values (:x)", {"x": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="non-empty SQL"):
        db.fetch_one("  ")
    with pytest.raises(ValueError, match="positive"):
        db.fetch_many("select 1", size=0)


def test_fetch_size_is_the_default_batch(tmp_path: Path) -> None:
    db = SqlAlchemyConnector(connection_info=f"sqlite:///{tmp_path / 'f.db'}", fetch_size=3)
    db.execute("create table t (x integer)")
    db.execute_many("insert into t values (:x)", [{"x": i} for i in range(5)])
    assert len(db.fetch_many("select x from t")) == 3
    db.close()


def test_pickled_block_leaves_its_engine_behind(tmp_path: Path) -> None:
    db = SqlAlchemyConnector(connection_info=f"sqlite:///{tmp_path / 'p.db'}")
    assert db.fetch_one("select 1")[0] == 1
    copy = pickle.loads(pickle.dumps(db))
    assert copy.connection_info.get_secret_value() == db.connection_info.get_secret_value()
    assert copy.fetch_one("select 2")[0] == 2
    db.close()
    copy.close()


def test_url_is_secret_and_parts_password_too() -> None:
    assert set(SqlAlchemyConnector.secret_paths()) == {"connection_info",
                                                        "connection_info.password"}
    with pytest.raises(ValidationError) as info:
        SqlAlchemyConnector(connection_info="not a url, pw=hunter2")
    assert "hunter2" not in str(info.value)


def test_prefect_sqlalchemy_documents_load(sqlite_registry: Registry, tmp_path: Path) -> None:
    from prefect_sqlalchemy import ConnectionComponents
    from prefect_sqlalchemy import SqlAlchemyConnector as Theirs

    theirs = Theirs(connection_info=ConnectionComponents(
        driver="sqlite", database=str(tmp_path / "d.db"), username=None))
    doc = theirs.model_dump(mode="json", exclude={"block_type_slug"},
                            context={"include_secrets": True})
    ours = SqlAlchemyConnector.model_validate(doc)
    ours.save("warehouse", registry=sqlite_registry)
    loaded = SqlAlchemyConnector.load("warehouse", registry=sqlite_registry)
    assert loaded.fetch_one("select 41 + 1")[0] == 42
    loaded.close()
    url_doc = Theirs(connection_info="postgresql+psycopg://u:pw@db:5432/app").model_dump(
        mode="json", exclude={"block_type_slug"})
    assert SqlAlchemyConnector.model_validate(url_doc).url().password == "pw"
