"""Rotation rows: policies with their run and lease, and the audit events (SQL lives here)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import JsonValue

from blocks.rotation.policy import RotationPolicy
from blocks.rotation.tables import RotationEventRow, RotationPolicyRow
from blocks.store.sql import utc

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

policy_table: Any = RotationPolicyRow.__table__  # type: ignore[attr-defined]
event_table: Any = RotationEventRow.__table__  # type: ignore[attr-defined]


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


def _decode(row: Any) -> PolicyRecord:
    m = row._mapping
    return PolicyRecord(
        block_id=m["block_id"], policy=RotationPolicy.model_validate_json(m["policy"]),
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


@cache
def _update(keys: tuple[str, ...]) -> Any:
    """``UPDATE rotation_policy SET <keys> WHERE block_id AND lease_owner`` (built once)."""
    from sqlalchemy import bindparam, update

    c = policy_table.c
    return (update(policy_table)
            .where(c.block_id == bindparam("p_id"), c.lease_owner == bindparam("p_owner"))
            .values({k: bindparam(f"v_{k}") for k in keys}))


@cache
def _statements() -> dict[str, Any]:
    from sqlalchemy import bindparam, insert, or_, select, update

    c = policy_table.c
    free = or_(c.lease_owner.is_(None), c.lease_until < bindparam("p_now"))
    take = update(policy_table).values(lease_owner=bindparam("p_owner"),
                                       lease_until=bindparam("p_until"))
    return {
        "get": select(policy_table).where(c.block_id == bindparam("p_id")),
        "acquire": take.where(c.block_id == bindparam("p_id"), free),
        "steal": take.where(c.block_id == bindparam("p_id"),
                            or_(free, c.lease_owner == bindparam("p_dead"))),
        "event": insert(event_table),
    }


class RotationStore:
    """SQL on the rotation tables, through the registry's store engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._held: Connection | None = None

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Reuse one connection for every statement inside (a run of many small writes)."""
        if self._held is not None:
            yield
            return
        with self.engine.connect() as conn:
            self._held = conn
            try:
                yield
            finally:
                self._held = None

    @contextlib.contextmanager
    def _connect(self) -> Iterator[Connection]:
        if self._held is None:
            with self.engine.connect() as conn:
                yield conn
        else:
            with self._begin() as conn:  # a held connection must not stay in a transaction
                yield conn

    @contextlib.contextmanager
    def _begin(self) -> Iterator[Connection]:
        if self._held is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._held.begin():
            yield self._held

    def put_policy(self, block_id: str, policy: RotationPolicy, next_due: datetime | None) -> None:
        """Create or replace a block's policy (its run, history and lease are kept)."""
        from sqlalchemy import insert, select, update

        with self._begin() as conn:
            exists = conn.execute(
                select(policy_table.c.block_id).where(policy_table.c.block_id == block_id)
            ).first()
            if exists:
                conn.execute(update(policy_table).where(policy_table.c.block_id == block_id)
                             .values(policy=policy.to_json(), next_due_at=next_due))
            else:
                conn.execute(insert(policy_table).values(
                    block_id=block_id, policy=policy.to_json(), next_due_at=next_due,
                    state="idle",
                ))

    def drop_policy(self, block_id: str) -> bool:
        """Remove a policy; False if there was none."""
        from sqlalchemy import delete

        with self._begin() as conn:
            gone = conn.execute(delete(policy_table).where(policy_table.c.block_id == block_id))
        return bool(gone.rowcount)

    def get(self, block_id: str) -> PolicyRecord | None:
        with self._connect() as conn:
            row = conn.execute(_statements()["get"], {"p_id": block_id}).first()
        return _decode(row) if row else None

    def all(self) -> list[PolicyRecord]:
        from sqlalchemy import select

        with self._connect() as conn:
            return [_decode(r) for r in conn.execute(select(policy_table))]

    def due(self, now: datetime) -> list[str]:
        """Ids of blocks with a rotation due, a run to resume or a revocation due."""
        from sqlalchemy import or_, select

        c = policy_table.c
        with self._connect() as conn:
            rows = conn.execute(
                select(c.block_id).where(or_(
                    c.next_due_at <= now, c.run.is_not(None), c.revoke_due_at <= now
                )).order_by(c.next_due_at)
            )
            return [r[0] for r in rows]

    # -- lease ---------------------------------------------------------------------------

    def acquire(
        self, block_id: str, owner: str, now: datetime, until: datetime,
        steal_from: str | None = None,
    ) -> bool:
        """Take the lease if free or expired (or held by ``steal_from``, a dead process)."""
        params = {"p_id": block_id, "p_owner": owner, "p_until": until, "p_now": now}
        if steal_from is not None:
            params["p_dead"] = steal_from
        statement = _statements()["steal" if steal_from is not None else "acquire"]
        with self._begin() as conn:
            taken = conn.execute(statement, params)
        return bool(taken.rowcount)

    def write(
        self, block_id: str, owner: str, events: Sequence[Event] = (), **values: Any
    ) -> None:
        """Update the row (only while holding the lease) and append events, in one transaction.

        Raises:
            LeaseLost: another process took the lease (this one was too slow).
        """
        keys = tuple(sorted(values))
        params = {f"v_{k}": _encode(k, values[k]) for k in keys}
        with self._begin() as conn:
            done = conn.execute(_update(keys), {"p_id": block_id, "p_owner": owner, **params})
            if not done.rowcount:
                raise LeaseLost(block_id)
            self._events(conn, events)

    def add_events(self, events: Sequence[Event]) -> None:
        with self._begin() as conn:
            self._events(conn, events)

    @staticmethod
    def _events(conn: Connection, events: Sequence[Event]) -> None:
        if events:
            conn.execute(_statements()["event"], [e.__dict__ for e in events])

    def events(self, block_id: str | None = None, limit: int | None = None) -> list[Event]:
        """Recorded steps, oldest first (the newest ``limit`` of them)."""
        from sqlalchemy import select

        c = event_table.c
        query = select(c.block_id, c.run_id, c.at, c.actor, c.step, c.outcome, c.versions,
                       c.error).order_by(c.id.desc())
        if block_id is not None:
            query = query.where(c.block_id == block_id)
        if limit is not None:
            query = query.limit(limit)
        with self._connect() as conn:
            rows = list(conn.execute(query))
        return [Event(r[0], r[1], utc(r[2]), *r[3:]) for r in reversed(rows)]


class LeaseLost(Exception):
    """Another process holds the block's rotation lease now."""


def _encode(key: str, value: Any) -> Any:
    if key == "run":
        return value.to_json() if value is not None else None
    if key == "revoke_state":
        return json.dumps(value) if value else None
    return value
