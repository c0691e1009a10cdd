"""Async twins of the sync API: each runs the one sync core on a worker thread.

``aload``/``asave``/... and the async I/O methods of the types (``S3Bucket.aread_path``...) are
thin wrappers over this, so there is one code path to keep right, and the event loop never
waits on the database, the key provider or the network. ``benchmarks/prefect_dropin_bench.py``
measures this against ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, ParamSpec, TypeVar

if TYPE_CHECKING:
    from blocks.core import Block
    from blocks.registry import Registry, VersionInfo

P = ParamSpec("P")
T = TypeVar("T")
B = TypeVar("B", bound="Block")

# Our own pool rather than the loop's default one: Prefect and other libraries queue long
# blocking work on the default executor, and a load should not wait behind it.
_MAX_WORKERS = 8
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(_MAX_WORKERS, thread_name_prefix="blocks-async")
    return _pool


async def run_sync(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn(*args, **kwargs)`` on a worker thread and await its result."""
    loop = asyncio.get_running_loop()
    call = functools.partial(fn, *args, **kwargs) if kwargs else functools.partial(fn, *args)
    return await loop.run_in_executor(_executor(), call)


class AsyncTwins:
    """``aload``/``asave``/``adelete``/``ahistory``/``arollback``, mixed into ``Block``.

    The ``self``/``cls`` annotations name ``Block`` (which subclasses this mixin); mypy cannot
    see that relation from here, hence the ``misc`` ignores.
    """

    @classmethod
    async def aload(  # type: ignore[misc]
        cls: type[B],
        name: str,
        *,
        version: int | None = None,
        validate: bool = True,
        registry: Registry | None = None,
    ) -> B:
        """``await S3Bucket.aload("data-lake")``: :meth:`load` without blocking the loop."""
        return await run_sync(
            cls.load, name, version=version, validate=validate, registry=registry
        )

    async def asave(  # type: ignore[misc]
        self: Block,
        name: str | None = None,
        *,
        overwrite: bool = False,
        expected_version: int | None = None,
        registry: Registry | None = None,
    ) -> VersionInfo:
        """:meth:`save` without blocking the event loop."""
        return await run_sync(
            self.save, name, overwrite=overwrite, expected_version=expected_version,
            registry=registry,
        )

    @classmethod
    async def adelete(  # type: ignore[misc]
        cls: type[Block], name: str, *, registry: Registry | None = None
    ) -> None:
        """:meth:`delete` without blocking the event loop."""
        await run_sync(cls.delete, name, registry=registry)

    @classmethod
    async def ahistory(  # type: ignore[misc]
        cls: type[Block], name: str, *, registry: Registry | None = None
    ) -> list[VersionInfo]:
        """:meth:`history` without blocking the event loop."""
        return await run_sync(cls.history, name, registry=registry)

    @classmethod
    async def arollback(  # type: ignore[misc]
        cls: type[Block],
        name: str,
        version: int,
        *,
        expected_version: int | None = None,
        registry: Registry | None = None,
    ) -> VersionInfo:
        """:meth:`rollback` without blocking the event loop."""
        return await run_sync(
            cls.rollback, name, version, expected_version=expected_version, registry=registry
        )
