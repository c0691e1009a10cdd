"""How the rotation, pool and admin pages show a time the API gives as ISO 8601 text."""

from __future__ import annotations

from datetime import UTC, datetime


def stamp(value: str | datetime | None, empty: str = "") -> str:
    """``2026-01-31 12:00:00 UTC`` for an ISO 8601 time (``empty`` for ``None``)."""
    if value is None or value == "":
        return empty
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")
