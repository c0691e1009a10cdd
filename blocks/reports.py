"""What ``verify`` and ``keys status`` report, as plain values (no store, no keys), so the
HTTP client reads them without loading the database layer.

:mod:`blocks.verify` and :mod:`blocks.key_management` make them; both registries return them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing that does not authenticate or resolve."""

    kind: str  # term | head | pool-head | pool-version | queue | version | reference | pool
    # | rotation-policy | event | event-chain | token | access-policy | census
    what: str
    detail: str


@dataclass
class Report:
    """What ``verify`` checked and found."""

    checked: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def add(self, kind: str, what: str, detail: str) -> None:
        """Record a problem."""
        self.problems.append(Problem(kind, what, detail))

    def to_wire(self) -> dict[str, Any]:
        """As JSON (what was checked, and each problem: never a stored value)."""
        return {"ok": self.ok, "checked": dict(sorted(self.checked.items())),
                "problems": [p.__dict__ for p in self.problems]}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Report:
        """As :meth:`to_wire` sent it."""
        return cls(Counter({str(k): int(v) for k, v in data["checked"].items()}),
                   [Problem(str(p["kind"]), str(p["what"]), str(p["detail"]))
                    for p in data["problems"]])


@dataclass(frozen=True)
class TermStatus:
    """One keyring term."""

    term: int
    provider: str
    key_id: str
    created_at: datetime | None
    versions: int
    current: bool


@dataclass(frozen=True)
class KeyStatus:
    """The master key, the keyring's terms and how many versions each wraps."""

    provider: str
    key_id: str
    endpoint: str
    terms: list[TermStatus]
    shredded_versions: int

    def to_wire(self) -> dict[str, Any]:
        """As JSON."""
        return {"provider": self.provider, "key_id": self.key_id, "endpoint": self.endpoint,
                "terms": [{**t.__dict__, "created_at": None if t.created_at is None
                           else t.created_at.isoformat()} for t in self.terms],
                "shredded_versions": self.shredded_versions}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> KeyStatus:
        """As :meth:`to_wire` sent it."""
        terms = [TermStatus(int(t["term"]), str(t["provider"]), str(t["key_id"]),
                            None if t["created_at"] is None
                            else datetime.fromisoformat(t["created_at"]),
                            int(t["versions"]), bool(t["current"])) for t in data["terms"]]
        return cls(str(data["provider"]), str(data["key_id"]), str(data["endpoint"]), terms,
                   int(data["shredded_versions"]))
