"""What reading the audit trail answers: ``who-read`` counts, ``verify`` reports, and the
times ``--since``/``--before`` take (re-exported by :mod:`blocks.audit_trail`)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from blocks.errors import InvalidArgument


@dataclass(frozen=True)
class ReadCount:
    """One identity's reads of a block (``blocks audit who-read``); unpacks as
    ``identity, count, last_at``."""

    identity: str
    count: int
    last_at: datetime

    def __iter__(self) -> Iterator[Any]:
        return iter((self.identity, self.count, self.last_at))

    def to_json(self) -> dict[str, Any]:
        return {"identity": self.identity, "count": self.count,
                "last_at": self.last_at.isoformat()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReadCount:
        return cls(str(data["identity"]), int(data["count"]),
                   datetime.fromisoformat(str(data["last_at"])))


@dataclass
class AuditReport:
    """What ``blocks audit verify`` found (never a stored value)."""

    events: int = 0
    """Events in the chain after the last prune (rotation steps and audit records)."""
    records: int = 0
    """Audit records among them."""
    head: int = 0
    """The number of the newest event (keep it elsewhere to notice a rolled-back log)."""
    digest: str = ""
    """Its SHA-256 digest."""
    pruned_through: int = 0
    """The newest event a prune removed (0: never pruned)."""
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "records": self.records,
                "head": self.head, "digest": self.digest,
                "pruned_through": self.pruned_through, "seconds": round(self.seconds, 3),
                "problems": list(self.problems)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditReport:
        return cls(int(data.get("events", 0)), int(data.get("records", 0)),
                   int(data.get("head", 0)), str(data.get("digest", "")),
                   int(data.get("pruned_through", 0)), float(data.get("seconds", 0.0)),
                   [str(p) for p in data.get("problems", [])])


_RELATIVE = re.compile(r"^(\d{1,6})([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(value: datetime | str | None, *, what: str = "--since",
                now: datetime | None = None) -> datetime | None:
    """A point in time: a ``datetime``, an age such as ``30d``, ``12h``, ``2w``, or an ISO
    date or time (``2026-01-31``, ``2026-01-31T12:00:00Z``).

    Raises:
        InvalidArgument: anything else (the message names ``what`` and the forms accepted).
    """
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    match = _RELATIVE.match(text)
    if match:
        age = timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
        return (now or datetime.now(UTC)) - age
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(
            f"{what}: {text[:40]!r} is not a time: use an age such as 30d, 12h or 2w, or a "
            "date such as 2026-01-31") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
