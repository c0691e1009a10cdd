"""The server's default authenticator: ``Authorization: Bearer blk_...`` -> a principal.

Deny by default: ``create_app`` uses :class:`TokenAuthenticator` unless a test passes another.
A missing, malformed, unknown, expired or revoked token is :class:`~blocks.errors.Unauthorized`
(401; the message never echoes the token). The stored hash is compared with
:func:`hmac.compare_digest` (:meth:`blocks.access.store.AccessStore.authenticate`).

Repeated failures from one client address are slowed down (:class:`Throttle`; a request
without any token is refused but not counted, since it guesses nothing): after
``free`` failures each further one locks the address out for twice as long as the one before
(``base`` seconds first, at most ``longest``); while locked out every request from it, with any
token, gets 429 and ``Retry-After`` without the token being looked up. A success clears the
address. The counts live in each replica's memory (a brute force against 2**256 tokens is
hopeless anyway; this keeps a misconfigured client from hammering the database). Behind a
reverse proxy, run uvicorn with ``--proxy-headers`` so the client's address is the real one.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from blocks import _nowait
from blocks.access import jwt_sessions
from blocks.access.jwt_sessions import JwtSessions
from blocks.access.jwt_store import JwtStore
from blocks.access.principal import TokenPrincipal
from blocks.access.store import AccessStore
from blocks.errors import RateLimited, Unauthorized

if TYPE_CHECKING:
    from starlette.requests import Request

    from blocks.registry import Registry


class Throttle:
    """Per-address lock-outs after repeated failed authentications.

    Args:
        free: failures allowed before the first lock-out.
        base: the first lock-out, in seconds (each further failure doubles it).
        longest: the longest lock-out.
        forget: seconds without a failure after which an address starts afresh.
        clock: monotonic seconds (tests move it).
        size: addresses remembered (the oldest are forgotten first).
    """

    def __init__(self, *, free: int = 5, base: float = 1.0, longest: float = 300.0,
                 forget: float = 900.0, clock: Callable[[], float] = time.monotonic,
                 size: int = 10_000) -> None:
        self.free, self.base, self.longest, self.forget = free, base, longest, forget
        self.clock, self.size = clock, size
        self._state: OrderedDict[str, tuple[int, float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, address: str) -> None:
        """Raise :class:`RateLimited` while ``address`` is locked out."""
        now = self.clock()
        with self._lock:
            state = self._state.get(address)
            if state is None:
                return
            _, last, until = state
            if now - last > self.forget:
                del self._state[address]
                return
        if until > now:
            raise RateLimited(max(1, math.ceil(until - now)))

    def failed(self, address: str) -> None:
        """Count a failure; lock the address out past ``free`` failures."""
        now = self.clock()
        with self._lock:
            failures, last, _ = self._state.pop(address, (0, now, 0.0))
            if now - last > self.forget:
                failures = 0
            failures += 1
            until = 0.0
            if failures > self.free:
                until = now + min(self.base * 2 ** (failures - self.free - 1), self.longest)
            self._state[address] = (failures, now, until)
            while len(self._state) > self.size:
                self._state.popitem(last=False)

    def succeeded(self, address: str) -> None:
        """Forget the address's failures."""
        with self._lock:
            self._state.pop(address, None)


def bearer(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header (``None`` without one)."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("the Authorization header must be 'Bearer blk_...' (clients: set "
                           "BLOCKS_API_TOKEN)")
    return value.strip()


class TokenAuthenticator:
    """The server's authenticator over the registry's sealed tokens and policies.

    Args:
        registry: the server's (local) registry.
        throttle: the per-address lock-outs (default :class:`Throttle`).
        access: the access store (default: the registry's).
    """

    waits_only_on_the_store = True
    """It reads and writes only through the registry's store and keyring, whose every wait
    raises ``WouldBlock`` inside ``blocks._nowait.without_waiting`` (the load's fast lane may
    then try it on the event loop first)."""

    def __init__(self, registry: Registry, *, throttle: Throttle | None = None,
                 access: AccessStore | None = None) -> None:
        self.registry = registry
        self._access = access
        self._sessions: JwtSessions | None = None
        self.throttle = throttle or Throttle()

    @property
    def access(self) -> AccessStore:
        """The access store (made on first use: the keyring loads then)."""
        if self._access is None:
            self._access = AccessStore(self.registry.store, self.registry.sealer)
        return self._access

    @property
    def sessions(self) -> JwtSessions:
        """The tokens exchanged for JWTs (``blj_...``; docs/machine-identities.md)."""
        if self._sessions is None:
            self._sessions = JwtSessions(JwtStore(self.registry.store, self.registry.sealer),
                                         self.access, self.access.clock)
        return self._sessions

    def __call__(self, request: Request) -> TokenPrincipal:
        """The principal of ``request``.

        Raises:
            RateLimited: the client's address is locked out (429).
            Unauthorized: no token, or an unknown, expired or revoked one (401).
            IntegrityError: the token's or its policies' rows were altered outside Blocks.
        """
        address = request.client.host if request.client is not None else "unknown"
        self.throttle.check(address)
        try:
            token = bearer(request)
        except Unauthorized:
            self.throttle.failed(address)
            raise
        if token is None:  # no credential presented: nothing guessed, nothing counted
            return self.access.authenticate(None)
        if token.startswith(jwt_sessions.PREFIX):
            # The JWT roles are read through the store's ordinary connection (it may wait on
            # a lock): never on the event loop, so a fast-lane attempt moves to a thread here.
            _nowait.check()
        try:
            principal = (self.sessions.authenticate(token)
                         if token.startswith(jwt_sessions.PREFIX)
                         else self.access.authenticate(token))
        except Unauthorized:
            self.throttle.failed(address)
            raise
        self.throttle.succeeded(address)
        return principal
