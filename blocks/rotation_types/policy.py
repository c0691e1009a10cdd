"""Rotation policies: when to rotate (interval or cron), with which rotator, and the grace.

A policy is stored with its block (``rotation_policy`` table) as JSON. It never holds a secret:
a rotator that needs other credentials (an admin login) names another block by reference.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

_DURATION_RE = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MIN_INTERVAL = timedelta(seconds=1)
MAX_DURATION = timedelta(days=36500)
"""The longest interval or grace (100 years): a schedule beyond it is a typo, and dates after
it would not fit a timestamp."""


def parse_duration(text: str) -> timedelta:
    """``"90s"``, ``"15m"``, ``"12h"``, ``"30d"``, ``"2w"`` (or plain seconds) as a timedelta.

    Raises:
        ValueError: not one of those forms.
    """
    text = text.strip()
    match = _DURATION_RE.match(text)
    if text.isdigit() and len(text) <= 12:
        seconds = int(text)
    elif match and len(match.group(1)) <= 9:
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise ValueError(f"{text[:40]!r} is not a duration: use e.g. 90s, 15m, 12h, 30d or 2w")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{text!r} is longer than {MAX_DURATION.days}d (100 years)")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest exact form :func:`parse_duration` reads back."""
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def _croniter() -> Any:
    from croniter import croniter  # imported only for cron policies

    return croniter


class RotationPolicy(BaseModel):
    """How a block rotates.

    Example:
        >>> RotationPolicy(rotator="generated", interval="30d", grace="1d",
        ...                options={"length": 40}).interval
        datetime.timedelta(days=30)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    rotator: str = Field(
        description="Rotator name: generated, aws-iam-access-key, postgres-password, vault-kv, "
        "or a plug-in of the 'blocks.rotators' entry-point group."
    )
    interval: timedelta | None = Field(
        default=None,
        description="Rotate this long after the last rotation (e.g. 30d); or give cron.",
    )
    cron: str | None = Field(
        default=None,
        description="Cron expression in UTC (e.g. '0 3 * * 1'), instead of interval. Neither: "
        "rotate only on 'blocks rotate --now'.",
    )
    grace: timedelta = Field(
        default=timedelta(days=1),
        description="How long the previous credential keeps working after promotion before it "
        "is revoked (0: at once). Revocation also happens at the start of the next rotation.",
    )
    options: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="Rotator options (no secrets: name other blocks by 'slug/name').",
    )

    @field_validator("interval", "grace", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.startswith("P"):  # ISO 8601 is pydantic's
            return parse_duration(value)
        return value

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str | None) -> str | None:
        if value is not None and not _croniter().is_valid(value):
            raise ValueError("is not a cron expression (five fields, e.g. '0 3 * * 1')")
        return value

    @model_validator(mode="after")
    def _check(self) -> RotationPolicy:
        if self.interval is not None and self.cron is not None:
            raise ValueError("give interval or cron, not both")
        if self.interval is not None and self.interval < MIN_INTERVAL:
            raise ValueError("interval must be at least 1s")
        if self.grace < timedelta(0):
            raise ValueError("grace must not be negative")
        for name, value in (("interval", self.interval), ("grace", self.grace)):
            if value is not None and value > MAX_DURATION:
                raise ValueError(f"{name} must be at most {MAX_DURATION.days}d (100 years)")
        return self

    def next_due(self, after: datetime) -> datetime | None:
        """When the next rotation is due after one at ``after`` (``None``: manual only)."""
        if self.interval is not None:
            return after + self.interval
        if self.cron is not None:
            nxt: datetime = _croniter()(self.cron, after).get_next(datetime)
            return nxt
        return None

    def schedule(self) -> str:
        """``every 30d``, ``cron 0 3 * * 1`` or ``manual``, for listings."""
        if self.interval is not None:
            return f"every {format_duration(self.interval)}"
        return f"cron {self.cron}" if self.cron is not None else "manual"

    def to_json(self) -> str:
        """The stored form."""
        return self.model_dump_json()
