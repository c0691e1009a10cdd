"""Prefect's Snowflake calls: ``fetch_one``/``fetch_many``/``fetch_all``/``execute``/
``execute_many`` on :class:`blocks.types.snowflake.SnowflakeConnector`.

As in prefect-snowflake, the connector keeps one connection open; repeating a fetch with the
same operation and parameters continues the same cursor until ``reset_cursors``; ``execute``
and ``execute_many`` always run. Arguments are checked before anything connects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self, cast

from blocks._async import run_sync


class SnowflakeSession:
    """The open connection and the cursors that fetches are continuing."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.cursors: dict[str, Any] = {}

    def cursor(self, operation: str, parameters: Any, options: dict[str, Any]) -> Any:
        key = json.dumps([operation, parameters, options], sort_keys=True, default=repr)
        cursor = self.cursors.get(key)
        if cursor is None:
            cursor = self.connection.cursor()
            cursor.execute(operation, params=parameters, **options)
            self.cursors[key] = cursor
        return cursor

    def reset(self) -> None:
        for cursor in self.cursors.values():
            cursor.close()
        self.cursors.clear()


def check_operation(operation: object) -> str:
    """``operation`` if it is non-empty SQL text, else ``TypeError``."""
    if not isinstance(operation, str) or not operation.strip():
        raise TypeError("operation must be a non-empty SQL string, e.g. 'select 1'")
    return operation


def check_parameters(parameters: object) -> Any:
    """Parameters bind by name (a mapping) or by position (a list or tuple)."""
    if parameters is None or isinstance(parameters, Mapping | list | tuple):
        return parameters
    raise TypeError("parameters must be a dict (named) or a list/tuple (positional)")


class SnowflakeMethods:
    """Mixed into ``SnowflakeConnector``, which provides ``get_connection`` and ``fetch_size``."""

    if TYPE_CHECKING:
        fetch_size: int
        _session_state: SnowflakeSession | None

        def get_connection(self, **connect_kwargs: Any) -> Any: ...

    def _session(self) -> SnowflakeSession:
        if self._session_state is None:
            self._session_state = SnowflakeSession(self.get_connection())
        return self._session_state

    def fetch_one(self, operation: str, parameters: Any = None, **execute_kwargs: Any) -> Any:
        """The next row of ``operation`` (run on the first call), or ``None`` at the end."""
        operation, parameters = check_operation(operation), check_parameters(parameters)
        return self._session().cursor(operation, parameters, execute_kwargs).fetchone()

    def fetch_many(self, operation: str, parameters: Any = None, size: int | None = None,
                   **execute_kwargs: Any) -> list[Any]:
        """The next ``size`` rows (default: ``fetch_size``) of ``operation``."""
        operation, parameters = check_operation(operation), check_parameters(parameters)
        if size is not None and (not isinstance(size, int) or size < 1):
            raise ValueError("size must be a positive integer")
        cursor = self._session().cursor(operation, parameters, execute_kwargs)
        return list(cursor.fetchmany(size or self.fetch_size))

    def fetch_all(self, operation: str, parameters: Any = None,
                  **execute_kwargs: Any) -> list[Any]:
        """Every remaining row of ``operation``."""
        operation, parameters = check_operation(operation), check_parameters(parameters)
        return list(self._session().cursor(operation, parameters, execute_kwargs).fetchall())

    def execute(self, operation: str, parameters: Any = None, **execute_kwargs: Any) -> None:
        """Run ``operation`` now (e.g. DDL, INSERT)."""
        operation, parameters = check_operation(operation), check_parameters(parameters)
        with self._session().connection.cursor() as cursor:
            cursor.execute(operation, params=parameters, **execute_kwargs)

    def execute_many(self, operation: str, seq_of_parameters: Sequence[Any]) -> None:
        """Run ``operation`` once per parameter set (executemany)."""
        operation = check_operation(operation)
        if isinstance(seq_of_parameters, Mapping | str | bytes) or not isinstance(
            seq_of_parameters, Sequence
        ):
            raise TypeError("seq_of_parameters must be a list of parameter sets")
        for parameters in seq_of_parameters:
            if parameters is None:
                raise TypeError("seq_of_parameters must not contain None")
            check_parameters(parameters)
        with self._session().connection.cursor() as cursor:
            cursor.executemany(operation, list(seq_of_parameters))

    def reset_cursors(self) -> None:
        """Close the open cursors, so the next fetch runs its operation again."""
        if self._session_state is not None:
            self._session_state.reset()

    def close(self) -> None:
        """Close the cursors and the connection."""
        if self._session_state is not None:
            self._session_state.reset()
            self._session_state.connection.close()
            self._session_state = None

    # -- async twins: the calls above, run off the event loop; prefect-snowflake's
    # ``*_async`` names are the same methods.

    async def afetch_one(self, operation: str, parameters: Any = None,
                         **execute_kwargs: Any) -> Any:
        """:meth:`fetch_one` without blocking the event loop."""
        return await run_sync(self.fetch_one, operation, parameters, **execute_kwargs)

    async def afetch_many(self, operation: str, parameters: Any = None, size: int | None = None,
                          **execute_kwargs: Any) -> list[Any]:
        """:meth:`fetch_many` without blocking the event loop."""
        return await run_sync(self.fetch_many, operation, parameters, size, **execute_kwargs)

    async def afetch_all(self, operation: str, parameters: Any = None,
                         **execute_kwargs: Any) -> list[Any]:
        """:meth:`fetch_all` without blocking the event loop."""
        return await run_sync(self.fetch_all, operation, parameters, **execute_kwargs)

    async def aexecute(self, operation: str, parameters: Any = None,
                       **execute_kwargs: Any) -> None:
        """:meth:`execute` without blocking the event loop."""
        await run_sync(self.execute, operation, parameters, **execute_kwargs)

    async def aexecute_many(self, operation: str, seq_of_parameters: Sequence[Any]) -> None:
        """:meth:`execute_many` without blocking the event loop."""
        await run_sync(self.execute_many, operation, seq_of_parameters)

    fetch_one_async = afetch_one
    fetch_many_async = afetch_many
    fetch_all_async = afetch_all
    execute_async = aexecute
    execute_many_async = aexecute_many

    def __getstate__(self) -> dict[Any, Any]:
        # The connection and cursors stay behind when the block is pickled.
        state = cast("dict[Any, Any]", super().__getstate__())
        private = state.get("__pydantic_private__")
        if private and private.get("_session_state") is not None:
            state = {**state, "__pydantic_private__": {**private, "_session_state": None}}
        return state

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
