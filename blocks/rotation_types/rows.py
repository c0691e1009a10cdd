"""What the rotation rows hold, decoded: the run in flight, the policy record, an event."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import JsonValue

from blocks.rotation_types.policy import RotationPolicy
from blocks.store import chain
from blocks.store.rotation_seals import KIND
from blocks.store.sql import utc


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
    event_seq: int | None = None
    """The block's newest event when the row was sealed."""
    sealed: dict[str, Any] = field(default_factory=dict, repr=False)
    """The sealed columns as stored (what the MAC covers), for the next write."""
    mac: bytes | None = field(default=None, repr=False)
    """The stored MAC: the next write replaces the row only if it is still this one."""
    pending_events: list[Event] = field(default_factory=list)
    """Events recorded with the next write (the engine's, not stored)."""
    released: bool = False
    """The engine's last write released the lease."""

    def take_events(self) -> list[Event]:
        """The events waiting for the next write (and forget them)."""
        events, self.pending_events = self.pending_events, []
        return events

    def to_wire(self) -> dict[str, Any]:
        """What the server sends of the record (no lease owner, MAC or rotator state)."""
        run = None if self.run is None else {
            "id": self.run.id, "step": self.run.step, "base_version": self.run.base_version,
            "started_at": self.run.started_at.isoformat(), "actor": self.run.actor,
            "pending_version": self.run.pending_version, "cancelling": self.run.cancelling}
        return {
            "block_id": self.block_id, "policy": json.loads(self.policy.to_json()),
            "state": self.state, "next_due_at": _iso(self.next_due_at),
            "last_rotated_at": _iso(self.last_rotated_at), "last_error": self.last_error,
            "run": run, "revoke_version": self.revoke_version,
            "revoke_due_at": _iso(self.revoke_due_at), "lease_until": _iso(self.lease_until),
            "event_seq": self.event_seq,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> PolicyRecord:
        """A record as :meth:`to_wire` sent it."""
        run = data.get("run")
        return cls(
            block_id=str(data["block_id"]), policy=RotationPolicy.model_validate(data["policy"]),
            state=str(data["state"]), next_due_at=_time(data.get("next_due_at")),
            last_rotated_at=_time(data.get("last_rotated_at")),
            last_error=data.get("last_error"),
            run=None if run is None else Run(**{**run, "started_at": utc(run["started_at"])}),
            revoke_version=data.get("revoke_version"),
            revoke_due_at=_time(data.get("revoke_due_at")),
            lease_until=_time(data.get("lease_until")), event_seq=data.get("event_seq"),
        )

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

    def to_chain(self) -> chain.NewEvent:
        """The event as the chain stores it."""
        body = json.dumps({"run_id": self.run_id, "step": self.step, "outcome": self.outcome,
                           "versions": self.versions, "error": self.error},
                          sort_keys=True, separators=(",", ":"))
        return chain.NewEvent(KIND, self.block_id, self.at, self.actor, body)

    def to_wire(self) -> dict[str, Any]:
        """The event as JSON."""
        return {"block_id": self.block_id, "run_id": self.run_id, "at": self.at.isoformat(),
                "actor": self.actor, "step": self.step, "outcome": self.outcome,
                "versions": self.versions, "error": self.error}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Event:
        """An event as :meth:`to_wire` sent it."""
        return cls(str(data["block_id"]), str(data["run_id"]), utc(data["at"]),
                   str(data["actor"]), str(data["step"]), str(data["outcome"]),
                   str(data["versions"]), data.get("error"))

    @classmethod
    def from_chain(cls, event: chain.ChainEvent) -> Event:
        """A stored (authenticated) rotation event."""
        data = json.loads(event.body)
        return cls(event.subject, str(data["run_id"]), event.at, event.actor, str(data["step"]),
                   str(data["outcome"]), str(data["versions"]), data.get("error"))


@dataclass(frozen=True)
class Listed:
    """A block with a rotation policy, for listings: its ref, record and newest event."""

    ref: str
    record: PolicyRecord
    last_event: Event | None

    def to_wire(self) -> dict[str, Any]:
        """As JSON."""
        return {"ref": self.ref, "record": self.record.to_wire(),
                "last_event": None if self.last_event is None else self.last_event.to_wire()}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Listed:
        """As :meth:`to_wire` sent it."""
        last = data.get("last_event")
        return cls(str(data["ref"]), PolicyRecord.from_wire(data["record"]),
                   None if last is None else Event.from_wire(last))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(value: str | None) -> datetime | None:
    return None if value is None else utc(value)
