"""The event chain: one append-only, hash-linked list of sealed events for the whole registry.

Rotation records its steps here (kind ``rotation``, subject the block id); the audit trail of
later kinds extends the same chain. Each event's MAC covers the SHA-256 of its content, which
holds the previous event's digest; the chain head (table ``event_chain``) seals the newest
event's number and digest. So deleting, editing, reordering or inserting an event, or cutting
off the tail, is found by :func:`walk` (``blocks verify``). The exact bytes are defined in
:mod:`blocks.crypto.integrity`. Appending takes the head's row lock (PostgreSQL ``FOR UPDATE``;
SQLite's write transaction holds the database), so concurrent writers link one after another.

Functions here run on the store's DB-API connection inside :meth:`Writer.transaction`.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from blocks.crypto import integrity
from blocks.errors import IntegrityError
from blocks.store.sql import utc

if TYPE_CHECKING:
    from blocks.store.sealing import KeyringSealer
    from blocks.store.writer import Writer

NAME = "events"
"""The registry's one chain (``event_chain.name``)."""

WHAT = "the event log"

_COLUMNS = "seq, prev, kind, subject, at, actor, body, mac_term, mac"


@dataclass(frozen=True)
class NewEvent:
    """An event to append: what kind, about which record, when, by whom, and its JSON body."""

    kind: str
    subject: str
    at: datetime
    actor: str
    body: str


@dataclass(frozen=True)
class ChainEvent:
    """A stored event whose MAC authenticated."""

    seq: int
    kind: str
    subject: str
    at: datetime
    actor: str
    body: str
    digest: str = ""
    """SHA-256 (hex) of its content: what the next event links to."""


def at_text(value: Any) -> str:
    """A timestamp as the MAC covers it: ISO 8601 in UTC with microseconds."""
    return utc(value).astimezone(UTC).isoformat(timespec="microseconds")


def digest_of(seq: int, prev: str, kind: str, subject: str, at: str, actor: str,
              body: str) -> str:
    """The SHA-256 (hex) of an event's content: what the next event links to."""
    return hashlib.sha256(integrity.event_content(seq, prev, kind, subject, at, actor, body)
                          ).hexdigest()


def event_mac_message(digest: str) -> Callable[[int], bytes]:
    """What an event's MAC covers (its content digest)."""
    return lambda t: integrity.event_message(digest, t)


def head_mac_message(name: str, seq: Any, digest: Any) -> Callable[[int], bytes]:
    """What a chain head's MAC covers."""
    return lambda t: integrity.chain_message(name, seq, digest, t)


def row_digest(row: Sequence[Any]) -> str | None:
    """The content digest of a stored row (``_COLUMNS`` order); ``None`` if a field is not
    of its type (it cannot authenticate)."""
    seq, prev, kind, subject, at, actor, body = row[:7]
    if not (type(seq) is int and all(type(v) is str for v in (prev, kind, subject, actor, body))
            and at is not None):
        return None
    try:
        stamp = at_text(at)
    except IntegrityError:
        return None
    return digest_of(seq, prev, kind, subject, stamp, actor, body)


def authentic(sealer: KeyringSealer, row: Sequence[Any]) -> str | None:
    """The digest of a stored event row if it authenticates on its own (its link is checked
    by walk), else ``None``."""
    digest = row_digest(row)
    if digest is None or not sealer.valid(row[7], row[8], event_mac_message(digest)):
        return None
    return digest


def _head(conn: Any, writer: Writer, sealer: KeyringSealer, lock: bool) -> tuple[int, str]:
    sql = writer.native("SELECT seq, digest, mac_term, mac FROM event_chain WHERE name = ?")
    row = conn.execute(sql + (" FOR UPDATE" if lock and not writer.sqlite else ""),
                       (NAME,)).fetchone()
    if row is None:
        raise IntegrityError(WHAT, "its sealed head is missing")
    seq, digest, term, mac = row
    sealer.check(term, mac, head_mac_message(NAME, seq, digest), f"{WHAT} (its head)")
    return int(seq), str(digest)


def start(conn: Any, writer: Writer, sealer: KeyringSealer) -> None:
    """Create the empty chain's sealed head (once, when the schema is first sealed)."""
    found = conn.execute(writer.native("SELECT 1 FROM event_chain WHERE name = ?"),
                         (NAME,)).fetchone()
    if found is None:
        term, mac = sealer.sign(head_mac_message(NAME, 0, ""))
        conn.execute(writer.native(
            "INSERT INTO event_chain (name, seq, digest, mac_term, mac) VALUES (?, 0, '', ?, ?)"
        ), (NAME, term, mac))


_heads: weakref.WeakKeyDictionary[Writer, tuple[int, str]] = weakref.WeakKeyDictionary()
"""The head this process last wrote or verified, per writer: an append moves it with a
compare-and-set on its number and digest instead of reading and verifying it first; a head
moved by anyone else fails the compare and is read and verified."""


def append(conn: Any, writer: Writer, sealer: KeyringSealer, events: Sequence[NewEvent]) -> int:
    """Append ``events`` in order inside the caller's transaction; returns the last ``seq``.

    Raises:
        IntegrityError: the chain's head is missing or does not authenticate (nothing is
            appended to a chain that was altered).
    """
    known = _heads.get(writer)
    if not events:
        return _head(conn, writer, sealer, lock=False)[0] if known is None else known[0]
    move = writer.native("UPDATE event_chain SET seq = ?, digest = ?, mac_term = ?, mac = ? "
                         "WHERE name = ? AND seq = ? AND digest = ?")
    for attempt in (0, 1):
        if known is None or attempt:
            known = _head(conn, writer, sealer, lock=True)
        seq, digest = known
        rows = []
        for event in events:
            seq += 1
            new = digest_of(seq, digest, event.kind, event.subject, at_text(event.at),
                            event.actor, event.body)
            term, mac = sealer.sign(event_mac_message(new))
            rows.append((seq, digest, event.kind, event.subject, writer.stamp(event.at),
                         event.actor, event.body, term, mac))
            digest = new
        term, mac = sealer.sign(head_mac_message(NAME, seq, digest))
        if conn.execute(move, (seq, digest, term, mac, NAME, *known)).rowcount:
            break
        _heads.pop(writer, None)  # moved by another process (or never read): read and verify
    else:  # pragma: no cover - the head read under the lock always matches
        raise IntegrityError(WHAT, "its head moved during an append")
    insert = writer.native(f"INSERT INTO event_log ({_COLUMNS}) "  # noqa: S608
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
    if len(rows) == 1:
        conn.execute(insert, rows[0])
    else:
        conn.cursor().executemany(insert, rows)
    _heads[writer] = (seq, digest)  # a rollback leaves it stale: the next compare fails
    return seq


def read(conn: Any, writer: Writer, sealer: KeyringSealer, where: str = "",
         params: Sequence[Any] = (), tail: str = "") -> list[ChainEvent]:
    """Events selected by ``where`` (SQL of the caller's constants), each authenticated on its
    own (for listings; :func:`walk` checks the links).

    Raises:
        IntegrityError: an event does not authenticate.
    """
    sql = writer.native(f"SELECT {_COLUMNS} FROM event_log{where}{tail}")  # noqa: S608
    found = []
    for row in conn.execute(sql, tuple(params)).fetchall():
        digest = authentic(sealer, row)
        if digest is None:
            raise IntegrityError(f"{WHAT} (event {row[0]})")
        found.append(ChainEvent(row[0], row[2], row[3], utc(row[4]), row[5], row[6], digest))
    return found


def walk(conn: Any, writer: Writer, sealer: KeyringSealer, after: int = 0, digest: str = ""
         ) -> tuple[list[ChainEvent], list[str]]:
    """Check the whole chain: every MAC, every link, no gap, the head. Returns the events that
    authenticated in order, and a description of each problem (never a stored value).

    ``after``/``digest``: start after an event already verified (its number and digest)."""
    problems: list[str] = []
    try:
        head_seq, head_digest = _head(conn, writer, sealer, lock=False)
    except IntegrityError as exc:
        problems.append("its head " + ("is missing" if "missing" in str(exc)
                                       else "does not authenticate"))
        head_seq, head_digest = -1, ""
    events: list[ChainEvent] = []
    expected = after + 1
    rows = conn.execute(writer.native(
        f"SELECT {_COLUMNS} FROM event_log WHERE seq > ? ORDER BY seq"), (after,)  # noqa: S608
    ).fetchall()
    for row in rows:
        seq = row[0]
        if seq != expected:
            problems.append(f"event {expected} is missing (next is {seq}) or out of order")
            expected = seq if type(seq) is int else expected
        if row[1] != digest:
            problems.append(f"event {seq} does not follow the event before it")
        own = row_digest(row)
        if own is None or not sealer.valid(row[7], row[8], event_mac_message(own)):
            problems.append(f"event {seq} does not authenticate (edited or inserted)")
            digest = own or ""
        else:
            events.append(ChainEvent(seq, row[2], row[3], utc(row[4]), row[5], row[6], own))
            digest = own
        expected += 1
    last = rows[-1][0] if rows else after
    if head_seq >= 0 and (last != head_seq or digest != head_digest):
        problems.append(f"its sealed head names event {head_seq} but the log ends at "
                        f"event {last} (events deleted, or added outside Blocks)")
    return events, problems


@contextmanager
def snapshot(writer: Writer) -> Iterator[Any]:
    """A read transaction on the DB-API connection that sees one state of the database (the
    head and the events it names, though writers commit meanwhile)."""
    conn = writer.connection()
    if writer.sqlite:
        conn.execute("BEGIN")  # deferred: a WAL read snapshot, no write lock
        try:
            yield conn
        finally:
            conn.execute("COMMIT")
        return
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield conn


_verified: weakref.WeakKeyDictionary[Writer, tuple[int, str, list[ChainEvent]]] = (
    weakref.WeakKeyDictionary())


def verified(writer: Writer, sealer: KeyringSealer) -> list[ChainEvent]:
    """Every event, after checking the chain whole up to its sealed head.

    A process keeps the events it verified and, on the next call, checks only those appended
    since (they must link onto the last one it verified), so a Terraform run that reads many
    rotated resources walks the chain once.

    Raises:
        IntegrityError: the chain does not verify (``blocks verify`` lists every problem).
    """
    seq, digest, known = _verified.get(writer, (0, "", []))
    with snapshot(writer) as conn:
        found, problems = walk(conn, writer, sealer, seq, digest)
    if problems:
        _verified.pop(writer, None)
        raise IntegrityError(WHAT, problems[0])
    if found:
        known = [*known, *found]
        _verified[writer] = (found[-1].seq, found[-1].digest, known)
    return known
