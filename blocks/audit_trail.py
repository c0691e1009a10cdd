"""``registry.audit``: record, list, verify and prune the audit trail of a local registry.

The records are events of kind ``audit`` in the registry's one sealed event chain
(:mod:`blocks.store.audit_log`); the registry records its own writes, rotations, deletes and
access changes in the transaction of the change (:meth:`AuditTrail.recording`), and its reads
when :attr:`AuditTrail.reads` is on (``BLOCKS_AUDIT_READS=1``, or the server turns it on).

Example:
    >>> from blocks import Registry
    >>> registry = Registry()                                          # doctest: +SKIP
    >>> registry.audit.who_read("secret/warehouse", since="30d")       # doctest: +SKIP
    [ReadCount(identity='token:etl', count=12, last_at=datetime(...))]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from blocks.audit_actor import Actor, current_actor
from blocks.audit_report import AuditReport, ReadCount, parse_since
from blocks.core import split_ref
from blocks.errors import (
    AuditUnavailable,
    BlocksError,
    IntegrityError,
    InvalidArgument,
    RegistryNotFound,
)
from blocks.store import audit_buffer, audit_log, audit_prune, chain
from blocks.store.audit_log import OUTCOMES, AuditEntry, Pending

if TYPE_CHECKING:
    from blocks.crypto.keyring import Keyring
    from blocks.settings import Settings
    from blocks.store.sealing import KeyringSealer
    from blocks.store.sql import SqlStore

__all__ = ["AuditEntry", "AuditReport", "AuditTrail", "ReadCount", "parse_since"]

READ_ACTIONS = ("read",)


class AuditedRegistry(Protocol):
    """What :class:`AuditTrail` uses of its local registry (``blocks.registry.Registry``)."""

    settings: Settings
    store: SqlStore
    _clock: Callable[[], datetime]

    @property
    def sealer(self) -> KeyringSealer:
        """The sealer that MACs the chain's events."""
        ...

    @property
    def keyring(self) -> Keyring:
        """The keyring holding the audit hash key."""
        ...


class AuditTrail:
    """The audit trail of a local registry (``registry.audit``).

    Args:
        registry: the registry whose chain holds the records.
    """

    def __init__(self, registry: AuditedRegistry) -> None:
        self._registry = registry
        self.reads: bool = registry.settings.audit_reads
        """Record reads too (``BLOCKS_AUDIT_READS=1``; ``blocks server`` turns it on)."""
        self._key: audit_log.HashKey | None = None
        self._buffer: audit_buffer.ReadBuffer | None = None
        self._ids: dict[str, str] = {}
        """Actors' ids and their hashes (the audit hash key never changes)."""

    buffers_reads = True
    """Local reads are appended in batches (:mod:`blocks.store.audit_buffer`); the server's
    trail says False (its reads are fail-closed, each before its answer)."""

    # -- writing ---------------------------------------------------------------------------

    def _pending(self, action: str, kind: str, obj: str, version: int | None,
                 stage: str | None, pool: str | None, detail: Mapping[str, Any] | None,
                 subject: str = "") -> Pending:
        return self._pending_as(current_actor(), action, kind, obj, version, stage, pool,
                                detail, subject)

    def _pending_as(self, actor: Actor, action: str, kind: str, obj: str,
                    version: int | None, stage: str | None, pool: str | None,
                    detail: Mapping[str, Any] | None, subject: str = "") -> Pending:
        """A record of ``action`` by ``actor``: its id (a token's) stored as its HMAC, and a
        ``bytes`` value of ``detail`` too."""
        if actor.id is not None and not actor.id.startswith(audit_log.HASH_PREFIX):
            hashed = self._ids.get(actor.id)  # a server sees the same few tokens all day
            if hashed is None:
                hashed = self.hash(actor.id.encode())
                if len(self._ids) >= 1024:
                    self._ids.clear()
                self._ids[actor.id] = hashed
            actor = Actor(actor.kind, actor.name, hashed, actor.via, actor.source,
                          actor.request_id)
        if detail and any(isinstance(v, bytes) for v in detail.values()):
            plain = {k: (self.hash(v) if isinstance(v, bytes) else v) for k, v in detail.items()}
        else:
            plain = dict(detail) if detail else {}
        return Pending(action, kind, obj, actor, self._registry._clock(), version, stage, pool,
                       plain, subject)

    def record(self, action: str, *, kind: str = "blocks", obj: str,
               outcome: str = "allowed", error: str | None = None, version: int | None = None,
               stage: str | None = None, detail: Mapping[str, Any] | None = None,
               pool: str | None = None) -> None:
        """Append one record, in its own transaction, as the current actor.

        ``detail`` holds names, never values: a ``bytes`` value in it is stored as its HMAC
        (see :meth:`hash`).

        Raises:
            AuditUnavailable: the record could not be written.
            InvalidArgument: ``outcome`` is not allowed, denied or error.
        """
        if outcome not in OUTCOMES:
            raise InvalidArgument(f"outcome must be one of {', '.join(OUTCOMES)}, got "
                                  f"{outcome[:40]!r}")
        registry = self._registry
        pending = self._pending(action, kind, obj, version, stage, pool, detail)
        audit_log.write_now(registry.store.writer, registry.sealer, pending, outcome, error)

    @contextmanager
    def recording(self, action: str, *, kind: str = "blocks", obj: str,
                  version: int | None = None, stage: str | None = None,
                  pool: str | None = None, detail: Mapping[str, Any] | None = None,
                  subject: str = "") -> Iterator[Pending | None]:
        """Record the operation inside the ``with`` block: in the transaction of its change
        (the store's commit appends it), else on exit in its own transaction (a read, or a
        failure with its error class). Inside another recorded operation it adds nothing.

        Raises:
            AuditUnavailable: the record could not be written (the change is not made; a read
                returns nothing).
        """
        if audit_log.active():
            yield None
            return
        registry = self._registry
        pending = self._pending(action, kind, obj, version, stage, pool, detail, subject)
        with audit_log.staged(pending):
            try:
                yield pending
            except BaseException as exc:
                if (not pending.written and isinstance(exc, Exception)
                        and not isinstance(exc, RegistryNotFound)):
                    # the operation failed anyway: its own error is the answer (no record
                    # where there is no registry: writing one would create it)
                    with suppress(BlocksError):
                        audit_log.write_now(registry.store.writer, registry.sealer, pending,
                                            audit_log.outcome_of(exc), type(exc).__name__)
                raise
            if not pending.written:
                audit_log.write_now(registry.store.writer, registry.sealer, pending)

    @contextmanager
    def reading(self, action: str, *, kind: str = "blocks", obj: str,
                version: int | None = None, stage: str | None = None,
                pool: str | None = None, detail: Mapping[str, Any] | None = None
                ) -> Iterator[Pending | None]:
        """Record a read inside the ``with`` block: as :meth:`recording`, but locally the
        record waits in the registry's read buffer for the next batch (see
        :mod:`blocks.store.audit_buffer`) instead of a transaction of its own.

        Raises:
            AuditUnavailable: the last batch could not be written, nor can this one be.
        """
        if not self.buffers_reads or audit_log.active():
            with self.recording(action, kind=kind, obj=obj, version=version, stage=stage,
                                pool=pool, detail=detail) as found:
                yield found
            return
        pending = self._pending(action, kind, obj, version, stage, pool, detail)
        buffer = self._buffer or self._read_buffer()
        try:
            with audit_log.staged(pending):  # added after: a flush's commit must not take it
                yield pending
        except BaseException as exc:
            if (not pending.written and isinstance(exc, Exception)
                    and not isinstance(exc, RegistryNotFound)):
                with suppress(BlocksError):
                    buffer.add(pending, audit_log.outcome_of(exc), type(exc).__name__)
            raise
        if not pending.written:
            buffer.add(pending)

    def _read_buffer(self) -> audit_buffer.ReadBuffer:
        registry = self._registry
        buffer = self._buffer = audit_buffer.ReadBuffer(registry.store.writer, registry.sealer)
        return buffer

    def flush(self) -> None:
        """Append the read records waiting in this process (reading the trail does it first;
        ``registry.close()`` and the interpreter's exit too).

        Raises:
            AuditUnavailable: they could not be written.
        """
        if self._buffer is not None:
            self._buffer.flush()

    def _flush_first(self) -> None:
        """Before reading the trail: this process's reads waiting go in (if they cannot, the
        trail is read as stored, and reads are refused until they can)."""
        if self._buffer is not None:
            with suppress(AuditUnavailable):
                self._buffer.flush()

    def close(self) -> None:
        """Stop the read buffer's flusher once what waits is appended (``registry.close()``).

        Raises:
            AuditUnavailable: the records waiting could not be written.
        """
        if self._buffer is not None:
            self._buffer.close()

    # -- reading ---------------------------------------------------------------------------

    def ls(self, ref: str | None = None, actor: str | None = None,
           since: datetime | str | None = None, action: str | None = None,
           denied: bool = False, limit: int | None = None, *,
           oldest_first: bool = False, cursor: int | None = None) -> Iterator[AuditEntry]:
        """The records matching every filter given, newest first (``oldest_first``: in
        order), each authenticated; a stream (``export`` reads millions in constant memory).

        ``ref``: ``slug/name`` (also found after a rename, by the block's id); ``actor``: a
        name, ``kind:name``, or an id (or its ``hmac-sha256:`` hash); ``since``: see
        :func:`parse_since`; ``denied``: refused requests only; ``cursor``: continue after
        the record with that number (a page of ``GET /v1/audit``).

        Raises:
            IntegrityError: a record does not authenticate.
            InvalidArgument: a filter is malformed.
        """
        if limit is not None and limit < 1:
            raise InvalidArgument(f"limit must be at least 1, got {limit}")
        start = parse_since(since)
        where, params = "", []
        registry = self._registry
        self._flush_first()
        if start is not None:
            where += " AND at >= ?"
            params.append(registry.store.writer.stamp(start))
        subject = ""
        if ref is not None:
            subject = self._block_id(ref)
            where += " AND (subject = ? OR body LIKE ?)"
            params += [subject or "-", f'%"name":{_quoted(ref)}%']
        if action is not None:
            where += " AND body LIKE ?"
            params.append(f'%"action":{_quoted(action)}%')
        actor_ids = self._actor_keys(actor)
        count = 0
        for entry in audit_log.scan(registry.store.writer, registry.sealer, where=where,
                                    params=tuple(params), oldest_first=oldest_first,
                                    cursor=cursor):
            if ref is not None and entry.obj != ref and not (
                    subject and entry.kind == "blocks"):
                continue
            if action is not None and entry.action != action:
                continue
            if denied and entry.outcome != "denied":
                continue
            if actor_ids and not ({entry.actor.name, entry.actor.label(), entry.actor.id}
                                  & actor_ids):
                continue
            yield entry
            count += 1
            if limit is not None and count >= limit:
                return

    def who_read(self, ref: str, since: datetime | str | None = None) -> list[ReadCount]:
        """Who read ``ref`` (its value) since ``since``: each identity with its count and last
        read, most reads first. Complete in server mode; locally, with reads recorded."""
        counts: dict[str, list[Any]] = {}
        for entry in self.ls(ref, since=since, action="read"):
            if entry.outcome != "allowed":
                continue
            found = counts.setdefault(entry.actor.label(), [0, entry.at])
            found[0] += 1
            found[1] = max(found[1], entry.at)
        return sorted((ReadCount(k, v[0], v[1]) for k, v in counts.items()),
                      key=lambda r: (-r.count, r.identity))

    def verify(self) -> AuditReport:
        """Check the whole chain (every MAC, link and the sealed head and checkpoint)."""
        started = time.perf_counter()
        registry = self._registry
        writer, sealer = registry.store.writer, registry.sealer
        self._flush_first()
        report = AuditReport()
        with chain.snapshot(writer) as conn:
            _, report.problems, (report.head, report.digest) = chain.walk_to(
                conn, writer, sealer, keep=lambda kind: False)
            report.events, report.records = (int(v or 0) for v in conn.execute(writer.native(
                "SELECT COUNT(*), SUM(CASE WHEN kind = ? THEN 1 ELSE 0 END) FROM event_log"),
                (audit_log.KIND,)).fetchone())
            try:
                found = chain.checkpoint(conn, writer, sealer)
            except IntegrityError:
                found = None
            report.pruned_through = found[0][0] if found else 0
        report.seconds = time.perf_counter() - started
        return report

    def prune(self, before: datetime | str) -> int:
        """Delete the audit records older than ``before`` and seal a checkpoint, so what is
        left still verifies; rotation events are kept. Returns how many were deleted.

        Raises:
            IntegrityError: the chain does not verify now (nothing is deleted).
        """
        when = parse_since(before, what="--before")
        assert when is not None
        registry = self._registry
        self._flush_first()
        with self.recording("prune", kind="audit", obj="audit",
                            detail={"before": when.isoformat()}):
            return audit_prune.prune(registry.store.writer, registry.sealer, when)

    def hash(self, value: bytes) -> str:
        """``hmac-sha256:<hex>`` of ``value`` under the audit hash key: compare it with the
        hashed values of the records (a token id) without storing the value."""
        if self._key is None:
            registry = self._registry
            self._key = audit_log.HashKey(registry.store.writer, registry.keyring)
        return self._key.hash(value)

    def hash_key(self) -> audit_log.HashKey:
        """The audit hash key's store (``keys rewrap`` moves it)."""
        self.hash(b"")
        assert self._key is not None
        return self._key

    # -- internals -------------------------------------------------------------------------

    def _block_id(self, ref: str) -> str:
        slug, name = split_ref(ref)
        found = self._registry.store.summary(slug, name)
        return found.id if found is not None else ""

    def _actor_keys(self, actor: str | None) -> set[str | None]:
        if not actor:
            return set()
        keys: set[str | None] = {actor}
        if not actor.startswith(audit_log.HASH_PREFIX):
            keys.add(self.hash(actor.encode()))
        return keys


def _quoted(value: str) -> str:
    """``value`` as the record's JSON spells it, with LIKE's wildcards left as they are (a
    broader match is filtered again exactly)."""
    import json

    return json.dumps(value, ensure_ascii=False)
