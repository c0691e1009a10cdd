"""prefect-sqlalchemy's ``AsyncSqlAlchemyConnector``: a database reached through an async
SQLAlchemy driver (``postgresql+psycopg``, ``postgresql+asyncpg``, ``sqlite+aiosqlite``...).

Its fields and documents are :class:`~blocks.types.database.SqlAlchemyConnector`'s. Unlike the
types' other ``a…`` methods, which run the one sync core on a worker thread, these calls are
SQLAlchemy's own asyncio API: the point of the type is the async driver, which has no sync
twin to run. As in prefect-sqlalchemy, a repeated fetch with the same operation and
parameters continues the same result set until :meth:`reset_connections`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import Field, JsonValue, PrivateAttr, SecretStr, field_validator

from blocks.core import Block
from blocks.types.database import (
    ConnectionComponents,
    _parses,
    connection_url,
    engine_or_connection,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import URL
    from sqlalchemy.ext.asyncio import AsyncEngine

ASYNC_DRIVERS = frozenset({
    "postgresql+asyncpg", "postgresql+psycopg", "postgresql+psycopg_async",
    "sqlite+aiosqlite", "mysql+aiomysql", "mysql+asyncmy", "oracle+oracledb_async",
    "mssql+aioodbc",
})


class AsyncSqlAlchemyConnector(Block):
    """A database over an async SQLAlchemy driver, with Prefect's awaitable fetch/execute.

    Example:
        >>> async with AsyncSqlAlchemyConnector.load("warehouse") as db:   # doctest: +SKIP
        ...     await db.execute("create table if not exists t (x int)")
        ...     rows = await db.fetch_all("select x from t")
    """

    block_type_slug = "async-sqlalchemy-connector"  # Prefect's slug

    connection_info: ConnectionComponents | SecretStr = Field(
        description="The URL's parts (driver, database, username, password, host, port, "
        "query), or a whole SQLAlchemy URL (secret); the driver must be async, e.g. "
        "postgresql+asyncpg, postgresql+psycopg or sqlite+aiosqlite.",
    )
    connect_args: dict[str, JsonValue] | None = Field(
        default=None, description="Extra keyword arguments for the driver's connect() call."
    )
    fetch_size: int = Field(
        default=1, ge=1, description="Rows fetch_many returns when no size is given (default 1)."
    )

    _engine: Any = PrivateAttr(default=None)
    _stack: Any = PrivateAttr(default=None)
    _results: dict[str, Any] = PrivateAttr(default_factory=dict)

    @field_validator("connection_info")
    @classmethod
    def _check_async(cls, value: ConnectionComponents | SecretStr) -> Any:
        if isinstance(value, SecretStr):
            if not _parses(value.get_secret_value()):
                raise ValueError("is not a SQLAlchemy URL (dialect+driver://user:password@host/db)")
            from sqlalchemy.engine import make_url

            driver = make_url(value.get_secret_value()).drivername
        else:
            driver = value.driver
        if driver not in ASYNC_DRIVERS:
            raise ValueError(f"driver {driver!r} is not an async driver (use one of "
                             f"{', '.join(sorted(ASYNC_DRIVERS))}, or SqlAlchemyConnector)")
        return value

    def url(self) -> URL:
        """The ``sqlalchemy.engine.URL`` (its ``str``/``repr`` hide the password)."""
        return connection_url(self.connection_info)

    def get_engine(self, **engine_kwargs: Any) -> AsyncEngine:
        """The block's ``AsyncEngine`` (made on first call, then reused until :meth:`close`)."""
        if self._engine is None:
            from sqlalchemy.ext.asyncio import create_async_engine

            connect_args = {**(self.connect_args or {}), **engine_kwargs.pop("connect_args", {})}
            self._engine = create_async_engine(self.url(), connect_args=connect_args,
                                               **engine_kwargs)
        engine: AsyncEngine = self._engine
        return engine

    def get_connection(self, begin: bool = True, **connect_kwargs: Any) -> Any:
        """``engine.begin()`` (a transaction committed on exit; the default) or
        ``engine.connect()``: use it as ``async with connector.get_connection() as conn``."""
        engine = self.get_engine()
        return engine.begin(**connect_kwargs) if begin else engine.connect(**connect_kwargs)

    def get_client(self, client_type: Literal["engine", "connection"],
                   **get_client_kwargs: Any) -> Any:
        """The engine or a connection (see :meth:`get_connection`).

        Raises:
            ValueError: ``client_type`` is neither ``"engine"`` nor ``"connection"``.
        """
        return engine_or_connection(self, client_type, get_client_kwargs)

    async def _result(self, operation: str, parameters: dict[str, Any] | None,
                      options: dict[str, Any]) -> Any:
        key = json.dumps([operation, parameters, options], sort_keys=True, default=repr)
        if key not in self._results:
            from sqlalchemy import text

            if self._stack is None:
                self._stack = AsyncExitStack()
            connection = await self._stack.enter_async_context(self.get_engine().connect())
            self._results[key] = await connection.execute(
                text(_operation(operation)), parameters or {}, execution_options=options)
        return self._results[key]

    async def fetch_one(self, operation: str, parameters: dict[str, Any] | None = None,
                        **execution_options: Any) -> Any:
        """The next row of ``operation`` (run on the first call), or ``None`` at the end."""
        return (await self._result(operation, parameters, execution_options)).fetchone()

    async def fetch_many(self, operation: str, parameters: dict[str, Any] | None = None,
                         size: int | None = None, **execution_options: Any) -> list[Any]:
        """The next ``size`` rows (default: ``fetch_size``) of ``operation``."""
        if size is not None and (not isinstance(size, int) or size < 1):
            raise ValueError("size must be a positive integer")
        result = await self._result(operation, parameters, execution_options)
        return list(result.fetchmany(size or self.fetch_size))

    async def fetch_all(self, operation: str, parameters: dict[str, Any] | None = None,
                        **execution_options: Any) -> list[Any]:
        """Every remaining row of ``operation``."""
        return list((await self._result(operation, parameters, execution_options)).fetchall())

    async def execute(self, operation: str, parameters: dict[str, Any] | None = None,
                      **execution_options: Any) -> Any:
        """Run ``operation`` now, in its own transaction, and commit it."""
        from sqlalchemy import text

        async with self.get_engine().begin() as connection:
            return await connection.execute(text(_operation(operation)), parameters or {},
                                            execution_options=execution_options)

    async def execute_many(self, operation: str, seq_of_parameters: Sequence[dict[str, Any]],
                           **execution_options: Any) -> Any:
        """Run ``operation`` once per parameter dict (executemany), in one transaction."""
        if isinstance(seq_of_parameters, dict | str | bytes) or not all(
            isinstance(p, dict) for p in seq_of_parameters
        ):
            raise TypeError("seq_of_parameters must be a list of dicts, one per execution")
        from sqlalchemy import text

        async with self.get_engine().begin() as connection:
            return await connection.execute(text(_operation(operation)),
                                            list(seq_of_parameters),
                                            execution_options=execution_options)

    async def reset_connections(self) -> None:
        """Close the open result sets, so the next fetch runs its operation again."""
        for result in self._results.values():
            result.close()
        self._results.clear()
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None

    async def close(self) -> None:
        """Close the result sets and dispose of the engine."""
        await self.reset_connections()
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    def __getstate__(self) -> dict[Any, Any]:
        # The engine and open results stay behind when the block is pickled.
        state: dict[Any, Any] = super().__getstate__()
        private = state.get("__pydantic_private__")
        if private:
            state = {**state, "__pydantic_private__": {
                **private, "_engine": None, "_stack": None, "_results": {}}}
        return state

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _operation(operation: object) -> str:
    if not isinstance(operation, str) or not operation.strip():
        raise TypeError("operation must be a non-empty SQL string, e.g. 'select 1'")
    return operation
