"""Prefect 3's async dispatch for the types' I/O methods: one method, sync or awaitable.

prefect-aws code writes ``await bucket.read_path(...)`` in async flows and
``bucket.read_path(...)`` in sync ones. A method decorated with :func:`async_dispatch` decides
per call, as Prefect's ``async_dispatch`` does:

- ``_sync=True`` / ``_sync=False`` (a keyword that is not passed on) forces the sync result or a
  coroutine;
- inside a Prefect run (only looked up if ``prefect`` is already imported, never imported
  here), the run's task or flow decides: async task or flow -> coroutine, sync -> result;
- otherwise a running event loop in this thread means async code -> coroutine; no loop ->
  the result.

The coroutine runs the same sync core on a worker thread (:func:`blocks._async.run_sync`), so
the loop never waits on the network. A call made while a sync core runs (``get_directory``
calling ``download_folder_to_path``) always runs sync. :func:`async_twin` makes the ``a…``
method that always returns a coroutine.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from blocks._async import run_sync

S = TypeVar("S")
P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])

_in_sync_core: ContextVar[bool] = ContextVar("blocks_in_sync_core", default=False)


def _prefect_run_is_async() -> bool | None:
    """Whether the current Prefect task or flow run is async; ``None`` outside a run (or when
    Prefect was never imported: it is not imported here)."""
    context = sys.modules.get("prefect.context")
    if context is None:
        return None
    try:
        run = context.get_run_context()
    except Exception:  # MissingContextError: not inside a run
        return None
    parent = getattr(run, "task", None) or getattr(run, "flow", None)
    return bool(getattr(parent, "isasync", True))


def in_async_context() -> bool:
    """True where a dispatching method returns a coroutine (see the module docstring)."""
    if _in_sync_core.get():
        return False
    from_prefect = _prefect_run_is_async()
    if from_prefect is not None:
        return from_prefect
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_core(fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
    token = _in_sync_core.set(True)
    try:
        return fn(*args, **kwargs)
    finally:
        _in_sync_core.reset(token)


def async_dispatch(fn: F) -> F:
    """Make a sync I/O method return a coroutine when called from async code.

    Typed as the sync method: typed async code should await the ``a…`` twin instead.
    """

    @functools.wraps(fn)
    def wrapper(self: Any, /, *args: Any, **kwargs: Any) -> Any:
        forced = kwargs.pop("_sync", None)
        run_sync_now = bool(forced) if forced is not None else not in_async_context()
        if run_sync_now:
            return _run_core(fn, (self, *args), kwargs)
        return run_sync(_run_core, fn, (self, *args), kwargs)

    wrapper.__blocks_sync__ = fn  # type: ignore[attr-defined]
    return cast(F, wrapper)


def async_twin(
    method: Callable[Concatenate[S, P], R],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """The ``a…`` twin of a (dispatching) sync method: always a coroutine, run off the loop."""
    fn: Callable[..., R] = getattr(method, "__blocks_sync__", method)

    @functools.wraps(fn)
    async def twin(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await run_sync(_run_core, fn, (self, *args), kwargs)

    owner = fn.__qualname__.rpartition(".")[0]
    twin.__name__ = f"a{fn.__name__}"
    twin.__qualname__ = f"{owner}.{twin.__name__}" if owner else twin.__name__
    twin.__doc__ = f"Async :meth:`{fn.__name__}`: the same call, run off the event loop."
    return twin
