"""SQL database blocks: :class:`DatabaseCredentials` and :class:`SqlAlchemyConnector`.

Field names follow prefect-sqlalchemy. :class:`DatabaseCredentials` takes either the parts of a
URL (``driver``, ``host``, ``database``...) or a whole ``url``, not both; ``url`` is a secret,
since URLs usually carry the password; in Python the field is ``url_`` (alias ``url``) so that
``url()`` can build the URL. :class:`SqlAlchemyConnector` is prefect-sqlalchemy's block as it
is (``connection_info`` holds the parts or the URL), so its documents load unchanged. Both have
Prefect's ``fetch_one``/``fetch_many``/``fetch_all``/``execute``/``execute_many``. The database
driver (e.g. psycopg, extra ``postgres``) loads only in ``get_engine``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)

from blocks.core import Block
from blocks.errors import MissingExtraError
from blocks.types._rules import raise_field_errors, reveal
from blocks.types._sql import SqlMethods, SqlSession

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

_DRIVER_RE = re.compile(r"^[a-z][a-z0-9_]*(\+[a-z][a-z0-9_]*)?$")
_PARTS = ("driver", "username", "password", "host", "port", "database", "query")
# Driver modules this package ships an extra for: module name -> (package, extra).
_EXTRAS = {"psycopg": ("psycopg", "postgres")}


class DatabaseCredentials(SqlMethods, Block):
    """How to reach a SQL database through SQLAlchemy.

    Example:
        >>> creds = DatabaseCredentials(driver="postgresql+psycopg", host="db", port=5432,
        ...                             database="app", username="etl", password="...")
        >>> str(creds.url())
        'postgresql+psycopg://etl:***@db:5432/app'
    """

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    driver: str | None = Field(
        default=None,
        description="SQLAlchemy dialect and driver, e.g. postgresql+psycopg, "
        "mysql+pymysql, sqlite. Required unless url is given.",
    )
    username: str | None = Field(default=None, description="User name to sign in as.")
    password: SecretStr | None = Field(default=None, description="Password of username.")
    host: str | None = Field(default=None, description="Server host name or address.")
    port: int | None = Field(
        default=None, ge=1, le=65535, description="Server port; default: the dialect's."
    )
    database: str | None = Field(
        default=None,
        description="Database name (a file path for SQLite). Required unless url is given.",
    )
    query: dict[str, str] | None = Field(
        default=None,
        description="URL query parameters passed to the dialect/driver, e.g. "
        "{\"sslmode\": \"require\"}.",
    )
    url_: SecretStr | None = Field(
        default=None,
        alias="url",
        description="Whole SQLAlchemy URL (dialect+driver://user:password@host:port/db?...), "
        "instead of the parts above. Secret, as it usually holds the password.",
    )
    connect_args: dict[str, JsonValue] | None = Field(
        default=None,
        description="Extra keyword arguments for the driver's connect() call.",
    )

    _sql: SqlSession | None = PrivateAttr(default=None)

    @field_validator("driver")
    @classmethod
    def _check_driver(cls, value: str | None) -> str | None:
        return _checked_driver(value)

    @model_validator(mode="after")
    def _check_rules(self) -> DatabaseCredentials:
        problems: list[tuple[str, str]] = []
        if self.url_ is not None:
            problems += [
                (part, "give either url or the URL parts, not both")
                for part in _PARTS
                if getattr(self, part) is not None
            ]
            if not _parses(self.url_.get_secret_value()):
                problems.append(
                    ("url", "is not a SQLAlchemy URL (dialect+driver://user:password@host/db)")
                )
        else:
            problems += [
                (part, "required unless url is given")
                for part in ("driver", "database")
                if not getattr(self, part)
            ]
            if self.password is not None and not self.username:
                problems.append(("username", "required when password is set"))
        raise_field_errors(type(self).__name__, problems)
        return self

    def url(self) -> URL:
        """The ``sqlalchemy.engine.URL`` (its ``str``/``repr`` hide the password)."""
        from sqlalchemy.engine import URL as SaURL
        from sqlalchemy.engine import make_url

        if self.url_ is not None:
            return make_url(self.url_.get_secret_value())
        assert self.driver is not None  # the model validator guarantees it
        return SaURL.create(
            self.driver,
            username=self.username,
            password=reveal(self.password),
            host=self.host,
            port=self.port,
            database=self.database,
            query=self.query or {},
        )

    def get_engine(self, **engine_kwargs: Any) -> Engine:
        """A SQLAlchemy ``Engine`` for this database.

        Args:
            **engine_kwargs: extra ``sqlalchemy.create_engine`` arguments; ``connect_args``
                given here are merged over the block's.

        Raises:
            MissingExtraError: the driver module is one an extra provides (e.g. psycopg).
            ImportError: any other missing driver module.
        """
        return _engine(self.url(), self.connect_args, engine_kwargs, "DatabaseCredentials")


class ConnectionComponents(BaseModel):
    """The parts of a SQLAlchemy URL (prefect-sqlalchemy's ``ConnectionComponents``)."""

    model_config = ConfigDict(extra="forbid")

    driver: str = Field(description="SQLAlchemy dialect and driver, e.g. postgresql+psycopg.")
    database: str = Field(description="Database name (a file path for SQLite).")
    username: str | None = Field(default=None, description="User name to sign in as.")
    password: SecretStr | None = Field(default=None, description="Password of username.")
    host: str | None = Field(default=None, description="Server host name or address.")
    port: int | None = Field(
        default=None, ge=1, le=65535, description="Server port; default: the dialect's."
    )
    query: dict[str, str] | None = Field(
        default=None, description="URL query parameters for the dialect/driver."
    )

    @field_validator("driver")
    @classmethod
    def _check_driver(cls, value: str) -> str:
        return _checked_driver(value) or value


class SqlAlchemyConnector(SqlMethods, Block):
    """prefect-sqlalchemy's ``SqlAlchemyConnector``: a database, its engine arguments, and
    Prefect's fetch/execute calls.

    Example:
        >>> with SqlAlchemyConnector.load("warehouse") as db:               # doctest: +SKIP
        ...     db.execute("create table if not exists t (x int)")
        ...     db.fetch_all("select x from t where x > :least", {"least": 1})
    """

    block_type_slug = "sqlalchemy-connector"  # Prefect's slug

    connection_info: ConnectionComponents | SecretStr = Field(
        description="The URL's parts (driver, database, username, password, host, port, "
        "query), or a whole SQLAlchemy URL (secret, as it usually holds the password).",
    )
    connect_args: dict[str, JsonValue] | None = Field(
        default=None, description="Extra keyword arguments for the driver's connect() call."
    )
    fetch_size: int = Field(
        default=1, ge=1, description="Rows fetch_many returns when no size is given (default 1)."
    )

    _sql: SqlSession | None = PrivateAttr(default=None)

    @field_validator("connection_info")
    @classmethod
    def _check_url(cls, value: ConnectionComponents | SecretStr) -> Any:
        if isinstance(value, SecretStr) and not _parses(value.get_secret_value()):
            raise ValueError("is not a SQLAlchemy URL (dialect+driver://user:password@host/db)")
        return value

    def url(self) -> URL:
        """The ``sqlalchemy.engine.URL`` (its ``str``/``repr`` hide the password)."""
        return connection_url(self.connection_info)

    def get_engine(self, **engine_kwargs: Any) -> Engine:
        """A SQLAlchemy ``Engine`` (see :meth:`DatabaseCredentials.get_engine`)."""
        return _engine(self.url(), self.connect_args, engine_kwargs, "SqlAlchemyConnector")

    def get_connection(self, begin: bool = True, **connect_kwargs: Any) -> Any:
        """A SQLAlchemy connection from this block's engine, as in prefect-sqlalchemy.

        Args:
            begin: ``True`` (Prefect's default): ``engine.begin()``, a context manager giving a
                connection in a transaction that commits on exit (rolls back on error);
                ``False``: ``engine.connect()``, a plain ``Connection`` (close it after use).
            **connect_kwargs: passed to ``engine.begin``/``engine.connect``.
        """
        engine = self._session().engine
        return engine.begin(**connect_kwargs) if begin else engine.connect(**connect_kwargs)

    def get_client(self, client_type: Literal["engine", "connection"],
                   **get_client_kwargs: Any) -> Any:
        """The engine (:meth:`get_engine`) or a connection (:meth:`get_connection`).

        Raises:
            ValueError: ``client_type`` is neither ``"engine"`` nor ``"connection"``.
        """
        return engine_or_connection(self, client_type, get_client_kwargs)


def _checked_driver(value: str | None) -> str | None:
    if value is not None and not _DRIVER_RE.match(value):
        raise ValueError("must be 'dialect' or 'dialect+driver', e.g. postgresql+psycopg")
    return value


def _engine(url: URL, block_args: dict[str, JsonValue] | None, engine_kwargs: dict[str, Any],
            owner: str) -> Engine:
    from sqlalchemy import create_engine

    connect_args = {**(block_args or {}), **engine_kwargs.pop("connect_args", {})}
    try:
        return create_engine(url, connect_args=connect_args, **engine_kwargs)
    except ImportError as exc:
        extra = _EXTRAS.get((exc.name or "").partition(".")[0])
        if extra is None:
            raise
        raise MissingExtraError(extra[0], extra[1], f"{owner}.get_engine") from None


def engine_or_connection(connector: Any, client_type: str, kwargs: dict[str, Any]) -> Any:
    """``get_client`` of the SQL connectors (sync and async): their engine or a connection."""
    if client_type == "engine":
        return connector.get_engine(**kwargs)
    if client_type == "connection":
        return connector.get_connection(**kwargs)
    raise ValueError(f"client_type {client_type!r} is not supported; use 'engine' or "
                     "'connection'")


def connection_url(info: ConnectionComponents | SecretStr) -> URL:
    """The ``sqlalchemy.engine.URL`` of a connector's ``connection_info`` (parts or a URL)."""
    from sqlalchemy.engine import URL as SaURL
    from sqlalchemy.engine import make_url

    if isinstance(info, SecretStr):
        return make_url(info.get_secret_value())
    return SaURL.create(
        info.driver, username=info.username, password=reveal(info.password),
        host=info.host, port=info.port, database=info.database, query=info.query or {},
    )


def _parses(url: str) -> bool:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url)
    except (ArgumentError, ValueError):
        return False
    return True
