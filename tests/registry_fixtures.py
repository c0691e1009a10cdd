"""Registries on SQLite and PostgreSQL for tests (imported by tests/conftest.py).

PostgreSQL: ``BLOCKS_TEST_POSTGRES_URL`` (default: the local trust-auth server, database
``test``). Each test gets its own schema, dropped afterwards. Outside CI a missing server skips
with the reason; with ``CI=true`` the tests fail instead.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from blocks import Registry, Settings

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_base_url() -> str:
    """The PostgreSQL server URL tests use."""
    return os.environ.get("BLOCKS_TEST_POSTGRES_URL", DEFAULT_PG_URL)


def require_postgres() -> str:
    """Check the server answers; skip (or fail under CI) with a clear reason when it doesn't."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = postgres_base_url()
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        psycopg.connect(plain, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL at {url} does not answer ({str(exc).strip()[:200]})"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI=true requires it")
        pytest.skip(reason + "; set BLOCKS_TEST_POSTGRES_URL")
    return url


def new_schema_url(base: str) -> tuple[str, str]:
    """Create an empty schema; returns ``(url with search_path, schema name)``."""
    import psycopg
    from sqlalchemy.engine import make_url

    schema = f"t_{secrets.token_hex(6)}"
    plain = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", schema


def drop_schema(base: str, schema: str) -> None:
    """Drop a schema made by :func:`new_schema_url`."""
    import psycopg
    from sqlalchemy.engine import make_url

    plain = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def blocks_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ``BLOCKS_HOME`` with the default registry pointed at it."""
    home = tmp_path / "blocks-home"
    for var in list(os.environ):
        if var.startswith("BLOCKS_") and var != "BLOCKS_TEST_POSTGRES_URL":
            monkeypatch.delenv(var)
    monkeypatch.setenv("BLOCKS_HOME", str(home))
    Registry.reset_default()
    yield home
    Registry.reset_default()


@pytest.fixture
def sqlite_registry(blocks_home: Path) -> Iterator[Registry]:
    """A registry on a new embedded SQLite database with a local master key."""
    reg = Registry(Settings(home=blocks_home))
    yield reg
    reg.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new, empty schema."""
    base = require_postgres()
    url, schema = new_schema_url(base)
    yield url
    drop_schema(base, schema)


@pytest.fixture
def pg_registry(blocks_home: Path, pg_url: str) -> Iterator[Registry]:
    """A registry on PostgreSQL (own schema) with a local master key under ``blocks_home``."""
    reg = Registry(Settings(home=blocks_home, database_url=pg_url))
    yield reg
    reg.close()


OVER_HTTP = "over_http"
"""Marker of a module or test whose ``registry`` also runs through a blocks server."""
LOCAL_ONLY = "local_only"
"""Marker of a test of an ``over_http`` module that is about the local registry only."""
_FIXTURES = {"sqlite": "sqlite_registry", "postgres": "pg_registry", "http": "http_registry"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``registry``: SQLite and PostgreSQL, and with ``@pytest.mark.over_http``
    (module or test) a :class:`RemoteRegistry` through a real blocks server over SQLite too.

    Opt-in, not opt-out: a test that reads ``registry.store`` or the keyring is about the
    local implementation, and must not be made to skip (``CI=true`` fails on skips)."""
    if "registry" not in metafunc.fixturenames:
        return
    params = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
    over_http = metafunc.definition.get_closest_marker(OVER_HTTP)
    if over_http is not None and metafunc.definition.get_closest_marker(LOCAL_ONLY) is None:
        params.append("http")
    metafunc.parametrize("registry", params, indirect=True)


def backing(registry: object) -> Registry:
    """The local registry behind ``registry``: itself, or the one its blocks server serves
    (for tests that edit the database as an attacker would, whichever way they read it)."""
    if isinstance(registry, Registry):
        return registry
    served: Registry = registry.served  # type: ignore[attr-defined]  # set by http_registry
    return served


@pytest.fixture
def registry(request: pytest.FixtureRequest) -> Registry:
    """The same tests on both databases (and through HTTP where marked ``over_http``)."""
    return request.getfixturevalue(_FIXTURES[request.param])  # type: ignore[no-any-return]
