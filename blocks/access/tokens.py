"""API tokens: their format, their stored form and what ``blocks tokens ls`` shows.

A token is ``blk_`` followed by 43 URL-safe base64 characters (32 bytes from
:func:`secrets.token_bytes`: 256 bits). It is shown once, when created; the database keeps
only its SHA-256. A plain hash suffices because the token is uniformly random with 256 bits
of entropy (no dictionary or brute-force search can find a preimage, so a slow password hash
would add nothing), it is deterministic so the lookup is one indexed read, and it does not
depend on a keyring term, so ``keys rotate``/``rewrap``/``retire`` never invalidate tokens.
What stops a database writer from inserting a hash of their own is the row's MAC under the
keyring (:mod:`blocks.store.access_seals`), not the hash.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from blocks.errors import InvalidArgument

PREFIX = "blk_"
_TOKEN_RE = re.compile(r"^blk_[A-Za-z0-9_-]{43}$")
_TTL_RE = re.compile(r"^(\d{1,6})([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_TTL = timedelta(days=3660)


def new_token() -> str:
    """A fresh token: ``blk_`` + 256 random bits, URL-safe base64 without padding."""
    raw = secrets.token_bytes(32)
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def well_formed(token: str) -> bool:
    """True if ``token`` has the shape of a Blocks API token (nothing about its validity)."""
    return bool(_TOKEN_RE.match(token))


def token_hash(token: str) -> str:
    """The stored form of a token: SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_ttl(text: str) -> timedelta:
    """``"90s"``, ``"15m"``, ``"12h"``, ``"30d"``, ``"2w"`` as a time to live.

    Raises:
        InvalidArgument: any other form, or longer than ten years.
    """
    match = _TTL_RE.match(text.strip())
    if not match:
        raise InvalidArgument(f"--ttl {text[:20]!r} is not a duration: use e.g. 90s, 15m, 12h, "
                              "30d or 2w")
    value = timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    if not timedelta(seconds=1) <= value <= MAX_TTL:
        raise InvalidArgument(f"--ttl {text!r} is out of range: use between 1s and 3660d")
    return value


@dataclass(frozen=True)
class TokenInfo:
    """A stored token as ``blocks tokens ls`` shows it (never the token or its hash)."""

    id: str
    name: str
    owner: str
    policies: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def state(self, now: datetime) -> str:
        """``revoked``, ``expired`` or ``active``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def to_json(self, now: datetime) -> dict[str, Any]:
        """A JSON object of the token's public fields."""
        def stamp(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "id": self.id, "name": self.name, "owner": self.owner,
            "policies": list(self.policies), "created_at": stamp(self.created_at),
            "expires_at": stamp(self.expires_at), "revoked_at": stamp(self.revoked_at),
            "last_used_at": stamp(self.last_used_at), "state": self.state(now),
        }

    def __repr__(self) -> str:
        return f"TokenInfo(name={self.name!r}, id={self.id!r})"
