"""Local read records, appended in batches (``BLOCKS_AUDIT_READS=1`` in a local registry).

A local read's record used to be a write transaction of its own, sealed on its own: four times
the read. Here the record is made at the read (its time, actor, object and outcome are fixed
then) and kept in the registry's :class:`ReadBuffer`; one transaction appends the buffered
records together, to the same one sealed chain, when any of these comes first:

* the background flusher's turn (:data:`INTERVAL` after the first record waiting, or at once
  when :data:`LIMIT` records wait);
* the commit of a change recorded in this process (the reads go in its transaction, before
  its own record, so the chain keeps this process's order);
* reading the trail in this process (``registry.audit.ls``, ``who_read``, ``verify``, ...);
* ``registry.close()`` and the interpreter's exit (``atexit``).

Only reads: writes, rotations and deletes stay in the transaction of their change (fail
closed). A read is not fail-closed locally (docs/audit.md's threat model: a key holder could
skip its reads anyway); but once a batch could not be written, every read raises
:class:`~blocks.errors.AuditUnavailable` (returns nothing) until a batch is written again, so
at most one batch goes unrecorded while the trail's storage is broken, and only if the process
ends before the storage is back.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from typing import TYPE_CHECKING, Any, Protocol

from blocks.errors import AuditUnavailable, BlocksError
from blocks.store import chain

if TYPE_CHECKING:
    from blocks.store.ports import ChainWriter, Signer


class Record(Protocol):
    """A staged audit record (:class:`blocks.store.audit_log.Pending`)."""

    def event(self, outcome: str = "allowed", error: str | None = None) -> chain.NewEvent:
        """The chain event of this record with ``outcome`` (and the error's class)."""
        ...


Entry = tuple[Record, str, str | None]
"""A buffered record: what was read by whom (filled in by the read), its outcome and error."""

log = logging.getLogger("blocks.audit")

INTERVAL = 0.2
"""Seconds a read record may wait before the flusher appends it."""
LIMIT = 256
"""Records waiting that make the flusher append at once."""
_IDLE = 5.0
"""Seconds without a record after which the flusher thread ends (it starts again on demand)."""


class ReadBuffer:
    """The read records of one local registry waiting to be appended (see the module's doc).

    Args:
        writer: the registry's store writer (its transactions, its dialect).
        sealer: the registry's :class:`~blocks.store.sealing.KeyringSealer`.
    """

    def __init__(self, writer: ChainWriter, sealer: Signer) -> None:
        self.writer, self.sealer = writer, sealer
        self._events: list[Entry] = []
        self._lock = threading.Condition(threading.Lock())
        self._flushing = threading.Lock()  # one batch at a time: the chain keeps their order
        self._thread: threading.Thread | None = None
        self._closed = False
        self.failed: str | None = None
        """The error class of the last batch that could not be written (reads then fail)."""
        self.batches = 0
        """Transactions that appended buffered records (tests and the benchmark read it)."""
        _all.add(self)
        _by_writer[id(writer)] = self

    def add(self, pending: Record, outcome: str = "allowed", error: str | None = None) -> None:
        """Keep the record of ``pending`` with ``outcome`` for the next batch (its event is
        made there, off the read's path).

        Raises:
            AuditUnavailable: the last batch could not be written and this one cannot either
                (the read returns nothing).
        """
        if self.failed is not None:
            self.flush()  # raises while the storage stays broken; else reads go on
        with self._lock:
            self._events.append((pending, outcome, error))
            if len(self._events) in (1, LIMIT):  # the first wakes the flusher, LIMIT hurries it
                self._lock.notify()
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=_run, args=(weakref.ref(self),),
                                                name="blocks-audit-reads", daemon=True)
                self._thread.start()

    def take(self) -> list[Entry]:
        """The records waiting, removed (a change's commit appends them with its own)."""
        with self._lock:
            events, self._events = self._events, []
        return events

    def piggyback(self) -> list[Entry]:
        """:meth:`take`, unless a batch is being appended right now (its records go first)."""
        if not self._flushing.acquire(blocking=False):
            return []
        try:
            return self.take()
        finally:
            self._flushing.release()

    def put_back(self, events: list[Entry]) -> None:
        """Records :meth:`take` gave whose transaction rolled back: first in the next batch."""
        if events:
            with self._lock:
                self._events[:0] = events

    def written(self) -> None:
        """A transaction holding buffered records committed."""
        self.failed = None
        self.batches += 1

    def flush(self) -> None:
        """Append every record waiting, in one transaction.

        Raises:
            AuditUnavailable: they could not be written (they stay for the next batch).
        """
        with self._flushing:
            events = self.take()
            if not events:
                self.failed = None
                return
            try:
                with self.writer.transaction() as conn:
                    append(conn, self.writer, self.sealer, events_of(events), "read")
            except Exception as exc:
                self.put_back(events)
                self.failed = type(exc).__name__
                cause = "" if isinstance(exc, AuditUnavailable) else f" ({self.failed})"
                raise AuditUnavailable(
                    f"the audit trail could not record {len(events)} read(s){cause}, so reads "
                    "are refused until it can: check that the database is writable and not "
                    "locked, then retry") from None
            self.written()

    def close(self) -> None:
        """Stop the flusher and append what waits (``registry.close()``).

        Raises:
            AuditUnavailable: the records waiting could not be written.
        """
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
            self._lock.notify()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)
        try:
            self.flush()
        finally:
            self._closed = False  # a registry used again after close() records again

    def _wait(self) -> bool:
        """Wait for a batch to gather; False when the thread should end."""
        with self._lock:
            if not self._events and not self._closed:
                self._lock.wait(_IDLE)
            if self._closed:
                return False  # close() appends what waits
            if not self._events:
                self._thread = None  # idle: end (the next record starts another)
                return False
            if len(self._events) < LIMIT:
                self._lock.wait(INTERVAL)
            return not self._closed


def events_of(entries: list[Entry]) -> list[chain.NewEvent]:
    """The chain events of buffered records."""
    return [pending.event(outcome, error) for pending, outcome, error in entries]


def append(conn: Any, writer: ChainWriter, sealer: Signer, events: list[chain.NewEvent],
           action: str) -> None:
    """Append ``events`` (a failure of the database is :class:`AuditUnavailable`): a batch of
    reads here, a change's records at its commit (:func:`blocks.store.audit_log.flush`)."""
    try:
        chain.append(conn, writer, sealer, events)
    except BlocksError:
        raise
    except Exception as exc:
        raise AuditUnavailable(
            f"the audit trail could not record the {action}, so it was not done: the "
            f"database refused the record ({type(exc).__name__}); check that the database "
            "is writable and not locked, then retry") from None


def _run(ref: weakref.ref[ReadBuffer]) -> None:
    while True:
        buffer = ref()
        if buffer is None or not buffer._wait():
            return
        try:
            buffer.flush()
        except AuditUnavailable as exc:
            log.warning("%s", exc)
        except Exception as exc:  # pragma: no cover - flush turns every failure into one
            log.warning("the audit trail's read records: %s", type(exc).__name__)
        del buffer


_all: weakref.WeakSet[ReadBuffer] = weakref.WeakSet()
_by_writer: weakref.WeakValueDictionary[int, ReadBuffer] = weakref.WeakValueDictionary()
"""By ``id(writer)``: a buffer holds its writer, so the writer outlives the entry."""


def of(writer: ChainWriter) -> ReadBuffer | None:
    """The read buffer appending through ``writer`` (``None``: reads are not buffered)."""
    found = _by_writer.get(id(writer))
    return found if found is not None and found.writer is writer else None


@atexit.register
def _at_exit() -> None:
    for buffer in list(_all):
        try:
            buffer.close()
        except Exception as exc:  # the process ends: say what was lost, in one line
            log.warning("%s", exc)


def _forget_in_child() -> None:
    """A forked child does not append its parent's records (the parent does)."""
    for buffer in list(_all):
        buffer._events = []
        buffer._thread = None
        buffer._lock = threading.Condition(threading.Lock())
        buffer._flushing = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
