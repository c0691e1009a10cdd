"""The server's worker threads: where a request's database work waits, never on the event loop.

:func:`run` hands a call to one of the server's own threads and awaits its result. It does
what Starlette's ``run_in_threadpool`` does for the hot path at about half the cost per call
(profiled: anyio's capacity limiter, its per-call bookkeeping and ``queue.Queue``'s condition
variable): the threads read one C ``SimpleQueue``, and each result goes back to the loop with
one ``call_soon_threadsafe``. The caller's context variables go with the call (as with
``run_in_threadpool``), so what the request set around it is seen in the thread.

Threads are started as they are needed, up to :data:`MAX_THREADS` per process: a call that
finds every started thread busy starts another one, so a stalled database holds at most the
threads of the requests that wait on it, and the others (and the loop) go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, ParamSpec, TypeVar

from blocks._async import _deliver  # one way to hand a thread's result to the loop

P = ParamSpec("P")
T = TypeVar("T")

MAX_THREADS = 40
"""The most worker threads a server process starts (Starlette's default, too)."""

_Job = tuple[contextvars.Context, Callable[..., Any], tuple[Any, ...],
             asyncio.AbstractEventLoop, "asyncio.Future[Any]"]
_jobs: SimpleQueue[_Job] = SimpleQueue()
_lock = threading.Lock()
_started = 0  # threads started
_idle = 0  # threads waiting for a job that no queued job has claimed yet
_waiting = 0  # queued jobs that no thread has claimed yet (every thread busy, at the most)


def _work() -> None:
    global _idle, _waiting
    while True:
        job = _jobs.get()
        context, fn, args, loop, future = job
        try:
            result, error = context.run(fn, *args), None
        except BaseException as exc:  # handed to the awaiting request, raised there
            result, error = None, exc
        # RuntimeError: the loop was closed while the call ran, so nobody is waiting.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_deliver, future, result, error)
        del job, context, fn, args, future, result, error
        with _lock:
            if _waiting > 0:
                _waiting -= 1  # this thread takes a queued job next
            else:
                _idle += 1


def _make_room() -> None:
    """Claim an idle thread for the next job, or start one (fewer than :data:`MAX_THREADS`
    run), or let the job wait for the first thread that finishes."""
    global _started, _idle, _waiting
    with _lock:
        if _idle > 0:
            _idle -= 1
            return
        if _started >= MAX_THREADS:
            _waiting += 1
            return
        _started += 1
    threading.Thread(target=_work, name=f"blocks-server-worker-{_started}", daemon=True).start()


async def run(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args)`` in a worker thread, awaited; its exception is raised here."""
    if kwargs:
        raise TypeError("blocks.server.threads.run takes positional arguments only")
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    _make_room()
    _jobs.put((contextvars.copy_context(), fn, args, loop, future))
    return await future
