"""HTTP to one or more ``blocks server`` replicas: bearer token, retries, fail-over, errors.

An idempotent call (a read, a compare-and-set write, a delete) that meets a connection
error, a timeout or a 502/503/504 is retried with exponential backoff, moving on to the next
URL of ``BLOCKS_API_URL`` each time; a non-idempotent one is tried once per URL only while
no byte reached a server (the connection was refused). After the last try the error names
every server tried. Error envelopes become the server's ``BlocksError`` (same class and
message, :func:`blocks.wire.raise_from_wire`).

Nothing here logs the token or a body: DEBUG lines carry the method, path, status, server
and timing only.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from blocks import _nowait
from blocks.errors import ConflictError, ServerUnavailable
from blocks.wire import raise_from_wire

log = logging.getLogger("blocks.remote")
RETRY_STATUS = frozenset({502, 503, 504})
"""Statuses worth another try on another replica (a proxy or a server going away)."""
USER_AGENT = "blocks-remote/1"


class Transport:
    """A pooled HTTP client over ``urls`` (tried in order, sticking to the one that answers).

    Args:
        urls: base URLs of the servers, e.g. ``["http://10.0.0.1:8200"]``.
        token: bearer token, or ``None``.
        timeout: seconds for connecting and for each read.
        attempts: tries of an idempotent call in all (over the URLs, round-robin).
        backoff: first pause between tries, doubled each time (capped at ``max_backoff``).
        sleep: waits between tries (injectable for tests).
        verify: what the TLS check trusts: ``True`` (the default bundle), or a context
            (``BLOCKS_API_CA_FILE``, :func:`blocks.remote.tls.server_trust`).
        auth: sends the credentials instead of ``token``: the JWT exchange of
            ``BLOCKS_API_JWT_FILE`` (:mod:`blocks.remote.jwt_auth`).
    """

    def __init__(
        self,
        urls: Sequence[str],
        token: str | None,
        *,
        timeout: float = 10.0,
        attempts: int = 4,
        backoff: float = 0.05,
        max_backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        verify: bool | str | ssl.SSLContext = True,
        auth: httpx.Auth | None = None,
    ) -> None:
        if not urls:
            raise ValueError("Transport needs at least one server URL")
        self.urls = [u.rstrip("/") for u in urls]
        self._headers = {"user-agent": USER_AGENT, "accept": "application/json"}
        if token:
            self._headers["authorization"] = f"Bearer {token}"
        self._timeout = timeout
        self._attempts = max(attempts, len(self.urls))
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._sleep = sleep
        self._verify = verify
        self._auth = auth
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._preferred = 0

    def __repr__(self) -> str:  # never the token
        return f"Transport(urls={self.urls!r})"

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = httpx.Client(
                        headers=self._headers, timeout=self._timeout, verify=self._verify,
                        follow_redirects=False, auth=self._auth,
                    )
        return self._client

    def close(self) -> None:
        """Close the pooled connections."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool,
        ok: frozenset[int] = frozenset(),
        read_timeout: float | None = None,
    ) -> httpx.Response:
        """Send ``method path`` to the first server that answers; return a 2xx response (or
        one whose status is in ``ok``, e.g. 304). ``read_timeout``: seconds to wait for the
        answer of a call that works long on the server (a rotation, ``verify``), instead of
        the transport's timeout.

        Raises:
            ServerUnavailable: no server answered after the retries (names them all).
            BlocksError: the server's error, same class and message as it raised.
        """
        _nowait.check()  # a network call waits: aload hands it to a worker thread
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        tried: list[str] = []
        reason = ""
        unanswered = False  # a try was sent and got no answer: it may have taken effect
        pause = self._backoff
        for attempt in range(self._attempts):
            index = (self._preferred + attempt) % len(self.urls)
            base = self.urls[index]
            if base not in tried:
                tried.append(base)
            started = time.perf_counter()
            try:
                response = self.client.request(
                    method, base + path, json=json, params=clean or None, headers=headers,
                    timeout=httpx.USE_CLIENT_DEFAULT if read_timeout is None
                    else httpx.Timeout(self._timeout, read=read_timeout),
                )
            except httpx.ConnectError as exc:
                reason = _reason(exc)  # nothing was sent: any call may go elsewhere
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                reason = _reason(exc)
                unanswered = True
                if not idempotent:
                    raise ServerUnavailable(
                        f"the blocks server at {base} did not answer {method} {path} "
                        f"({reason}); the call may or may not have taken effect: check, then "
                        "retry"
                    ) from None
            else:
                log.debug("%s %s -> %s from %s in %.1f ms", method, path, response.status_code,
                          base, (time.perf_counter() - started) * 1000)
                if response.status_code in RETRY_STATUS and idempotent \
                        and attempt + 1 < self._attempts and _is_transient(response):
                    reason = f"HTTP {response.status_code}"
                    unanswered = True  # a proxy's 502/504 may follow a call that took effect
                else:
                    self._preferred = index
                    if response.is_success or response.status_code in ok:
                        return response
                    try:
                        raise_from_wire(response.status_code, _body(response), base)
                    except ConflictError as exc:
                        exc.after_unanswered_try = unanswered
                        raise
            log.debug("%s %s: %s at %s (try %d of %d)", method, path, reason, base,
                      attempt + 1, self._attempts)
            if attempt + 1 < self._attempts:
                self._sleep(pause)
                pause = min(pause * 2, self._max_backoff)
        raise ServerUnavailable(
            f"no blocks server answered {method} {path}: tried {', '.join(tried)} "
            f"({self._attempts} tries; last: {reason}); check BLOCKS_API_URL and that the "
            "server runs"
        )


def _is_transient(response: httpx.Response) -> bool:
    """A 503 that says the database or the key provider is down is the answer, not a hiccup
    of one replica: every replica shares them. A proxy's 502/503/504 is worth a retry."""
    body = _body(response)
    return not (isinstance(body, dict) and isinstance(body.get("error"), dict))


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _reason(exc: Exception) -> str:
    # httpx's message names the host and the OS error; never a header or a body.
    text = f"{type(exc).__name__}: {str(exc)[:200] or 'no detail'}"
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        text += ("; the server's certificate is not trusted: set BLOCKS_API_CA_FILE to the PEM "
                 "file of the CA that signed it")
    return text
