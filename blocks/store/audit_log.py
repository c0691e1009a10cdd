"""The audit trail's records: events of kind ``audit`` in the registry's one event chain.

A record says who (:class:`blocks.audit_actor.Actor`) did what (``action``) to which object
(its kind, ``slug/name``, version, stage, pool), with which outcome and error class, and when;
never a value. A value that must be searchable (a token id) is an HMAC-SHA256 under the audit
hash key (:class:`HashKey`).

A change and its record go in one transaction: the registry stages a :class:`Pending` record
(:func:`staged`), and the store's commit hook (:func:`flush`, called by
:meth:`Writer.transaction` and by the SQLAlchemy engine's commit) appends it to the chain on
the same connection before the commit. If the append fails, the change is rolled back and
:class:`~blocks.errors.AuditUnavailable` is raised. Local reads wait in a buffer and are
appended in batches (:mod:`blocks.store.audit_buffer`); a change's commit takes them along.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from blocks.audit_actor import Actor
from blocks.errors import AuditUnavailable, BlocksError, IntegrityError
from blocks.store import audit_buffer, chain
from blocks.store.audit_buffer import append as append  # the commits append as the batches do
from blocks.store.records import utc

if TYPE_CHECKING:
    from blocks.crypto.keyring import Keyring
    from blocks.store.ports import ChainWriter, Sealer, Signer

KIND = chain.AUDIT
OUTCOMES = ("allowed", "denied", "error")
HASH_PREFIX = "hmac-sha256:"
HASH_STATE = "audit-hash-key"
"""The ``registry_state`` row holding the audit hash key, wrapped by a keyring term."""
_HASH_AAD = b"blocks-audit-hash-key/v1"


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


@dataclass
class Pending:
    """A record to append: filled in while the operation runs, appended at its commit."""

    action: str
    kind: str
    obj: str
    actor: Actor
    at: datetime
    version: int | None = None
    stage: str | None = None
    pool: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    subject: str = ""
    written: bool = False

    def event(self, outcome: str = "allowed", error: str | None = None) -> chain.NewEvent:
        """The chain event of this record with ``outcome`` (and the error's class)."""
        return chain.NewEvent(KIND, self.subject[:36], self.at, self.actor.label(),
                              self.body(outcome, error))

    def body(self, outcome: str = "allowed", error: str | None = None) -> str:
        """The record's JSON: what ``_json`` makes of the same fields (sorted keys, compact),
        written out directly (a record is made for every request and every save)."""
        detail = self.detail
        return (f'{{"action":{_str(self.action)},"actor":{_actor_json(self.actor)},'
                f'"detail":{_detail_json(detail) if detail else "{}"},"error":{_opt(error)},'
                f'"object":{{"kind":{_str(self.kind)},"name":{_str(self.obj)},'
                f'"pool":{_opt(self.pool)},"stage":{_opt(self.stage)},'
                f'"version":{_int(self.version)}}},"outcome":{_str(outcome)}}}')


_str = json.encoder.encode_basestring
"""A JSON string as ``json.dumps(..., ensure_ascii=False)`` writes it (C)."""


def _detail_json(detail: dict[str, Any]) -> str:
    """``_json(detail)``, written out directly when every key is a string and every value a
    string or an int (a request's method and status); else ``_json``."""
    if not all(type(key) is str for key in detail):
        return _json(detail)
    parts = []
    for key in sorted(detail):
        value = detail[key]
        kind = type(value)
        if kind is not str and kind is not int:
            return _json(detail)
        parts.append(f"{_str(key)}:{_str(value) if kind is str else value}")
    return "{" + ",".join(parts) + "}"


def _opt(value: Any) -> str:
    return "null" if value is None else _str(value) if type(value) is str else _json(value)


def _int(value: Any) -> str:
    return "null" if value is None else str(value) if type(value) is int else _json(value)


def _actor_json(actor: Actor) -> str:
    """``_json(actor.to_json())``, written out directly (a server's actors differ in their
    request ids, so each record has its own)."""
    kind, name, via = actor.kind, actor.name, actor.via
    if type(kind) is not str or type(name) is not str or type(via) is not str:
        return _json(actor.to_json())
    return (f'{{"id":{_opt(actor.id)},"kind":{_str(kind)},"name":{_str(name)},'
            f'"request_id":{_opt(actor.request_id)},"source":{_opt(actor.source)},'
            f'"via":{_str(via)}}}')


@dataclass(frozen=True)
class AuditEntry:
    """One authenticated audit record (``blocks audit ls``)."""

    seq: int
    at: datetime
    actor: Actor
    action: str
    kind: str
    obj: str
    version: int | None
    stage: str | None
    pool: str | None
    outcome: str
    error: str | None
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The record as JSON (``--json``, ``export --jsonl``, ``GET /v1/audit``)."""
        return {"seq": self.seq, "at": self.at.isoformat(), "actor": self.actor.to_json(),
                "action": self.action, "object": {"kind": self.kind, "name": self.obj,
                                                  "version": self.version, "stage": self.stage,
                                                  "pool": self.pool},
                "outcome": self.outcome, "error": self.error, "detail": self.detail}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditEntry:
        """The record :meth:`to_json` wrote (a client reading ``GET /v1/audit``)."""
        obj = data.get("object") or {}
        return cls(int(data["seq"]), utc(datetime.fromisoformat(str(data["at"]))),
                   Actor.from_json(data.get("actor")), str(data.get("action")),
                   str(obj.get("kind")), str(obj.get("name")), obj.get("version"),
                   obj.get("stage"), obj.get("pool"), str(data.get("outcome")),
                   data.get("error"), dict(data.get("detail") or {}))

    @classmethod
    def from_event(cls, event: chain.ChainEvent) -> AuditEntry:
        """The record an authenticated chain event holds."""
        body = json.loads(event.body)
        return cls.from_json({**body, "seq": event.seq, "at": event.at.isoformat()})


# -- staging records for the transaction of the change ----------------------------------------

_pending: ContextVar[tuple[Pending, ...]] = ContextVar("blocks_audit_pending", default=())


def has_pending() -> bool:
    """True while a record waits for its operation's commit (cheap: one context lookup)."""
    return any(not p.written for p in _pending.get())


def active() -> bool:
    """True inside an operation already being recorded (nested operations add no record)."""
    return bool(_pending.get())


@contextmanager
def staged(pending: Pending) -> Iterator[Pending]:
    """Stage ``pending`` for the commit of the operation inside the ``with`` block."""
    token = _pending.set((*_pending.get(), pending))
    try:
        yield pending
    finally:
        _pending.reset(token)


def annotate(*, subject: str | None = None, version: int | None = None) -> None:
    """Fill in what the writer knows inside the transaction (the block's id, the version)."""
    for pending in _pending.get():
        if not pending.written:
            if subject is not None:
                pending.subject = subject
            if version is not None and pending.version is None:
                pending.version = version


def flush(conn: Any, writer: ChainWriter, sealer: Signer | None) -> None:
    """Append the staged records to the chain on ``conn``, inside its transaction.

    Raises:
        AuditUnavailable: the records could not be written (the transaction rolls back).
        IntegrityError: the chain's head does not authenticate.
    """
    waiting = [p for p in _pending.get() if not p.written]
    if not waiting or sealer is None:
        return
    buffer = audit_buffer.of(writer)
    reads = buffer.piggyback() if buffer is not None else []
    try:
        append(conn, writer, sealer,
               [*audit_buffer.events_of(reads), *(p.event() for p in waiting)],
               waiting[0].action)
    except BaseException:
        if buffer is not None:
            buffer.put_back(reads)
        raise
    if buffer is not None and reads:
        buffer.written()
    for pending in waiting:
        pending.written = True


def write_now(writer: ChainWriter, sealer: Signer, pending: Pending, outcome: str = "allowed",
              error: str | None = None) -> None:
    """Append one record in its own transaction (a read, or an operation that failed)."""
    try:
        with writer.transaction() as conn:
            append(conn, writer, sealer, [pending.event(outcome, error)], pending.action)
            pending.written = True  # not again by this transaction's commit hook
    except (AuditUnavailable, IntegrityError):
        pending.written = False
        raise
    except Exception as exc:  # the lock timed out (RegistryLockedError), the commit failed
        pending.written = False
        raise AuditUnavailable(
            f"the audit trail could not record the {pending.action}, so it was not done: "
            f"{type(exc).__name__}; retry") from None


def outcome_of(exc: BaseException) -> str:
    """``denied`` for a refusal of access, else ``error``."""
    names = {c.__name__ for c in type(exc).__mro__}
    return "denied" if names & {"Forbidden", "Unauthorized", "PermissionError"} else "error"


# -- reading ---------------------------------------------------------------------------------

_PAGE = 500


def scan(writer: ChainWriter, sealer: Sealer, *, where: str = "", params: tuple[Any, ...] = (),
         oldest_first: bool = False, cursor: int | None = None) -> Iterator[AuditEntry]:
    """Every audit record matching ``where`` (SQL of the caller's constants), each
    authenticated, newest first (or oldest first), read a page at a time (constant memory);
    ``cursor``: start after (oldest first) or before (newest first) that event number.

    Raises:
        IntegrityError: a record does not authenticate.
    """
    op, order = (">", "ASC") if oldest_first else ("<", "DESC")
    sql = writer.native(  # every piece is a constant of this module or of its callers
        "SELECT seq, prev, kind, subject, at, actor, body, mac_term, mac FROM event_log "  # noqa: S608
        f"WHERE kind = ? AND seq {op} ?{where} ORDER BY seq {order} LIMIT {_PAGE}")
    mark = cursor if cursor is not None else (0 if oldest_first else 2**62)
    while True:
        rows = writer.connection().execute(sql, (KIND, mark, *params)).fetchall()
        for row in rows:
            digest = chain.authentic(sealer, row)
            if digest is None:
                raise IntegrityError(f"{chain.WHAT} (event {row[0]})")
            yield AuditEntry.from_event(chain.ChainEvent(
                row[0], row[2], row[3], utc(row[4]), row[5], row[6], digest))
        if len(rows) < _PAGE:
            return
        mark = rows[-1][0]


# -- the audit hash key ----------------------------------------------------------------------


class HashKey:
    """The key of the searchable HMACs: 32 random bytes, wrapped by a keyring term in
    ``registry_state`` (``keys rewrap`` moves it to the current term; ``keys retire`` refuses
    a term that still wraps it), so hashes stay comparable across key rotations."""

    def __init__(self, writer: ChainWriter, keyring: Keyring) -> None:
        self.writer, self.keyring = writer, keyring
        self._key: bytes | None = None
        self._lock = threading.Lock()

    def hash(self, value: bytes) -> str:
        """``hmac-sha256:<hex>`` of ``value``."""
        return HASH_PREFIX + hmac.new(self.key(), value, hashlib.sha256).hexdigest()

    def key(self) -> bytes:
        """The key (created on first use)."""
        if self._key is None:
            with self._lock:
                if self._key is None:
                    self._key = self._load() or self._create()
        return self._key

    def _read(self) -> tuple[int, bytes] | None:
        row = self.writer.connection().execute(self.writer.native(
            "SELECT value FROM registry_state WHERE name = ?"), (HASH_STATE,)).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        return int(data["term"]), base64.b64decode(data["wrapped"])

    def _load(self) -> bytes | None:
        found = self._read()
        if found is None:
            return None
        return self.keyring.unwrap_data_key(found[0], found[1], _HASH_AAD)

    def _create(self) -> bytes:
        key = os.urandom(32)
        term, wrapped = self.keyring.wrap_data_key(key, _HASH_AAD)
        value = _json({"term": term, "wrapped": base64.b64encode(wrapped).decode()})
        with self.writer.transaction() as conn:
            if conn.execute(self.writer.native(
                    "SELECT 1 FROM registry_state WHERE name = ?"), (HASH_STATE,)).fetchone():
                created = None
            else:
                conn.execute(self.writer.native(
                    "INSERT INTO registry_state (name, value) VALUES (?, ?)"),
                    (HASH_STATE, value))
                created = key
        return created if created is not None else (self._load() or key)

    def opens(self) -> bool:
        """False when a stored key does not open (altered outside Blocks); True when it opens
        or there is none yet (``blocks verify``)."""
        try:
            self._load()
        except (BlocksError, ValueError, KeyError, TypeError):
            return False
        return True

    def term(self) -> int | None:
        """The keyring term that wraps the key (``None`` before the first hash)."""
        found = self._read()
        return None if found is None else found[0]

    def rewrap(self, sources: list[int]) -> bool:
        """Move the key under the current term if one of ``sources`` wraps it."""
        found = self._read()
        if found is None or found[0] not in sources:
            return False
        moved = self.keyring.rewrap_data_keys([(found[0], found[1], _HASH_AAD)])[0]
        if moved is None:
            raise IntegrityError("the audit hash key", "does not open (altered outside Blocks?)")
        value = _json({"term": moved[0], "wrapped": base64.b64encode(moved[1]).decode()})
        with self.writer.transaction() as conn:
            conn.execute(self.writer.native(
                "UPDATE registry_state SET value = ? WHERE name = ?"), (value, HASH_STATE))
        return True


def now() -> datetime:
    """The time a record is stamped with."""
    return datetime.now(UTC)
