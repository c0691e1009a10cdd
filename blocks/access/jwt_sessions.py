"""Blocks tokens exchanged for a JWT (``POST /v1/auth/jwt/login``): minted and authenticated.

Such a token is ``blj_`` + the base64url of a canonical JSON payload + ``.`` + the base64url
of its MAC under the keyring (:func:`blocks.crypto.integrity.jwt_session_message`: its own
purpose tag, so it never verifies as any stored record). The payload names the role, the
role's census member (a digest of its sealed document), the JWT's ``sub`` and ``iss``, an id
and the expiry. Nothing is written per exchange: any replica with the keyring checks the MAC,
the expiry, and that the role still exists and is unchanged (so removing or editing a role
ends its tokens at once), then reads the role's policies as a token's are read. A database
writer without the master key can neither mint one nor widen what one grants.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from blocks.access.jwt_config import Role
from blocks.access.principal import TokenPrincipal
from blocks.crypto import integrity
from blocks.crypto.integrity import canonical_json
from blocks.errors import JwtConfigNotFound, Unauthorized

if TYPE_CHECKING:
    from blocks.access.jwt_store import JwtStore
    from blocks.access.store import AccessStore

PREFIX = "blj_"
MAX_LENGTH = 4096
_INVALID = ("the Blocks token exchanged for a JWT is not valid; exchange the JWT again "
            "(POST /v1/auth/jwt/login; clients: BLOCKS_API_JWT_FILE renews on its own)")


MAX_NAME = 150
"""A principal's name is cut to this length (the rotation events record ``<kind>:<name>`` in
200 characters)."""


def principal_name(role: str, sub: str) -> str:
    """The name a JWT identity has in answers, logs and audit records: ``jwt:<role>:<sub>``
    (a very long ``sub`` is cut so that the name has at most ``MAX_NAME`` characters)."""
    return f"jwt:{role}:{sub}"[:MAX_NAME]


@dataclass(frozen=True)
class Session:
    """A token just minted: the token (shown to the caller once) and what it stands for."""

    token: str
    id: str
    name: str
    role: str
    issuer: str
    policies: tuple[str, ...]
    expires_at: datetime

    def __repr__(self) -> str:  # never the token
        return f"Session(name={self.name!r}, id={self.id!r})"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class JwtSessions:
    """Mints and authenticates the tokens exchanged for JWTs.

    Args:
        jwt: the JWT issuers and roles.
        access: the tokens and policies (the role's policies are read there).
        clock: the current time (tests move it).
    """

    def __init__(self, jwt: JwtStore, access: AccessStore,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.jwt, self.access = jwt, access
        self.clock = clock or (lambda: datetime.now(UTC))

    def mint(self, role: Role, member: int, claims: Mapping[str, Any]) -> Session:
        """A token for ``role`` (whose census member is ``member``) and the verified
        ``claims`` of the JWT it was exchanged for."""
        now = self.clock()
        expires = now + role.ttl
        expiry = int(expires.timestamp())
        sub, iss = str(claims.get("sub", "")), str(claims.get("iss", ""))
        session_id = str(uuid.uuid4())
        payload: dict[str, Any] = {
            "v": 1, "i": session_id, "r": role.name, "m": format(member, "064x"),
            "s": sub[:200], "iss": iss[:500], "e": expiry}
        sealer = self.jwt.sealer
        term = sealer.keyring.current_term
        payload["t"] = term
        body = _b64(canonical_json(payload))
        mac = sealer.keyring.mac(term, integrity.jwt_session_message(body, term))
        return Session(PREFIX + body + "." + _b64(mac), session_id,
                       principal_name(role.name, sub), role.name, iss, role.policies,
                       datetime.fromtimestamp(expiry, UTC))

    def _payload(self, token: str) -> dict[str, Any]:
        if not token.startswith(PREFIX) or len(token) > MAX_LENGTH or token.count(".") != 1:
            raise Unauthorized(_INVALID)
        body, _, tag = token[len(PREFIX):].partition(".")
        try:
            payload = json.loads(_unb64(body))
            mac = _unb64(tag)
        except (ValueError, binascii.Error):
            raise Unauthorized(_INVALID) from None
        if not isinstance(payload, dict) or type(payload.get("t")) is not int:
            raise Unauthorized(_INVALID)
        term = payload["t"]
        if not self.jwt.sealer.keyring.verify(term, integrity.jwt_session_message(body, term),
                                              mac):
            raise Unauthorized(_INVALID)
        return payload

    def authenticate(self, token: str) -> TokenPrincipal:
        """The principal a token exchanged for a JWT authenticates as.

        Raises:
            Unauthorized: a token that does not authenticate, has expired, or whose role
                was removed or changed since (never echoed).
            IntegrityError: the role's row, its policies or their censuses were altered
                outside Blocks.
        """
        payload = self._payload(token)
        if payload.get("e", 0) <= self.clock().timestamp():
            raise Unauthorized("the Blocks token exchanged for a JWT has expired; exchange a "
                               "fresh JWT (POST /v1/auth/jwt/login; clients with "
                               "BLOCKS_API_JWT_FILE renew before expiry on their own)")
        name = str(payload.get("r"))
        try:
            role, member = self.jwt.role(name)
        except JwtConfigNotFound:
            raise Unauthorized(f"JWT role {name!r} was removed; its tokens no longer work") \
                from None
        if format(member, "064x") != payload.get("m"):
            raise Unauthorized(f"JWT role {name!r} changed since this token was issued; "
                               "exchange the JWT again")
        found = self.access.policies(list(role.policies))
        return TokenPrincipal(principal_name(name, str(payload.get("s", ""))),
                              str(payload.get("i")),
                              tuple(found[n] for n in role.policies if n in found),
                              kind="jwt", issuer=str(payload.get("iss", "")))
