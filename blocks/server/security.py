"""Who is calling, and what they may do: the seam between the routes and the token store.

Every route takes ``principal: Principal = Depends(current_principal)`` and calls
``principal.require(capability, kind, obj)`` before it acts. The app's ``Authenticator``
turns a request into a :class:`Principal` (or raises :class:`~blocks.errors.Unauthorized`);
the token authenticator (tokens and policies) implements it, tests may pass
:func:`static_authenticator`. Without one the app denies every request.

Capabilities: ``read`` (values; implies ``read-metadata``), ``read-metadata`` (names,
versions, schemas, stages), ``write``, ``delete``, ``rotate``, ``admin`` (implies all).
Objects: blocks ``slug/name``, pools ``pool-name``, admin ``*``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from blocks.errors import Forbidden, Unauthorized
from blocks.server import audit_requests

Kind = Literal["blocks", "pools", "admin"]
CAPABILITIES = ("read", "read-metadata", "write", "delete", "rotate", "admin")
IMPLIED: Mapping[str, frozenset[str]] = {
    "admin": frozenset(CAPABILITIES),
    "read": frozenset({"read", "read-metadata"}),
}


class Principal(Protocol):
    """The caller of a request, as the authenticator established it."""

    name: str
    token_id: str | None

    def require(self, capability: str, kind: Kind, obj: str) -> None:
        """Raise :class:`Forbidden` (naming ``capability`` and ``obj``) unless allowed."""
        ...

    def allows(self, capability: str, kind: Kind, obj: str) -> bool:
        """True when the principal has ``capability`` on ``obj`` of ``kind``."""
        ...


Authenticator = Callable[[Request], Principal]
"""Turns a request into its :class:`Principal`; raises :class:`Unauthorized`. Called in a
worker thread, never on the event loop (see :func:`current_principal`)."""


def grants(capabilities: frozenset[str] | set[str]) -> frozenset[str]:
    """``capabilities`` with the ones they imply (``admin`` -> all, ``read`` -> metadata)."""
    out: set[str] = set()
    for capability in capabilities:
        out |= IMPLIED.get(capability, frozenset({capability}))
    return frozenset(out)


def forbidden(name: str, capability: str, kind: Kind, obj: str) -> Forbidden:
    """The 403 error: names the principal, the capability and the object, never a value."""
    what = {"blocks": "block", "pools": "work pool", "admin": "registry"}[kind]
    return Forbidden(f"{name} lacks the {capability!r} capability on {what} {obj}")


@dataclass(frozen=True)
class StaticPrincipal:
    """A principal with fixed grants: ``{kind: {glob pattern: {capability, ...}}}``.

    Example:
        >>> reader = StaticPrincipal("ci", {"blocks": {"secret/app-*": {"read"}}})
        >>> reader.allows("read-metadata", "blocks", "secret/app-db")
        True
    """

    name: str
    rules: Mapping[str, Mapping[str, frozenset[str] | set[str]]] = field(default_factory=dict)
    token_id: str | None = None

    def allows(self, capability: str, kind: Kind, obj: str) -> bool:
        for rule_kind in (kind, "admin"):
            for pattern, capabilities in self.rules.get(rule_kind, {}).items():
                held = grants(capabilities)
                if rule_kind == "admin" and "admin" in held:
                    return True
                if rule_kind == kind and capability in held and fnmatch.fnmatchcase(obj, pattern):
                    return True
        return False

    def require(self, capability: str, kind: Kind, obj: str) -> None:
        if not self.allows(capability, kind, obj):
            raise forbidden(self.name, capability, kind, obj)


ADMIN = StaticPrincipal("admin", {"admin": {"*": {"admin"}}})
"""A principal that may do everything (tests, and ``blocks server`` run for one user)."""


def static_authenticator(principal: Principal) -> Authenticator:
    """An authenticator that gives every request ``principal`` (tests)."""

    def authenticate(request: Request) -> Principal:
        return principal

    return authenticate


def deny_all(request: Request) -> Principal:
    """The authenticator of an app given none: every request is refused."""
    raise Unauthorized("this blocks server has no token authenticator configured")


async def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the request's principal (authenticated once per request).

    The authenticator reads the database, so it runs in the thread pool: a database that
    stalls (a lock, a failover) must never stall the event loop, which keeps answering health
    checks and handles SIGTERM (``tests/server/test_process.py``)."""
    found: Principal | None = getattr(request.state, "principal", None)
    if found is None:
        found = await run_in_threadpool(authenticated, request)
    return found


def authenticated(request: Request) -> Principal:
    """The request's principal, authenticating it on first use: for a worker thread (the
    authenticator may read the database). A hot route calls it at the start of the sync work
    it hands to the thread pool (one hop per request instead of one for the dependency and
    one for the route)."""
    found: Principal | None = getattr(request.state, "principal", None)
    if found is None:
        authenticate: Authenticator = request.app.state.authenticator
        found = authenticate(request)
        request.state.principal = found
        audit_requests.authenticated_as(found)
    return found
