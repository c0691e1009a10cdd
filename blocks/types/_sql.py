"""Prefect's database-block calls over SQLAlchemy: ``fetch_one``/``fetch_many``/``fetch_all``/
``execute``/``execute_many``, shared by :class:`DatabaseCredentials` and
:class:`SqlAlchemyConnector`.

As in prefect-sqlalchemy, repeating a fetch with the same operation and parameters continues
the same result set (the next rows) until :meth:`SqlMethods.reset_connections`; ``execute``
always runs and commits. The engine and open results live in one private attribute and are
left out when a block is pickled (Prefect persists task results and parameters that way).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, Self, cast

from blocks._async import run_sync

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult, Engine, Row


class SqlSession:
    """An engine and the result sets that fetches are continuing."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.stack = ExitStack()
        self.results: dict[str, CursorResult[Any]] = {}

    def result(self, operation: str, parameters: dict[str, Any] | None,
               options: dict[str, Any]) -> CursorResult[Any]:
        key = json.dumps([operation, parameters, options], sort_keys=True, default=repr)
        found = self.results.get(key)
        if found is None:
            from sqlalchemy import text

            connection = self.stack.enter_context(self.engine.connect())
            found = connection.execute(text(operation), parameters or {},
                                       execution_options=options)
            self.results[key] = found
        return found

    def reset(self) -> None:
        for result in self.results.values():
            result.close()
        self.results.clear()
        self.stack.close()
        self.stack = ExitStack()


def _check_operation(operation: object) -> str:
    if not isinstance(operation, str) or not operation.strip():
        raise TypeError("operation must be a non-empty SQL string, e.g. 'select 1'")
    return operation


class SqlMethods:
    """The fetch/execute calls, mixed into a block that provides ``get_engine`` (and optionally a
    ``fetch_size`` field) and a ``_sql`` private attribute."""

    # Declared for type checkers only: pydantic must not take them for fields of the blocks.
    if TYPE_CHECKING:
        _sql: SqlSession | None

    def get_engine(self, **engine_kwargs: Any) -> Engine:
        raise NotImplementedError

    def _session(self) -> SqlSession:
        if self._sql is None:
            self._sql = SqlSession(self.get_engine())
        return self._sql

    def fetch_one(self, operation: str, parameters: dict[str, Any] | None = None,
                  **execution_options: Any) -> Row[Any] | None:
        """The next row of ``operation`` (run on the first call), or ``None`` at the end.

        Args:
            operation: SQL text; bind parameters as ``:name``.
            parameters: values of the bind parameters.
            **execution_options: SQLAlchemy ``execution_options``.
        """
        return self._session().result(_check_operation(operation), parameters,
                                      execution_options).fetchone()

    def fetch_many(self, operation: str, parameters: dict[str, Any] | None = None,
                   size: int | None = None, **execution_options: Any) -> list[Row[Any]]:
        """The next ``size`` rows (default: the block's ``fetch_size``, else 1) of
        ``operation``."""
        if size is not None and (not isinstance(size, int) or size < 1):
            raise ValueError("size must be a positive integer")
        result = self._session().result(_check_operation(operation), parameters,
                                        execution_options)
        return list(result.fetchmany(size or getattr(self, "fetch_size", 1)))

    def fetch_all(self, operation: str, parameters: dict[str, Any] | None = None,
                  **execution_options: Any) -> list[Row[Any]]:
        """Every remaining row of ``operation``."""
        return list(self._session().result(_check_operation(operation), parameters,
                                           execution_options).fetchall())

    def execute(self, operation: str, parameters: dict[str, Any] | None = None,
                **execution_options: Any) -> CursorResult[Any]:
        """Run ``operation`` now, in its own transaction, and commit it."""
        from sqlalchemy import text

        with self._session().engine.begin() as connection:
            return connection.execute(text(_check_operation(operation)), parameters or {},
                                      execution_options=execution_options)

    def execute_many(self, operation: str, seq_of_parameters: Sequence[dict[str, Any]],
                     **execution_options: Any) -> CursorResult[Any]:
        """Run ``operation`` once per parameter dict (executemany), in one transaction."""
        if isinstance(seq_of_parameters, dict | str | bytes) or not all(
            isinstance(p, dict) for p in seq_of_parameters
        ):
            raise TypeError("seq_of_parameters must be a list of dicts, one per execution")
        from sqlalchemy import text

        with self._session().engine.begin() as connection:
            return connection.execute(text(_check_operation(operation)),
                                      list(seq_of_parameters),
                                      execution_options=execution_options)

    def reset_connections(self) -> None:
        """Close the open result sets, so the next fetch runs its operation again."""
        if self._sql is not None:
            self._sql.reset()

    def close(self) -> None:
        """Close the result sets and dispose of the engine."""
        if self._sql is not None:
            self._sql.reset()
            self._sql.engine.dispose()
            self._sql = None

    # -- async twins: the calls above, run off the event loop ------------------------------

    async def afetch_one(self, operation: str, parameters: dict[str, Any] | None = None,
                         **execution_options: Any) -> Row[Any] | None:
        """:meth:`fetch_one` without blocking the event loop."""
        return await run_sync(self.fetch_one, operation, parameters, **execution_options)

    async def afetch_many(self, operation: str, parameters: dict[str, Any] | None = None,
                          size: int | None = None, **execution_options: Any) -> list[Row[Any]]:
        """:meth:`fetch_many` without blocking the event loop."""
        return await run_sync(self.fetch_many, operation, parameters, size,
                              **execution_options)

    async def afetch_all(self, operation: str, parameters: dict[str, Any] | None = None,
                         **execution_options: Any) -> list[Row[Any]]:
        """:meth:`fetch_all` without blocking the event loop."""
        return await run_sync(self.fetch_all, operation, parameters, **execution_options)

    async def aexecute(self, operation: str, parameters: dict[str, Any] | None = None,
                       **execution_options: Any) -> CursorResult[Any]:
        """:meth:`execute` without blocking the event loop."""
        return await run_sync(self.execute, operation, parameters, **execution_options)

    async def aexecute_many(self, operation: str, seq_of_parameters: Sequence[dict[str, Any]],
                            **execution_options: Any) -> CursorResult[Any]:
        """:meth:`execute_many` without blocking the event loop."""
        return await run_sync(self.execute_many, operation, seq_of_parameters,
                              **execution_options)

    async def areset_connections(self) -> None:
        """:meth:`reset_connections` without blocking the event loop."""
        await run_sync(self.reset_connections)

    async def aclose(self) -> None:
        """:meth:`close` without blocking the event loop."""
        await run_sync(self.close)

    def __getstate__(self) -> dict[Any, Any]:
        # The engine and open results stay behind when the block is pickled.
        state = cast("dict[Any, Any]", super().__getstate__())
        private = state.get("__pydantic_private__")
        if private and private.get("_sql") is not None:
            state = {**state, "__pydantic_private__": {**private, "_sql": None}}
        return state

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
