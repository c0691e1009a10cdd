"""The principal an API token authenticates as: its name, id and policies.

:meth:`TokenPrincipal.require` is what every server route calls before it does anything
(``blocks/server/security.py``'s ``Principal`` protocol).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from blocks.access.policies import CAPABILITIES, Policy
from blocks.errors import Forbidden, InvalidArgument

_KINDS = ("blocks", "pools", "admin")
_OBJECT_NAMES = {"blocks": "block", "pools": "work pool", "admin": "the server's"}


@dataclass(frozen=True)
class TokenPrincipal:
    """A token's identity and what its policies grant.

    Attributes:
        name: the token's name (``blocks tokens ls``), never the token; for a token exchanged
            for a JWT, ``jwt:<role>:<sub>``.
        token_id: the token's id (of an exchanged token: the id given at the exchange).
        policies: the validated policies named by the token (missing ones grant nothing).
        kind: ``token`` (an API token) or ``jwt`` (a token exchanged for a JWT).
        issuer: the JWT's ``iss`` (``None`` for an API token).
    """

    name: str
    token_id: str | None
    policies: tuple[Policy, ...]
    kind: str = "token"
    issuer: str | None = None

    @classmethod
    def of(cls, name: str, token_id: str | None, policies: Sequence[Policy]) -> TokenPrincipal:
        """A principal holding ``policies``."""
        return cls(name, token_id, tuple(policies))

    @property
    def is_admin(self) -> bool:
        """True if a policy grants ``admin``."""
        return any(p.admin for p in self.policies)

    def allows(self, capability: str, kind: str, obj: str) -> bool:
        """True if a policy grants ``capability`` on ``obj`` of ``kind``
        (``blocks``: ``slug/name``; ``pools``: a pool name; ``admin``: ``*``)."""
        if capability not in CAPABILITIES or kind not in _KINDS:
            raise InvalidArgument(
                f"capability {capability!r} on {kind!r}: use one of {', '.join(CAPABILITIES)} "
                f"on one of {', '.join(_KINDS)}")
        if self.is_admin:
            return True
        if kind == "admin":
            return False
        return any(rule.kind == kind and capability in rule.capabilities and rule.matches(obj)
                   for policy in self.policies for rule in policy.rules)

    def require(self, capability: str, kind: str, obj: str) -> None:
        """Return if :meth:`allows`, else raise :class:`Forbidden` naming the capability and
        the object (never a value)."""
        if self.allows(capability, kind, obj):
            return
        what = ("administration (tokens, policies, verify, keys)" if kind == "admin"
                else f"{_OBJECT_NAMES[kind]} {obj!r}")
        raise Forbidden(
            f"token {self.name!r} lacks the {capability!r} capability on {what}; ask an admin "
            f"to add it to one of its policies ('blocks policies put')")
