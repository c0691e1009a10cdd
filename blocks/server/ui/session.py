"""The UI's session cookie: the API token, encrypted and authenticated, in the browser.

Replicas are stateless, so the session lives in the cookie: AES-GCM under a key derived from
the registry's keyring (an HMAC of a purpose tag under the current term's MAC key, so every
replica that holds the master key derives the same one), with the term in clear in front so
a rotated keyring still opens cookies sealed under an older active term. The cookie holds the
token (never in clear), when it was issued and last used, and the session's CSRF token.

Every request authenticates the token again through the app's authenticator (the API's), so
a revoked or expired token ends the session at once. A session ends after ``LIFETIME`` or
``IDLE`` without a request, whichever comes first.
"""

from __future__ import annotations

import base64
import json
import secrets
import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from blocks.errors import KeyringError

if TYPE_CHECKING:
    from blocks.registry import Registry

COOKIE = "blocks_ui"
FLASH_COOKIE = "blocks_ui_flash"
PATH = "/ui"
LIFETIME = 8 * 3600
IDLE = 3600
REFRESH_AFTER = 60  # re-issue the cookie (new "seen") at most once a minute
_PURPOSE = b"blocks-ui-session-key:v1:"
_AAD = {COOKIE: b"blocks-ui:session", FLASH_COOKIE: b"blocks-ui:flash"}


@dataclass(frozen=True)
class Session:
    """An open session (never logged: it holds the token)."""

    token: str
    issued: float
    seen: float
    csrf: str

    def __repr__(self) -> str:
        return f"Session(issued={self.issued:.0f}, seen={self.seen:.0f})"

    def expired(self, now: float) -> bool:
        """True once the session is older than ``LIFETIME`` or idle longer than ``IDLE``."""
        return now - self.issued > LIFETIME or now - self.seen > IDLE or self.seen > now + 60

    def touched(self, now: float) -> Session:
        """The same session, used at ``now``."""
        return Session(self.token, self.issued, now, self.csrf)


def new_session(token: str, now: float | None = None) -> Session:
    """A session for ``token`` with a fresh CSRF token."""
    at = time.time() if now is None else now
    return Session(token, at, at, secrets.token_urlsafe(32))


def _key(registry: Registry, term: int) -> bytes:
    return registry.keyring.mac(term, _PURPOSE + str(term).encode())


def seal(registry: Registry, payload: dict[str, Any], cookie: str = COOKIE) -> str:
    """``payload`` encrypted and authenticated for the cookie ``cookie``."""
    term = registry.keyring.current_term
    nonce = secrets.token_bytes(12)
    body = AESGCM(_key(registry, term)).encrypt(
        nonce, json.dumps(payload, separators=(",", ":")).encode(), _AAD[cookie])
    return base64.urlsafe_b64encode(struct.pack(">I", term) + nonce + body).decode().rstrip("=")


def unseal(registry: Registry, value: str | None, cookie: str = COOKIE) -> dict[str, Any] | None:
    """The payload of a cookie :func:`seal` made, or ``None`` (absent, altered, foreign)."""
    if not value or len(value) > 4096:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        if len(raw) < 4 + 12 + 16:
            return None
        (term,) = struct.unpack(">I", raw[:4])
        plain = AESGCM(_key(registry, term)).decrypt(raw[4:16], raw[16:], _AAD[cookie])
        data = json.loads(plain)
    except (ValueError, InvalidTag, LookupError, KeyringError):  # KeyringError: a retired term
        return None
    return data if isinstance(data, dict) else None


def session_cookie(registry: Registry, session: Session) -> str:
    """The cookie value of ``session``."""
    return seal(registry, {"t": session.token, "i": session.issued, "s": session.seen,
                           "c": session.csrf})


def read_session(registry: Registry, value: str | None) -> Session | None:
    """The session in a cookie value, or ``None``."""
    data = unseal(registry, value)
    if data is None:
        return None
    try:
        return Session(str(data["t"]), float(data["i"]), float(data["s"]), str(data["c"]))
    except (KeyError, TypeError, ValueError):
        return None
