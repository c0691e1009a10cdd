"""Async twins of the sync API: each runs the one sync core, off the event loop when it waits.

``aload``/``asave``/... and the async I/O methods of the types (``S3Bucket.aread_path``...) are
thin wrappers over the sync core, so there is one code path to keep right, and the event loop
never waits on the database, the key provider or the network.

``aload`` first runs the load on the loop in the mode of :mod:`blocks._nowait`, where every
step that could wait (a SQLite lock, a key-provider call, a PostgreSQL round trip, first-use
set-up) raises instead; only then does it go to a worker thread. A load that waits for nothing
takes tens of microseconds, and any thread hand-off costs more than that on a busy machine
(``benchmarks/prefect_dropin_bench.py`` measures the choices: inline, our workers,
``asyncio.to_thread``). Writes and the types' network I/O always go to a worker.

The workers are our own few threads reading one ``SimpleQueue``, and each result goes back
with one ``call_soon_threadsafe``, about half of what ``loop.run_in_executor``/``to_thread``
add. Context variables are not carried over to the worker (the sync core uses none).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable
from datetime import timedelta
from queue import SimpleQueue
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from blocks._block_base import BlockProtocol, _registry
from blocks._nowait import WouldBlock, without_waiting

if TYPE_CHECKING:
    # Named as the signatures show them (help(Block.asave)): the protocols of what a block and
    # a registry offer, as the twins call them.
    from blocks._block_base import BlockProtocol as Block
    from blocks._block_base import BlockRegistry as Registry
    from blocks.store.records import VersionInfo

P = ParamSpec("P")
T = TypeVar("T")
B = TypeVar("B", bound=BlockProtocol)

WORKERS = 4
_Job = tuple[Callable[[], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]
_jobs: SimpleQueue[_Job] = SimpleQueue()
_started = 0
_start_lock = threading.Lock()


def _deliver(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _work() -> None:
    while True:
        call, loop, future = _jobs.get()
        try:
            result, error = call(), None
        except BaseException as exc:  # handed to the awaiting task, raised there
            result, error = None, exc
        # RuntimeError: the loop was closed while the job ran, so nobody is waiting.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_deliver, future, result, error)
        del call, future, result, error


def _ensure_workers() -> None:
    global _started
    if _started < WORKERS:
        with _start_lock:
            while _started < WORKERS:
                threading.Thread(target=_work, name=f"blocks-async-{_started}",
                                 daemon=True).start()
                _started += 1


async def run_sync(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn(*args, **kwargs)`` on a worker thread and await its result."""
    _ensure_workers()
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    call = functools.partial(fn, *args, **kwargs) if kwargs else functools.partial(fn, *args)
    _jobs.put((call, loop, future))
    return await future


class AsyncTwins:
    """``aload``/``asave``/``adelete``/``ahistory``/``arollback``, mixed into ``Block``.

    The ``self``/``cls`` annotations name :class:`~blocks._block_base.BlockProtocol`, the
    members of ``Block`` (which subclasses this mixin) that the twins call.
    """

    @classmethod
    async def aload(
        cls: type[B],
        name: str,
        *,
        version: int | None = None,
        validate: bool = True,
        registry: Registry | None = None,
    ) -> B:
        """``await S3Bucket.aload("data-lake")``: :meth:`load` without blocking the loop."""
        chosen = _registry(registry)
        if chosen.loads_on_loop:
            try:
                with without_waiting():
                    return cls.load(name, version=version, validate=validate, registry=chosen)
            except WouldBlock:
                pass  # a step would wait: run it where waiting is harmless
        return await run_sync(cls.load, name, version=version, validate=validate, registry=chosen)

    async def asave(
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
    async def adelete(
        cls: type[BlockProtocol], name: str, *, registry: Registry | None = None,
        recovery_window: timedelta | int | str | None = None,
    ) -> None:
        """:meth:`delete` without blocking the event loop."""
        await run_sync(cls.delete, name, registry=registry, recovery_window=recovery_window)

    @classmethod
    async def ahistory(
        cls: type[BlockProtocol], name: str, *, registry: Registry | None = None
    ) -> list[VersionInfo]:
        """:meth:`history` without blocking the event loop."""
        return await run_sync(cls.history, name, registry=registry)

    @classmethod
    async def arollback(
        cls: type[BlockProtocol],
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
