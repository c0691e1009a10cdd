"""SQL database blocks: :class:`DatabaseCredentials`.

Field names follow prefect-sqlalchemy. Give either the parts of a URL (``driver``, ``host``,
``database``...) or a whole ``url``, not both. ``url`` is a secret, since URLs usually carry the
password; in Python the field is ``url_`` (alias ``url``) so that ``url()`` can build the URL.
The database driver (e.g. psycopg, extra ``postgres``) loads only in ``get_engine``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, Field, JsonValue, SecretStr, field_validator, model_validator

from blocks.core import Block
from blocks.errors import MissingExtraError
from blocks.types._rules import raise_field_errors, reveal

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

_DRIVER_RE = re.compile(r"^[a-z][a-z0-9_]*(\+[a-z][a-z0-9_]*)?$")
_PARTS = ("driver", "username", "password", "host", "port", "database", "query")
# Driver modules this package ships an extra for: module name -> (package, extra).
_EXTRAS = {"psycopg": ("psycopg", "postgres")}


class DatabaseCredentials(Block):
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

    @field_validator("driver")
    @classmethod
    def _check_driver(cls, value: str | None) -> str | None:
        if value is not None and not _DRIVER_RE.match(value):
            raise ValueError("must be 'dialect' or 'dialect+driver', e.g. postgresql+psycopg")
        return value

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
        from sqlalchemy import create_engine

        connect_args = {**(self.connect_args or {}), **engine_kwargs.pop("connect_args", {})}
        try:
            return create_engine(self.url(), connect_args=connect_args, **engine_kwargs)
        except ImportError as exc:
            extra = _EXTRAS.get((exc.name or "").partition(".")[0])
            if extra is None:
                raise
            raise MissingExtraError(
                extra[0], extra[1], "DatabaseCredentials.get_engine"
            ) from None


def _parses(url: str) -> bool:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url)
    except (ArgumentError, ValueError):
        return False
    return True
