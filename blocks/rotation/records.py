"""Rotation rows: sealed policies with their run and lease, and the events (SQL lives here).

The policy table is defined in :mod:`blocks.rotation.tables`; the events are the ``rotation``
kind of the registry's event chain (:mod:`blocks.store.chain`). Every row is checked before
anything acts on it: a policy row whose MAC does not verify, or that is older than its block's
newest event (put back from a copy), is an :class:`~blocks.errors.IntegrityError`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from blocks.errors import IntegrityError
from blocks.rotation_types.policy import RotationPolicy
from blocks.rotation_types.rows import Event, PolicyRecord, Run
from blocks.store import chain
from blocks.store.rotation_seals import KIND, POLICY_KIND, SEALED, policy_event, policy_message
from blocks.store.sql import utc

if TYPE_CHECKING:
    from blocks.store.sealing import KeyringSealer
    from blocks.store.sql import SqlStore


_COLUMNS = ("block_id", "policy", "state", "next_due_at", "last_rotated_at", "last_error", "run",
            "revoke_version", "revoke_due_at", "revoke_state", "lease_owner", "lease_until",
            "event_seq", "mac_term", "mac")
_INDEX = {c: i for i, c in enumerate(_COLUMNS)}
_TIMES = frozenset({"next_due_at", "last_rotated_at", "revoke_due_at", "lease_until", "at"})
_ALL = ", ".join(_COLUMNS)
_SEALED_SQL = ", ".join(SEALED)
_FREE = "(lease_owner IS NULL OR lease_until < ?)"
# Every piece is a literal of this module; concatenated only to spell the columns once.
_SQL = {
    "get": "SELECT " + _ALL + " FROM rotation_policy WHERE block_id = ?",  # noqa: S608
    "all": "SELECT " + _ALL + " FROM rotation_policy",  # noqa: S608
    "sealed": "SELECT " + _SEALED_SQL + ", mac_term, mac, lease_owner "
              "FROM rotation_policy WHERE block_id = ?",
    "insert": "INSERT INTO rotation_policy (block_id, policy, next_due_at, state, event_seq, "
              "mac_term, mac) VALUES (?, ?, ?, 'idle', ?, ?, ?)",
    "replace": "UPDATE rotation_policy SET policy = ?, next_due_at = ?, event_seq = ?, "
               "mac_term = ?, mac = ? WHERE block_id = ?",
    "drop": "DELETE FROM rotation_policy WHERE block_id = ?",
    "due": "SELECT block_id FROM rotation_policy WHERE next_due_at <= ? OR run IS NOT NULL "
           "OR revoke_due_at <= ? ORDER BY next_due_at",
    # RETURNING (SQLite >= 3.35, PostgreSQL): the lease and the fresh row in one statement.
    "acquire": "UPDATE rotation_policy SET lease_owner = ?, lease_until = ? "  # noqa: S608
               "WHERE block_id = ? AND " + _FREE + " RETURNING " + _ALL,
    "steal": "UPDATE rotation_policy SET lease_owner = ?, lease_until = ? "  # noqa: S608
             "WHERE block_id = ? AND (" + _FREE + " OR lease_owner = ?) RETURNING " + _ALL,
    "release": "UPDATE rotation_policy SET lease_owner = NULL, lease_until = NULL "
               "WHERE block_id = ? AND lease_owner = ?",
    "newest": "SELECT MAX(seq) FROM event_log WHERE subject = ? AND kind IN (?, ?)",
}


def _what(block_id: str, ref: str | None = None) -> str:
    return f"the rotation policy of {ref or 'the block with id ' + block_id}"


def _check(sealer: KeyringSealer, row: Sequence[Any], ref: str | None) -> None:
    """Raise unless a ``_COLUMNS`` row authenticates (before anything of it is decoded)."""
    values = [row[_INDEX[c]] for c in SEALED]
    block_id = row[0]
    sealer.check(row[-2], row[-1], policy_message(block_id, values), _what(str(block_id), ref))


def _decode(row: Sequence[Any]) -> PolicyRecord:
    m = dict(zip(_COLUMNS, row, strict=True))
    return PolicyRecord(
        block_id=m["block_id"], policy=_policy(m["policy"]),
        state=m["state"],
        next_due_at=utc(m["next_due_at"]) if m["next_due_at"] else None,
        last_rotated_at=utc(m["last_rotated_at"]) if m["last_rotated_at"] else None,
        last_error=m["last_error"], run=Run.from_json(m["run"]) if m["run"] else None,
        revoke_version=m["revoke_version"],
        revoke_due_at=utc(m["revoke_due_at"]) if m["revoke_due_at"] else None,
        revoke_state=json.loads(m["revoke_state"]) if m["revoke_state"] else {},
        lease_owner=m["lease_owner"],
        lease_until=utc(m["lease_until"]) if m["lease_until"] else None,
        event_seq=m["event_seq"], sealed={c: m[c] for c in SEALED},
        mac=bytes(m["mac"]) if m["mac"] is not None else None,
    )


@lru_cache(maxsize=256)
def _policy(text: str) -> RotationPolicy:
    """Stored policies repeat (one per schedule): parse each text once (it is frozen)."""
    return RotationPolicy.model_validate_json(text)


class RotationStore:
    """SQL on the rotation tables, on the store's DB-API connection (as the block writer).

    Each write is one short transaction (SQLite ``BEGIN IMMEDIATE``); building SQLAlchemy
    statements cost more than the commits, so the SQL is plain text, prepared once per
    connection by the driver's statement cache. Every row read is authenticated first; every
    write re-seals the row and appends its events to the chain in the same transaction.

    Args:
        store: the registry's store.
        sealer: the registry's sealer (``Registry.sealer``).
    """

    def __init__(self, store: SqlStore, sealer: KeyringSealer) -> None:
        store.ensure_schema()
        self.writer = store.writer
        self.sealer = sealer
        self._sqlite = store.dialect == "sqlite"
        self._sql = {k: store.writer.native(v) for k, v in _SQL.items()}
        self._lock = "" if self._sqlite else " FOR UPDATE"
        self._updates: dict[tuple[str, ...], str] = {}

    def _stamp(self, value: datetime | None) -> Any:
        return None if value is None else self.writer.stamp(value)

    def _read(self, key: str, params: Sequence[Any], extra: str = "") -> list[Any]:
        sql = self._sql[key] + (self.writer.native(extra) if extra else "")
        return list(self.writer.connection().execute(sql, tuple(params)).fetchall())

    def _row(self, row: Sequence[Any], ref: str | None = None) -> PolicyRecord:
        _check(self.sealer, row, ref)
        return _decode(row)

    def _stored(self, conn: Any, block_id: str) -> Sequence[Any] | None:
        """The sealed columns (then term, MAC, lease owner), locked for this transaction."""
        row = conn.execute(self._sql["sealed"] + self._lock, (block_id,)).fetchone()
        if row is not None:
            self.sealer.check(row[-3], row[-2], policy_message(block_id, row[:len(SEALED)]),
                              _what(block_id))
        return row  # type: ignore[no-any-return]

    def _seal(self, block_id: str, values: Sequence[Any]) -> tuple[int, bytes]:
        return self.sealer.sign(policy_message(block_id, values))

    def put_policy(self, block_id: str, policy: RotationPolicy, next_due: datetime | None,
                   actor: str, now: datetime) -> None:
        """Create or replace a block's policy (its run, history and lease are kept); a new or
        changed policy is recorded in the event chain.

        Raises:
            IntegrityError: the stored row does not authenticate (it is not re-sealed).
        """
        text = policy.to_json()
        with self.writer.transaction() as conn:
            stored = self._stored(conn, block_id)
            if stored is None or stored[0] != text:
                seq = chain.append(conn, self.writer, self.sealer,
                                   [policy_event(block_id, now, actor, "set")])
            else:
                seq = stored[SEALED.index("event_seq")]
            if stored is None:
                term, mac = self._seal(block_id, (text, next_due, None, None, None, None, None,
                                                  seq))
                conn.execute(self._sql["insert"],
                             (block_id, text, self._stamp(next_due), seq, term, mac))
                return
            values = list(stored[:len(SEALED)])
            values[0], values[1], values[-1] = text, next_due, seq
            term, mac = self._seal(block_id, values)
            conn.execute(self._sql["replace"],
                         (text, self._stamp(next_due), seq, term, mac, block_id))

    def drop_policy(self, block_id: str, actor: str, now: datetime) -> bool:
        """Remove a policy (recorded in the event chain); False if there was none."""
        with self.writer.transaction() as conn:
            gone = conn.execute(self._sql["drop"], (block_id,))
            if not gone.rowcount:
                return False
            chain.append(conn, self.writer, self.sealer,
                         [policy_event(block_id, now, actor, "dropped")])
            return True

    def get(self, block_id: str, ref: str | None = None) -> PolicyRecord | None:
        """The block's policy row, authenticated (``ref`` names it in errors)."""
        rows = self._read("get", (block_id,))
        return self._row(rows[0], ref) if rows else None

    def all(self) -> list[PolicyRecord]:
        return [self._row(r) for r in self._read("all", ())]

    def due(self, now: datetime) -> list[str]:
        """Ids of blocks with a rotation due, a run to resume or a revocation due (selection
        only: each row is authenticated when its lease is taken)."""
        stamp = self._stamp(now)
        return [r[0] for r in self._read("due", (stamp, stamp))]

    # -- lease ---------------------------------------------------------------------------

    def acquire(
        self, block_id: str, owner: str, now: datetime, until: datetime,
        steal_from: str | None = None, what: str | None = None,
    ) -> PolicyRecord | None:
        """Take the lease if free or expired (or held by ``steal_from``, a dead process);
        the row as it is under the lease, or ``None`` when not taken.

        Raises:
            IntegrityError: the row does not authenticate, or is older than the block's
                newest event (the lease is given back; nothing acted on the row).
        """
        params: tuple[Any, ...] = (owner, self._stamp(until), block_id, self._stamp(now))
        key = "acquire"
        if steal_from is not None:
            params, key = (*params, steal_from), "steal"
        with self.writer.transaction() as conn:  # the row and the newest event: one moment
            row = conn.execute(self._sql[key], params).fetchone()
            newest = None if row is None else conn.execute(
                self._sql["newest"], (block_id, KIND, POLICY_KIND)).fetchone()[0]
        if row is None:
            return None
        try:
            rec = self._row(row, what)
            self._check_newest(rec, what, newest)
        except IntegrityError:
            with self.writer.transaction() as conn:
                conn.execute(self._sql["release"], (block_id, owner))
            raise
        return rec

    def _check_newest(self, rec: PolicyRecord, ref: str | None, newest: Any) -> None:
        """A row put back from an older copy names an event that is no longer the newest
        (``newest``, read in the transaction that read the row)."""
        if newest != rec.event_seq:
            raise IntegrityError(_what(rec.block_id, ref), "it is older than the block's newest "
                                 "rotation event (put back from a copy?)")

    def write(
        self, rec: PolicyRecord, owner: str, events: Sequence[Event] = (), **values: Any
    ) -> None:
        """Update the row (only while holding the lease) and append events, in one transaction.

        A write of sealed columns (or with events) seals the result over the row as ``rec``
        last saw it, replacing it only if its MAC is still the one ``rec`` holds; else (a
        policy set meanwhile) it reads the stored row under its lock, checks its MAC, and
        seals over that. A write of the lease or state alone is not sealed.

        Raises:
            LeaseLost: another process took the lease (this one was too slow).
            IntegrityError: the stored row does not authenticate (altered during the run).
        """
        block_id = rec.block_id
        keys = tuple(sorted(values))
        resealing = bool(events) or any(k in SEALED for k in keys)
        if resealing:
            keys = tuple(sorted({*keys, "event_seq", "mac_term", "mac"}))
        sql = self._updates.get(keys)
        if sql is None:
            unknown = set(keys) - set(_COLUMNS)
            if unknown:
                raise ValueError(f"not rotation_policy columns: {sorted(unknown)}")
            sets = ", ".join(f"{k} = ?" for k in keys)  # column names from code, checked above
            sql = self.writer.native("UPDATE rotation_policy SET " + sets  # noqa: S608
                                     + " WHERE block_id = ? AND lease_owner = ?"
                                     + (" AND mac = ?" if resealing else ""))
            self._updates[keys] = sql
        with self.writer.transaction() as conn:
            if not resealing:
                params = [self._encode(k, values[k]) for k in keys]
                if not conn.execute(sql, (*params, block_id, owner)).rowcount:
                    raise LeaseLost(block_id)
                return
            seq = (chain.append(conn, self.writer, self.sealer, [e.to_chain() for e in events])
                   if events else None)
            changed = {k: self._encode(k, v, stamp=False) for k, v in values.items()
                       if k in SEALED}
            base, seen = (rec.sealed, rec.mac) if rec.mac is not None else (None, None)
            for attempt in (0, 1):
                if base is None or attempt:
                    stored = self._stored(conn, block_id)
                    if stored is None or stored[-1] != owner:
                        raise LeaseLost(block_id)
                    base, seen = dict(zip(SEALED, stored, strict=False)), stored[-2]
                sealed = {**base, **changed}
                if seq is not None:
                    sealed["event_seq"] = seq
                term, mac = self._seal(block_id, [sealed[c] for c in SEALED])
                full = {**values, "event_seq": sealed["event_seq"], "mac_term": term, "mac": mac}
                params = [self._encode(k, full[k]) for k in keys]
                if conn.execute(sql, (*params, block_id, owner, seen)).rowcount:
                    rec.sealed, rec.mac = sealed, mac
                    return
            raise LeaseLost(block_id)

    def events(self, block_id: str | None = None, limit: int | None = None) -> list[Event]:
        """Recorded steps, oldest first (the newest ``limit`` of them), each authenticated.

        Raises:
            IntegrityError: an event does not authenticate.
        """
        params: list[Any] = [KIND]
        where = " WHERE kind = ?"
        if block_id is not None:
            where, params = where + " AND subject = ?", [KIND, block_id]
        tail = " ORDER BY seq DESC" + (" LIMIT ?" if limit is not None else "")
        if limit is not None:
            params.append(limit)
        found = chain.read(self.writer.connection(), self.writer, self.sealer, where, params,
                           tail)
        return [Event.from_chain(e) for e in reversed(found)]

    def chain_events(self, block_id: str) -> list[Event]:
        """The block's rotation events after checking the whole chain (every MAC, every link,
        the sealed head), so that none was deleted, edited or reordered.

        Raises:
            IntegrityError: the chain does not verify (``blocks verify`` lists the problems).
        """
        found = chain.verified(self.writer, self.sealer)
        return [Event.from_chain(e) for e in found if e.kind == KIND and e.subject == block_id]

    def _encode(self, key: str, value: Any, stamp: bool = True) -> Any:
        if key == "run":
            return value.to_json() if value is not None else None
        if key == "revoke_state":
            return json.dumps(value) if value else None
        if key in _TIMES and stamp:
            return self._stamp(value)
        return value


class LeaseLost(Exception):
    """Another process holds the block's rotation lease now."""

