"""The client's side of machine identities: ``BLOCKS_API_JWT_FILE``.

:class:`JwtExchange` is an ``httpx.Auth`` of the remote transport: before a request it makes
sure it holds a Blocks token, exchanging the JWT in the file at ``POST /v1/auth/jwt/login``
of the same server when it has none or when two thirds of the token's lifetime have passed
(so it is renewed well before it expires). The file is read at every exchange: Kubernetes
rewrites a projected service-account token before it expires. A request answered 401 with a
token this process holds (the role was edited, the server's keys changed) is exchanged once
more and sent again. Neither the JWT nor the token is logged or shown in a repr or an error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from blocks.errors import ConfigurationError
from blocks.wire import raise_from_wire

if TYPE_CHECKING:
    from blocks.settings import Settings

LOGIN_PATH = "/v1/auth/jwt/login"
RENEW_AFTER = 2 / 3
"""The fraction of a token's lifetime after which the next request exchanges the JWT again."""
MAX_JWT = 16_384


class JwtExchange(httpx.Auth):
    """Exchanges the JWT in ``path`` for Blocks tokens and sends them (see the module's doc).

    Args:
        path: the file holding the JWT (``BLOCKS_API_JWT_FILE``).
        role: the role to exchange it under (``BLOCKS_API_JWT_ROLE``), or ``None``.
        clock: seconds (tests move it).
    """

    requires_request_body = True
    requires_response_body = True

    def __init__(self, path: Path, role: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.path, self.role, self.clock = path, role, clock
        self._token: str | None = None
        self._renew_at = 0.0
        self.expires_at = 0.0
        self.exchanges = 0
        self.principal: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never the JWT or the token
        return f"JwtExchange(file={str(self.path)!r}, role={self.role!r})"

    def _read(self) -> str:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(
                f"BLOCKS_API_JWT_FILE {str(self.path)!r} cannot be read ({type(exc).__name__}); "
                "point it at the file holding the JWT (e.g. a projected service-account "
                "token)") from None
        if not text or len(text) > MAX_JWT or text.count(".") != 2:
            raise ConfigurationError(
                f"BLOCKS_API_JWT_FILE {str(self.path)!r} does not hold a JWT (three base64url "
                "parts separated by '.')")
        return text

    def _current(self) -> str | None:
        with self._lock:
            if self._token is not None and self.clock() < self._renew_at:
                return self._token
        return None

    def _login(self, request: httpx.Request) -> httpx.Request:
        path = request.url.path
        cut = path.find("/v1/")
        prefix = path[:cut] if cut > 0 else ""
        body: dict[str, Any] = {"jwt": self._read()}
        if self.role:
            body["role"] = self.role
        return httpx.Request("POST", request.url.copy_with(path=prefix + LOGIN_PATH, query=None),
                             json=body, headers={"accept": "application/json",
                                                 "user-agent": request.headers.get(
                                                     "user-agent", "blocks-remote")})

    def _accept(self, response: httpx.Response, started: float) -> str:
        server = f"{response.url.scheme}://{response.url.netloc.decode()}"
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code != 200:
            raise_from_wire(response.status_code, data, server)
        if not isinstance(data, dict) or not isinstance(data.get("token"), str):
            raise_from_wire(502, None, server)
        ttl = float(data.get("ttl_seconds") or 0)
        with self._lock:
            self._token = str(data["token"])
            self._renew_at = started + ttl * RENEW_AFTER
            self.expires_at = started + ttl
            self.exchanges += 1
            self.principal = str(data.get("principal") or "") or None
            return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._current()
        fresh = token is None
        if token is None:
            started = self.clock()
            token = self._accept((yield self._login(request)), started)
        request.headers["authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401 and not fresh:
            with self._lock:
                if self._token == token:
                    self._token = None
            started = self.clock()
            token = self._accept((yield self._login(request)), started)
            request.headers["authorization"] = f"Bearer {token}"
            yield request


def jwt_auth(settings: Settings) -> JwtExchange | None:
    """The exchange ``settings`` ask for (``api_jwt_file``), or ``None``."""
    if settings.api_jwt_file is None:
        return None
    return JwtExchange(settings.api_jwt_file, settings.api_jwt_role)
