"""Rotation rows: policies with their run and lease, and the audit events (SQL lives here).

The tables are defined in :mod:`blocks.rotation.tables` (alembic ``0004_rotation``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import JsonValue

from blocks.rotation.policy import RotationPolicy
from blocks.store.sql import utc

if TYPE_CHECKING:
    from blocks.store.sql import SqlStore


@dataclass
class Run:
    """A rotation in flight: the last completed step and what it made."""

    id: str
    step: str
    """Last completed step: ``start``, ``create``, ``set`` or ``test``."""
    base_version: int
    started_at: datetime
    actor: str
    pending_version: int | None = None
    cancelling: bool = False
    state: dict[str, JsonValue] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({
            "id": self.id, "step": self.step, "base_version": self.base_version,
            "started_at": self.started_at.isoformat(), "actor": self.actor,
            "pending_version": self.pending_version, "cancelling": self.cancelling,
            "state": self.state,
        })

    @classmethod
    def from_json(cls, text: str) -> Run:
        data = json.loads(text)
        data["started_at"] = utc(data["started_at"])
        return cls(**data)


@dataclass
class PolicyRecord:
    """One ``rotation_policy`` row, decoded."""

    block_id: str
    policy: RotationPolicy
    state: str
    next_due_at: datetime | None = None
    last_rotated_at: datetime | None = None
    last_error: str | None = None
    run: Run | None = None
    revoke_version: int | None = None
    revoke_due_at: datetime | None = None
    revoke_state: dict[str, JsonValue] = field(default_factory=dict)
    lease_owner: str | None = None
    lease_until: datetime | None = None
    pending_events: list[Event] = field(default_factory=list)
    """Events recorded with the next write (the engine's, not stored)."""
    released: bool = False
    """The engine's last write released the lease."""

    def take_events(self) -> list[Event]:
        """The events waiting for the next write (and forget them)."""
        events, self.pending_events = self.pending_events, []
        return events

    def is_due(self, now: datetime) -> bool:
        """Rotation due, a run to resume, or a revocation due."""
        return (
            self.run is not None
            or (self.next_due_at is not None and self.next_due_at <= now)
            or (self.revoke_due_at is not None and self.revoke_due_at <= now)
        )


@dataclass(frozen=True)
class Event:
    """One recorded step (never a secret)."""

    block_id: str
    run_id: str
    at: datetime
    actor: str
    step: str
    outcome: str
    versions: str
    error: str | None = None


_COLUMNS = ("block_id", "policy", "state", "next_due_at", "last_rotated_at", "last_error", "run",
            "revoke_version", "revoke_due_at", "revoke_state", "lease_owner", "lease_until")
_EVENT_COLUMNS = ("block_id", "run_id", "at", "actor", "step", "outcome", "versions", "error")
_TIMES = frozenset({"next_due_at", "last_rotated_at", "revoke_due_at", "lease_until", "at"})
_ALL = ("block_id, policy, state, next_due_at, last_rotated_at, last_error, run, "
        "revoke_version, revoke_due_at, revoke_state, lease_owner, lease_until")
_FREE = "(lease_owner IS NULL OR lease_until < ?)"
# Every piece is a literal of this module; concatenated only to spell the columns once.
_SQL = {
    "get": "SELECT " + _ALL + " FROM rotation_policy WHERE block_id = ?",  # noqa: S608
    "all": "SELECT " + _ALL + " FROM rotation_policy",  # noqa: S608
    "exists": "SELECT 1 FROM rotation_policy WHERE block_id = ?",
    "insert": "INSERT INTO rotation_policy (block_id, policy, next_due_at, state) "
              "VALUES (?, ?, ?, 'idle')",
    "replace": "UPDATE rotation_policy SET policy = ?, next_due_at = ? WHERE block_id = ?",
    "drop": "DELETE FROM rotation_policy WHERE block_id = ?",
    "due": "SELECT block_id FROM rotation_policy WHERE next_due_at <= ? OR run IS NOT NULL "
           "OR revoke_due_at <= ? ORDER BY next_due_at",
    # RETURNING (SQLite >= 3.35, PostgreSQL): the lease and the fresh row in one statement.
    "acquire": "UPDATE rotation_policy SET lease_owner = ?, lease_until = ? "  # noqa: S608
               "WHERE block_id = ? AND " + _FREE + " RETURNING " + _ALL,
    "steal": "UPDATE rotation_policy SET lease_owner = ?, lease_until = ? "  # noqa: S608
             "WHERE block_id = ? AND (" + _FREE + " OR lease_owner = ?) RETURNING " + _ALL,
    "event": "INSERT INTO rotation_event (block_id, run_id, at, actor, step, outcome, versions, "
             "error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "events": "SELECT block_id, run_id, at, actor, step, outcome, versions, error "
              "FROM rotation_event",
}


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
    )


@lru_cache(maxsize=256)
def _policy(text: str) -> RotationPolicy:
    """Stored policies repeat (one per schedule): parse each text once (it is frozen)."""
    return RotationPolicy.model_validate_json(text)


class RotationStore:
    """SQL on the rotation tables, on the store's DB-API connection (as the block writer).

    Each write is one short transaction (SQLite ``BEGIN IMMEDIATE``); building SQLAlchemy
    statements cost more than the commits, so the SQL is plain text, prepared once per
    connection by the driver's statement cache.
    """

    def __init__(self, store: SqlStore) -> None:
        store.ensure_schema()
        self.writer = store.writer
        self._sqlite = store.dialect == "sqlite"
        self._sql = {k: store.writer.native(v) for k, v in _SQL.items()}
        self._updates: dict[tuple[str, ...], str] = {}

    def _stamp(self, value: datetime | None) -> Any:
        return None if value is None else self.writer.stamp(value)

    def _read(self, key: str, params: Sequence[Any], extra: str = "") -> list[Any]:
        sql = self._sql[key] + (self.writer.native(extra) if extra else "")
        return list(self.writer.connection().execute(sql, tuple(params)).fetchall())

    def put_policy(self, block_id: str, policy: RotationPolicy, next_due: datetime | None) -> None:
        """Create or replace a block's policy (its run, history and lease are kept)."""
        with self.writer.transaction() as conn:
            exists = conn.execute(self._sql["exists"], (block_id,)).fetchone()
            if exists:
                conn.execute(self._sql["replace"],
                             (policy.to_json(), self._stamp(next_due), block_id))
            else:
                conn.execute(self._sql["insert"],
                             (block_id, policy.to_json(), self._stamp(next_due)))

    def drop_policy(self, block_id: str) -> bool:
        """Remove a policy; False if there was none."""
        with self.writer.transaction() as conn:
            gone = conn.execute(self._sql["drop"], (block_id,))
            return bool(gone.rowcount)

    def get(self, block_id: str) -> PolicyRecord | None:
        rows = self._read("get", (block_id,))
        return _decode(rows[0]) if rows else None

    def all(self) -> list[PolicyRecord]:
        return [_decode(r) for r in self._read("all", ())]

    def due(self, now: datetime) -> list[str]:
        """Ids of blocks with a rotation due, a run to resume or a revocation due."""
        stamp = self._stamp(now)
        return [r[0] for r in self._read("due", (stamp, stamp))]

    # -- lease ---------------------------------------------------------------------------

    def acquire(
        self, block_id: str, owner: str, now: datetime, until: datetime,
        steal_from: str | None = None,
    ) -> PolicyRecord | None:
        """Take the lease if free or expired (or held by ``steal_from``, a dead process);
        the row as it is under the lease, or ``None`` when not taken."""
        params: tuple[Any, ...] = (owner, self._stamp(until), block_id, self._stamp(now))
        key = "acquire"
        if steal_from is not None:
            params, key = (*params, steal_from), "steal"
        with self.writer.transaction() as conn:
            row = conn.execute(self._sql[key], params).fetchone()
        return _decode(row) if row else None

    def write(
        self, block_id: str, owner: str, events: Sequence[Event] = (), **values: Any
    ) -> None:
        """Update the row (only while holding the lease) and append events, in one transaction.

        Raises:
            LeaseLost: another process took the lease (this one was too slow).
        """
        keys = tuple(sorted(values))
        sql = self._updates.get(keys)
        if sql is None:
            unknown = set(keys) - set(_COLUMNS)
            if unknown:
                raise ValueError(f"not rotation_policy columns: {sorted(unknown)}")
            sets = ", ".join(f"{k} = ?" for k in keys)  # column names from code, checked above
            sql = self.writer.native("UPDATE rotation_policy SET " + sets  # noqa: S608
                                     + " WHERE block_id = ? AND lease_owner = ?")
            self._updates[keys] = sql
        params = [self._encode(k, values[k]) for k in keys]
        with self.writer.transaction() as conn:
            done = conn.execute(sql, (*params, block_id, owner))
            if not done.rowcount:
                raise LeaseLost(block_id)
            self._events(conn, events)

    def add_events(self, events: Sequence[Event]) -> None:
        with self.writer.transaction() as conn:
            self._events(conn, events)

    def _events(self, conn: Any, events: Sequence[Event]) -> None:
        if not events:
            return
        rows = [tuple(self._stamp(getattr(e, c)) if c in _TIMES else getattr(e, c)
                      for c in _EVENT_COLUMNS) for e in events]
        if len(rows) == 1:
            conn.execute(self._sql["event"], rows[0])
        else:
            conn.cursor().executemany(self._sql["event"], rows)

    def events(self, block_id: str | None = None, limit: int | None = None) -> list[Event]:
        """Recorded steps, oldest first (the newest ``limit`` of them)."""
        params: list[Any] = []
        where = ""
        if block_id is not None:
            where, params = " WHERE block_id = ?", [block_id]
        tail = " ORDER BY id DESC" + (" LIMIT ?" if limit is not None else "")
        if limit is not None:
            params.append(limit)
        rows = self._read("events", params, where + tail)
        return [Event(r[0], r[1], utc(r[2]), *r[3:]) for r in reversed(rows)]

    def _encode(self, key: str, value: Any) -> Any:
        if key == "run":
            return value.to_json() if value is not None else None
        if key == "revoke_state":
            return json.dumps(value) if value else None
        if key in _TIMES:
            return self._stamp(value)
        return value


class LeaseLost(Exception):
    """Another process holds the block's rotation lease now."""

