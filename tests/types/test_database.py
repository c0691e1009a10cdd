"""DatabaseCredentials: rules, URLs that hide the password, engines on SQLite and PostgreSQL."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from blocks import DatabaseCredentials, MissingExtraError, ValidationError
from tests.registry_fixtures import require_postgres


def errors_of(**fields: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        DatabaseCredentials(**fields)
    return dict(info.value.errors)


# -- validation rules --------------------------------------------------------------------------


def test_parts_need_driver_and_database() -> None:
    assert {"driver", "database"} <= set(errors_of(host="db"))


def test_url_and_parts_are_exclusive() -> None:
    errors = errors_of(url="postgresql://u@h/db", host="h", password="pw")
    assert {"host", "password"} <= set(errors)


def test_url_must_parse_and_is_not_echoed() -> None:
    errors = errors_of(url="not a url with s3cr3t")
    assert set(errors) == {"url"}
    assert "s3cr3t" not in str(errors)


@pytest.mark.parametrize("driver", ["Postgres SQL", "postgresql+", "+psycopg", "pg;drop"])
def test_driver_must_be_dialect_plus_driver(driver: str) -> None:
    assert "driver" in errors_of(driver=driver, database="d")


@pytest.mark.parametrize("port", [0, 70000, "http"])
def test_port_must_be_a_tcp_port(port: Any) -> None:
    assert "port" in errors_of(driver="postgresql", database="d", port=port)


def test_password_needs_a_username() -> None:
    assert "username" in errors_of(driver="postgresql", database="d", password="pw")


def test_port_given_as_string_is_accepted() -> None:
    # prefect-sqlalchemy stores the port as a string
    assert DatabaseCredentials(driver="postgresql", database="d", port="5432").port == 5432


# -- url() ----------------------------------------------------------------------------------------


def test_url_from_parts_hides_the_password() -> None:
    creds = DatabaseCredentials(
        driver="postgresql+psycopg", username="etl", password="p@ss/word-Zq9", host="db",
        port=5433, database="app", query={"sslmode": "require"},
    )
    url = creds.url()
    assert url.password == "p@ss/word-Zq9"
    assert (url.drivername, url.host, url.port, url.database) == (
        "postgresql+psycopg", "db", 5433, "app")
    assert dict(url.query) == {"sslmode": "require"}
    for shown in (str(url), repr(url), repr(creds), str(creds)):
        assert "p@ss/word-Zq9" not in shown
    assert make_url(url.render_as_string(hide_password=False)).password == "p@ss/word-Zq9"


def test_url_field_is_used_as_given() -> None:
    creds = DatabaseCredentials(url="mysql+pymysql://etl:pw-Zq8@db:3306/app?charset=utf8mb4")
    url = creds.url()
    assert (url.drivername, url.password, url.query["charset"]) == (
        "mysql+pymysql", "pw-Zq8", "utf8mb4")
    assert "pw-Zq8" not in str(url) + repr(creds)


# -- engines --------------------------------------------------------------------------------------


def test_sqlite_engine_runs_queries(tmp_path: Path) -> None:
    creds = DatabaseCredentials(driver="sqlite", database=str(tmp_path / "app.db"))
    engine = creds.get_engine()
    try:
        with engine.begin() as conn:
            conn.execute(text("create table t (x integer)"))
            conn.execute(text("insert into t values (41), (1)"))
        with engine.connect() as conn:
            assert conn.execute(text("select sum(x) from t")).scalar_one() == 42
    finally:
        engine.dispose()
    assert (tmp_path / "app.db").exists()


def test_engine_kwargs_and_connect_args_are_passed(tmp_path: Path) -> None:
    creds = DatabaseCredentials(driver="sqlite", database=str(tmp_path / "a.db"),
                                connect_args={"timeout": 3})
    engine = creds.get_engine(echo=True, connect_args={"check_same_thread": False})
    try:
        assert engine.echo is True
        with engine.connect() as conn:
            assert conn.execute(text("select 1")).scalar_one() == 1
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_engine_from_parts() -> None:
    url = make_url(require_postgres())
    creds = DatabaseCredentials(
        driver=url.drivername, username=url.username,
        password=url.password if url.password else None,
        host=url.host, port=url.port, database=url.database,
        query={"application_name": "blocks-test"},
    )
    engine = creds.get_engine()
    try:
        with engine.connect() as conn:
            assert conn.execute(text("select current_database()")).scalar_one() == url.database
            name = conn.execute(text("select current_setting('application_name')")).scalar_one()
            assert name == "blocks-test"
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_engine_from_url() -> None:
    url = require_postgres()
    engine = DatabaseCredentials(url=url).get_engine(pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("select 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_missing_psycopg_names_the_postgres_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    creds = DatabaseCredentials(driver="postgresql+psycopg", host="db", database="app")
    with pytest.raises(MissingExtraError) as info:
        creds.get_engine()
    assert info.value.extra == "postgres"
    assert "blocks-registry[postgres]" in str(info.value)
