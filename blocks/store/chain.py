"""The event chain: one append-only, hash-linked list of sealed events for the whole registry.

Rotation records its steps here (kind ``rotation``, subject the block id); the audit trail of
later kinds extends the same chain. Each event's MAC covers the SHA-256 of its content, which
holds the previous event's digest; the chain head (table ``event_chain``) seals the newest
event's number and digest. So deleting, editing, reordering or inserting an event, or cutting
off the tail, is found by :func:`walk` (``blocks verify``). The exact bytes are defined in
:mod:`blocks.crypto.integrity`. Appending takes the head's row lock (PostgreSQL ``FOR UPDATE``;
SQLite's write transaction holds the database), so concurrent writers link one after another.

Functions here run on the store's DB-API connection inside :meth:`Writer.transaction`; they
take the writer and the sealer as :mod:`blocks.store.ports` describes them.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from blocks.crypto import integrity
from blocks.errors import IntegrityError
from blocks.store.records import utc

if TYPE_CHECKING:
    from blocks.store.ports import ChainWriter, Sealer, Signer

NAME = "events"
"""The registry's one chain (``event_chain.name``)."""

WHAT = "the event log"

_COLUMNS = "seq, prev, kind, subject, at, actor, body, mac_term, mac"


class NewEvent(NamedTuple):
    """An event to append: what kind, about which record, when, by whom, and its JSON body
    (a named tuple: one is made for every request a server records)."""

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
    if type(value) is datetime and value.tzinfo is UTC:  # a new event's: already UTC
        return value.isoformat(timespec="microseconds")
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


def authentic(sealer: Sealer, row: Sequence[Any]) -> str | None:
    """The digest of a stored event row if it authenticates on its own (its link is checked
    by walk), else ``None``."""
    digest = row_digest(row)
    if digest is None or not sealer.valid(row[7], row[8], event_mac_message(digest)):
        return None
    return digest


def _head(conn: Any, writer: ChainWriter, sealer: Signer, lock: bool) -> tuple[int, str]:
    sql = writer.native("SELECT seq, digest, mac_term, mac FROM event_chain WHERE name = ?")
    row = conn.execute(sql + (" FOR UPDATE" if lock and not writer.sqlite else ""),
                       (NAME,)).fetchone()
    if row is None:
        raise IntegrityError(WHAT, "its sealed head is missing")
    seq, digest, term, mac = row
    sealer.check(term, mac, head_mac_message(NAME, seq, digest), f"{WHAT} (its head)")
    return int(seq), str(digest)


def start(conn: Any, writer: ChainWriter, sealer: Signer) -> None:
    """Create the empty chain's sealed head (once, when the schema is first sealed)."""
    found = conn.execute(writer.native("SELECT 1 FROM event_chain WHERE name = ?"),
                         (NAME,)).fetchone()
    if found is None:
        term, mac = sealer.sign(head_mac_message(NAME, 0, ""))
        conn.execute(writer.native(
            "INSERT INTO event_chain (name, seq, digest, mac_term, mac) VALUES (?, 0, '', ?, ?)"
        ), (NAME, term, mac))


_heads: weakref.WeakKeyDictionary[ChainWriter, tuple[int, str]] = weakref.WeakKeyDictionary()
"""The head this process last wrote or verified, per writer: an append moves it with a
compare-and-set on its number and digest instead of reading and verifying it first; a head
moved by anyone else fails the compare and is read and verified."""


def append(conn: Any, writer: ChainWriter, sealer: Signer, events: Sequence[NewEvent]) -> int:
    """Append ``events`` in order inside the caller's transaction; returns the last ``seq``.

    Raises:
        IntegrityError: the chain's head is missing or does not authenticate (nothing is
            appended to a chain that was altered).
    """
    known = _heads.get(writer)
    if not events:
        return _head(conn, writer, sealer, lock=False)[0] if known is None else known[0]
    move = writer.native(_MOVE)
    one = len(events) == 1 and not writer.sqlite  # PostgreSQL: one round trip, not two
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
        if one:  # the head's compare-and-set and the insert in one statement
            if conn.execute(writer.native(_MOVE_AND_INSERT),
                            (seq, digest, term, mac, NAME, *known, *rows[0])).rowcount:
                _heads[writer] = (seq, digest)
                return seq
        elif conn.execute(move, (seq, digest, term, mac, NAME, *known)).rowcount:
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


_MOVE = ("UPDATE event_chain SET seq = ?, digest = ?, mac_term = ?, mac = ? "
         "WHERE name = ? AND seq = ? AND digest = ?")
_MOVE_AND_INSERT = (f"WITH moved AS ({_MOVE} RETURNING 1) "  # noqa: S608 - constants
                    f"INSERT INTO event_log ({_COLUMNS}) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? "
                    "FROM moved")


def read(conn: Any, writer: ChainWriter, sealer: Sealer, where: str = "",
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


CHECKPOINT = "events:pruned"
"""The sealed checkpoint of a prune (``event_chain`` row): the number and digest of the newest
event removed, so the events after it still link."""
KEPT = "events:kept"
"""The events a prune kept at or before the checkpoint (rotation's): their count and the
SHA-256 of their numbers and digests, sealed (``event_chain`` row)."""


def kept_digest(pairs: Sequence[tuple[int, str]]) -> str:
    """The digest a :data:`KEPT` row seals: of the kept events' numbers and digests, in order."""
    text = "".join(f"{seq}:{digest}\n" for seq, digest in pairs)
    return hashlib.sha256(text.encode()).hexdigest()


def checkpoint(conn: Any, writer: ChainWriter, sealer: Signer
               ) -> tuple[tuple[int, str], tuple[int, str]] | None:
    """The sealed prune checkpoint ``((seq, digest), (kept count, kept digest))``, if any.

    Raises:
        IntegrityError: one of its rows is missing or does not authenticate.
    """
    rows = {r[0]: r for r in conn.execute(writer.native(
        "SELECT name, seq, digest, mac_term, mac FROM event_chain WHERE name IN (?, ?)"),
        (CHECKPOINT, KEPT)).fetchall()}
    if not rows:
        return None
    found = []
    for name in (CHECKPOINT, KEPT):
        row = rows.get(name)
        if row is None:
            raise IntegrityError(WHAT, "half of its prune checkpoint is missing")
        sealer.check(row[3], row[4], head_mac_message(name, row[1], row[2]),
                     f"{WHAT} (its prune checkpoint)")
        found.append((int(row[1]), str(row[2])))
    return found[0], found[1]


AUDIT = "audit"
"""The kind of the audit trail's records (:mod:`blocks.store.audit_log`)."""


def _everything(kind: str) -> bool:
    return True


def _not_audit(kind: str) -> bool:
    return kind != AUDIT


def walk(conn: Any, writer: ChainWriter, sealer: Sealer, after: int = 0, digest: str = "",
         keep: Callable[[str], bool] = _everything) -> tuple[list[ChainEvent], list[str]]:
    """:func:`walk_to` without the position it ended at."""
    events, problems, _ = walk_to(conn, writer, sealer, after, digest, keep)
    return events, problems


def walk_to(conn: Any, writer: ChainWriter, sealer: Sealer, after: int = 0, digest: str = "",
            keep: Callable[[str], bool] = _everything
            ) -> tuple[list[ChainEvent], list[str], tuple[int, str]]:
    """Check the whole chain: every MAC, every link, no gap, the head. Returns the events that
    authenticated in order (those whose kind ``keep`` accepts), and a description of each
    problem (never a stored value). Rows are read as a stream: memory does not grow with the
    number of events ``keep`` drops.

    ``after``/``digest``: start after an event already verified (its number and digest);
    from the start, a prune's sealed checkpoint is where the links begin."""
    problems: list[str] = []
    try:
        head_seq, head_digest = _head(conn, writer, sealer, lock=False)
    except IntegrityError as exc:
        problems.append("its head " + ("is missing" if "missing" in str(exc)
                                       else "does not authenticate"))
        head_seq, head_digest = -1, ""
    events: list[ChainEvent] = []
    base = 0
    kept_want: tuple[int, str] | None = None
    if after == 0:
        try:
            found = checkpoint(conn, writer, sealer)
        except IntegrityError as exc:
            problems.append(str(exc).split(": ", 1)[-1].split(";")[0])
            found = None
        if found is not None:
            (base, base_digest), kept_want = found
            after, digest = base, base_digest
    kept: list[tuple[int, str]] = []
    expected = after + 1
    cursor = conn.execute(writer.native(
        f"SELECT {_COLUMNS} FROM event_log WHERE seq > ? ORDER BY seq"),  # noqa: S608
        (0 if kept_want is not None else after,))
    last: Any = after
    while True:
        batch = cursor.fetchmany(2000)
        if not batch:
            break
        for row in batch:
            seq = row[0]
            own = row_digest(row)
            ok = own is not None and sealer.valid(row[7], row[8], event_mac_message(own))
            if kept_want is not None and type(seq) is int and seq <= base:
                if not ok:
                    problems.append(f"event {seq} does not authenticate (edited or inserted)")
                else:
                    kept.append((seq, own or ""))
                    if keep(row[2]):
                        events.append(ChainEvent(seq, row[2], row[3], utc(row[4]), row[5],
                                                 row[6], own or ""))
                continue
            last = seq
            if seq != expected:
                problems.append(f"event {expected} is missing (next is {seq}) or out of order")
                expected = seq if type(seq) is int else expected
            if row[1] != digest:
                problems.append(f"event {seq} does not follow the event before it")
            if not ok:
                problems.append(f"event {seq} does not authenticate (edited or inserted)")
                digest = own or ""
            else:
                if keep(row[2]):
                    events.append(ChainEvent(seq, row[2], row[3], utc(row[4]), row[5], row[6],
                                             own or ""))
                digest = own or ""
            expected += 1
    if kept_want is not None and (len(kept), kept_digest(kept)) != kept_want:
        problems.append("the events kept by its last prune were deleted, edited or added to "
                        "(they do not match its sealed checkpoint)")
    if head_seq >= 0 and (last != head_seq or digest != head_digest):
        problems.append(f"its sealed head names event {head_seq} but the log ends at "
                        f"event {last} (events deleted, or added outside Blocks)")
    return events, problems, (int(last) if type(last) is int else 0, digest)


@contextmanager
def snapshot(writer: ChainWriter) -> Iterator[Any]:
    """A read transaction on the DB-API connection that sees one state of the database (the
    head and the events it names, though writers commit meanwhile); inside a transaction
    already open on it (a write holding the lock), that one."""
    conn = writer.connection()
    if _in_transaction(conn, writer.sqlite):
        yield conn
        return
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


def _in_transaction(conn: Any, sqlite: bool) -> bool:
    return bool(conn.in_transaction) if sqlite else conn.info.transaction_status.name != "IDLE"


_verified: weakref.WeakKeyDictionary[ChainWriter, tuple[int, str, list[ChainEvent]]] = (
    weakref.WeakKeyDictionary())


def verified(writer: ChainWriter, sealer: Sealer) -> list[ChainEvent]:
    """Every event, after checking the chain whole up to its sealed head.

    A process keeps the events it verified (all but the audit trail's records) and, on the
    next call, checks only those appended since (they must link onto the last one it
    verified), so a Terraform run that reads many rotated resources walks the chain once.

    Raises:
        IntegrityError: the chain does not verify (``blocks verify`` lists every problem).
    """
    seq, digest, known = _verified.get(writer, (0, "", []))
    with snapshot(writer) as conn:
        try:
            pruned = checkpoint(conn, writer, sealer)
        except IntegrityError:
            pruned = None  # the walk from the start reports it
        if seq and pruned is not None and pruned[0][0] > seq:
            seq, digest, known = 0, "", []  # pruned since: check again from its checkpoint
        found, problems, last = walk_to(conn, writer, sealer, seq, digest, keep=_not_audit)
    if problems:
        _verified.pop(writer, None)
        raise IntegrityError(WHAT, problems[0])
    if found:
        known = [*known, *found]
    if last[0] != seq:
        _verified[writer] = (last[0], last[1], known)
    return known
