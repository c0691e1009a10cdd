"""Group commit of the server's own audit records: one writer thread per process appends the
records of every request waiting at that moment in ONE transaction.

Each record is an event of the registry's one sealed chain (:mod:`blocks.store.audit_log`);
an append moves the chain's head under the write lock, so records appended one transaction
each would serialise every request on that lock and a commit apiece. Here a request hands its
record to :meth:`AuditBatcher.record` and waits (without holding the event loop) until the
transaction holding it has committed: a record that could not be written is
:class:`~blocks.errors.AuditUnavailable` for every request of that batch, before any of them
answers (fail closed). While one batch commits, the next one gathers.

Over SQLite the batch is first tried on the event loop itself (:meth:`AuditBatcher._on_loop`):
the records of every request answering in one turn of the loop go in one transaction on a
connection that never waits (no busy timeout, inside ``blocks._nowait.without_waiting``; no
WAL checkpoint, which the writer thread runs now and then). Any step that would wait (another
writer holds the lock, a key to fetch) hands the batch to the writer thread instead. This
saves the two thread hand-offs per batch, which cost more than the append itself (issue 21:
audit on >= 0.8x audit off).

While the writer thread checkpoints, the loop hands its batches to the thread too, queued
behind the checkpoint: SQLite starts the WAL file over only when a write begins after a
checkpoint that copied every frame back, with no commit in between. Commits on the loop during
each checkpoint meant it never started over under steady load (41 MB of WAL after 3,000
records, ~14 KB a request, without bound).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING, Any

from blocks._nowait import WouldBlock, without_waiting
from blocks.errors import AuditUnavailable
from blocks.store import audit_log, chain, generation

if TYPE_CHECKING:
    from blocks.registry import Registry
    from blocks.store.audit_log import Pending

MAX_BATCH = 512
"""The most records one transaction appends."""
CHECKPOINT_EVERY = 200
"""Transactions on the loop between two WAL checkpoints (run by the writer thread)."""
_CHECKPOINT = "checkpoint"

_Job = tuple[Callable[[], "Pending"], str, str | None, asyncio.AbstractEventLoop,
             "asyncio.Future[None]"]


def _refused(cause: str) -> AuditUnavailable:
    return AuditUnavailable(
        "the audit trail could not record this request, so it was not answered: the "
        f"database refused the record ({cause}); check that it is writable and not locked, "
        "then retry")


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
        self._jobs: SimpleQueue[_Job | str | None] = SimpleQueue()
        self._gathered: list[_Job] = []
        self._loop_conn: Any = None
        self._since_checkpoint = 0
        self.on_loop = registry.store.dialect == "sqlite"
        """Try each batch on the event loop first (SQLite)."""
        self.loop_batches = 0
        """Of :attr:`batches`, those committed on the event loop."""
        self._checkpointing = False
        """A checkpoint is queued or running: the loop's batches go to the thread after it."""
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
        job = (make, outcome, error, loop, future)
        if self.on_loop:
            self._gathered.append(job)
            if len(self._gathered) == 1:  # the requests answering in this turn join it
                loop.call_soon(self._on_loop)
        else:
            self._to_thread([job])
        await future

    def _to_thread(self, jobs: list[_Job]) -> None:
        self._start()
        for job in jobs:
            self._jobs.put(job)

    def _on_loop(self) -> None:
        """Append the gathered records here, on the loop, if nothing has to wait; else hand
        them to the writer thread."""
        batch, self._gathered = self._gathered, []
        if self._checkpointing:  # written after the checkpoint, so the WAL starts over
            self._to_thread(batch)
            return
        try:
            with without_waiting():
                self._append_now(batch)
        except (WouldBlock, sqlite3.OperationalError):
            self._to_thread(batch)  # a lock or a key to fetch: where waiting is harmless
            return
        except Exception as exc:  # the database refused: every request of the batch fails
            for job in batch:
                _deliver(job[4], _refused(type(exc).__name__))
            return
        self.batches += 1
        self.loop_batches += 1
        for job in batch:
            _deliver(job[4], None)
        self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY:
            self._since_checkpoint = 0
            self._checkpointing = True
            self._start()
            self._jobs.put(_CHECKPOINT)

    def _append_now(self, batch: list[_Job]) -> None:
        """One transaction on the loop's connection; raises ``WouldBlock`` or SQLite's
        "database is locked" (nothing written) when a step would wait."""
        registry = self._registry
        writer = registry.store.writer
        pendings = [make() for make, _, _, _, _ in batch]
        events = [p.event(outcome, err)
                  for p, (_, outcome, err, _, _) in zip(pendings, batch, strict=True)]
        conn = self._connection()
        with generation.exempt(conn):  # audit records only: nothing memoised depends on them
            conn.execute("BEGIN IMMEDIATE")
            try:
                chain.append(conn, writer, registry.sealer, events)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _connection(self) -> Any:
        """The loop thread's own reading connection (inside ``without_waiting``: no busy
        timeout), with no automatic WAL checkpoint. The loads answered on the loop read
        through it too: its own audit records leave their memos valid (a commit from another
        connection would move its :func:`~blocks.store.generation.mark` every request, and
        empty its page cache)."""
        conn = self._registry.store.writer.connection()
        if conn is not self._loop_conn:
            conn.execute("PRAGMA wal_autocheckpoint = 0")
            self._loop_conn = conn
        return conn

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
        self._loop_conn = None  # the store's connection: the store closes it

    def _run(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            batch: list[_Job] = []
            stop = checkpointed = False
            job: _Job | str | None = first
            while True:
                if job is None:
                    stop = True
                    break
                if isinstance(job, str):
                    self._checkpoint()
                    checkpointed = True
                else:
                    batch.append(job)
                if len(batch) >= MAX_BATCH:
                    break
                try:
                    job = self._jobs.get_nowait()
                except Empty:
                    break
            if batch:
                self._write(batch)
            if checkpointed:  # the loop may append again (a batch it queues meanwhile waits)
                self._checkpointing = False
            if stop:
                return

    def _checkpoint(self) -> None:
        """Move the WAL into the database (the loop's commits do not; nothing waits here)."""
        with contextlib.suppress(Exception):  # a reader in the way: the next one does it
            self._registry.store.writer.connection().execute("PRAGMA wal_checkpoint(PASSIVE)")

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
            error = None if cause is None else _refused(cause)
            # RuntimeError: the loop closed meanwhile, nobody waits for this one.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_deliver, future, error)
