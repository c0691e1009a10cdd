"""Group commit of the server's own audit records: one writer thread per process appends the
records of every request waiting at that moment in ONE transaction.

Each record is an event of the registry's one sealed chain (:mod:`blocks.store.audit_log`);
an append moves the chain's head under the write lock, so records appended one transaction
each would serialise every request on that lock and a commit apiece. Here a request hands its
record to :meth:`AuditBatcher.record` and waits (without holding the event loop) until the
transaction holding it has committed: a record that could not be written is
:class:`~blocks.errors.AuditUnavailable` for every request of that batch, before any of them
answers (fail closed). While one batch commits, the next one gathers.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING

from blocks.errors import AuditUnavailable
from blocks.store import audit_log

if TYPE_CHECKING:
    from blocks.registry import Registry
    from blocks.store.audit_log import Pending

MAX_BATCH = 512
"""The most records one transaction appends."""

_Job = tuple[Callable[[], "Pending"], str, str | None, asyncio.AbstractEventLoop,
             "asyncio.Future[None]"]


def _deliver(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


class AuditBatcher:
    """Appends audit records for the requests of one server process, in batches.

    Args:
        registry: the server's (local) registry: its store's writer and its sealer.
    """

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._jobs: SimpleQueue[_Job | None] = SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        """Transactions committed (tests and the benchmark read it)."""

    async def record(self, make: Callable[[], Pending], outcome: str = "allowed",
                     error: str | None = None) -> None:
        """Append the record ``make()`` returns (called in the writer thread: the first one
        may read the audit hash key) with ``outcome`` (and the error's class), and wait for
        the commit.

        Raises:
            AuditUnavailable: the record was not written (nothing may be answered but 503).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._start()
        self._jobs.put((make, outcome, error, loop, future))
        await future

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="blocks-audit-writer",
                                                daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Stop the writer thread once the records handed to it are written."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)
            thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    job = self._jobs.get_nowait()
                except Empty:
                    break
                if job is None:
                    stop = True
                    break
                batch.append(job)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[_Job]) -> None:
        registry = self._registry
        writer = registry.store.writer
        cause: str | None = None
        try:
            pendings = [make() for make, _, _, _, _ in batch]
            events = [p.event(outcome, err)
                      for p, (_, outcome, err, _, _) in zip(pendings, batch, strict=True)]
            with writer.transaction() as conn:
                audit_log.append(conn, writer, registry.sealer, events, pendings[0].action)
            self.batches += 1
        except Exception as exc:  # the database refused: every request of the batch fails
            cause = type(exc).__name__
        for _, _, _, loop, future in batch:
            error = None
            if cause is not None:
                error = AuditUnavailable(
                    "the audit trail could not record this request, so it was not answered: "
                    f"the database refused the record ({cause}); check that it is writable "
                    "and not locked, then retry")
            # RuntimeError: the loop closed meanwhile, nobody waits for this one.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_deliver, future, error)
