"""A small client of Prefect's REST API over httpx (the ``prefect`` package is never imported).

Every failure becomes a :class:`~blocks.errors.PrefectError` naming the server and the object;
response bodies are shown only for validation errors (422), with values that might be secret
left out.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from blocks.errors import ConfigurationError, MissingExtraError, PrefectError
from blocks.settings import Settings

if TYPE_CHECKING:
    import httpx

PAGE = 200
RETRY_STATUSES = frozenset({429, 502, 503, 504})
_TIMEOUT = 30.0


def _httpx() -> Any:
    try:
        import httpx
    except ImportError:
        raise MissingExtraError("httpx", "prefect", "the Prefect bridge") from None
    return httpx


class PrefectClient:
    """Prefect's REST API at ``api_url`` (``…/api``, or a Cloud workspace URL).

    Args:
        api_url: the API URL; ``BLOCKS_PREFECT_API_URL`` / ``PREFECT_API_URL`` when omitted.
        api_key: a bearer token (Prefect Cloud); ``BLOCKS_PREFECT_API_KEY`` / ``PREFECT_API_KEY``.
        auth_string: ``user:password`` of a self-hosted server with basic auth on (the server's
            ``PREFECT_SERVER_API_AUTH_STRING``), sent as HTTP basic auth and preferred to the API
            key, as Prefect's own client does; ``BLOCKS_PREFECT_API_AUTH_STRING`` /
            ``PREFECT_API_AUTH_STRING``.
        transport: an httpx transport.
        retries: how often a 429/502/503/504 answer is retried (with backoff).
        sleep: waits between retries (injectable).

    Attributes:
        calls: ``(method, path)`` of every request sent, in order (reads are ``GET`` and the
            ``…/filter`` POSTs).

    Raises:
        ConfigurationError: no API URL is configured.
    """

    def __init__(
        self,
        api_url: str | None = None,
        *,
        api_key: str | None = None,
        auth_string: str | None = None,
        settings: Settings | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = _TIMEOUT,
        retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        settings = settings if settings is not None else Settings()
        url = api_url or settings.prefect_api_url
        if not url:
            raise ConfigurationError(
                "no Prefect API URL: set BLOCKS_PREFECT_API_URL (or PREFECT_API_URL), e.g. "
                "http://127.0.0.1:4200/api"
            )
        if api_key is None and settings.prefect_api_key is not None:
            api_key = settings.prefect_api_key.get_secret_value()
        if auth_string is None and settings.prefect_api_auth_string is not None:
            auth_string = settings.prefect_api_auth_string.get_secret_value()
        self.api_url = url.rstrip("/")
        headers: dict[str, str] = {}
        if auth_string:
            token = base64.b64encode(auth_string.encode()).decode()
            headers["Authorization"] = f"Basic {token}"
            self._credential = "the auth string (BLOCKS_PREFECT_API_AUTH_STRING)"
        elif api_key:
            headers["Authorization"] = f"Bearer {api_key}"
            self._credential = "the API key (BLOCKS_PREFECT_API_KEY)"
        else:
            self._credential = ""
        httpx = _httpx()
        self._http = httpx.Client(
            base_url=self.api_url + "/", headers=headers, timeout=timeout, transport=transport
        )
        self.calls: list[tuple[str, str]] = []
        self.retries = retries
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"PrefectClient({self.api_url!r})"

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def __enter__(self) -> PrefectClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def write_calls(self) -> list[tuple[str, str]]:
        """The requests sent that change something on the server."""
        return [c for c in self.calls if not is_read(*c)]

    # -- plumbing --------------------------------------------------------------------------

    def request(
        self, method: str, path: str, what: str, *, json: Any = None, missing_ok: bool = False,
        params: dict[str, Any] | None = None, conflict_ok: bool = False,
    ) -> Any:
        """Send one request; the decoded JSON answer (``None`` for 404 when ``missing_ok``).

        Args:
            what: the object, for error messages (``work pool 'etl'``).
            missing_ok: answer ``None`` for 404.
            conflict_ok: answer ``None`` for 409 (the object exists already).

        Raises:
            PrefectError: unreachable, 401/403, 404 (unless ``missing_ok``), 409, 422, 5xx.
        """
        httpx = _httpx()
        self.calls.append((method, path))
        for attempt in range(self.retries + 1):
            try:
                response = self._http.request(method, path.lstrip("/"), json=json, params=params)
            except httpx.HTTPError as exc:
                raise PrefectError(
                    f"Prefect server {self.api_url} is unreachable while handling {what} "
                    f"({type(exc).__name__}); check BLOCKS_PREFECT_API_URL and that the server "
                    "runs"
                ) from None
            if response.status_code not in RETRY_STATUSES or attempt == self.retries:
                break
            # Prefect answers 503 while its database is busy, and 429 when rate-limited.
            self._sleep(_retry_after(response, attempt))
        status = response.status_code
        if (status == 404 and missing_ok) or (status == 409 and conflict_ok):
            return None
        if status >= 300:
            raise PrefectError(self._refusal(method, path, status, what, response))
        if status == 204 or not response.content:
            return None
        return response.json()

    def _refusal(
        self, method: str, path: str, status: int, what: str, response: httpx.Response
    ) -> str:
        verb = "read" if is_read(method, path) else _verb(method)
        head = f"Prefect server {self.api_url} refused to {verb} {what} (HTTP {status})"
        if status in (401, 403):
            sent = (f"it did not accept {self._credential}" if self._credential
                    else "no credential was sent")
            return (f"{head}: {sent}; set BLOCKS_PREFECT_API_AUTH_STRING (or "
                    "PREFECT_API_AUTH_STRING) to the server's 'user:password' for a self-hosted "
                    "server with basic auth, or BLOCKS_PREFECT_API_KEY (or PREFECT_API_KEY) for "
                    "Prefect Cloud")
        if status == 404:
            return f"{head}: it does not exist there"
        if status == 422:
            return f"{head}: {validation_detail(response)}"
        if status == 409:
            return f"{head}: it already exists or conflicts with an existing object"
        return f"{head}; retry later or see the server's log"

    def paged(self, path: str, what: str, body: dict[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a ``…/filter`` endpoint, a page at a time."""
        offset = 0
        while True:
            page = self.request(
                "POST", path, what, json={**(body or {}), "limit": PAGE, "offset": offset}
            )
            yield from page
            if len(page) < PAGE:
                return
            offset += PAGE

    def health(self) -> None:
        """Check the server answers.

        Raises:
            PrefectError: it does not.
        """
        self.request("GET", "health", "its health check")


def _retry_after(response: httpx.Response, attempt: int) -> float:
    header = str(response.headers.get("Retry-After", ""))
    if header.isdigit():
        return min(float(header), 10.0)
    return 0.25 * float(2**attempt)


def is_read(method: str, path: str) -> bool:
    """Whether a request only reads (GET, or a ``…/filter`` POST)."""
    return method == "GET" or (method == "POST" and path.rstrip("/").endswith("filter"))


def validation_detail(response: httpx.Response) -> str:
    """Prefect's 422 detail as ``loc: msg`` items, without the submitted values."""
    try:
        body = response.json()
    except ValueError:
        return "the request did not validate"
    detail = None
    if isinstance(body, dict):
        detail = body.get("exception_detail", body.get("detail"))
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        items = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", []) if p != "body")
                items.append(f"{loc}: {item.get('msg', 'invalid')}" if loc else
                             str(item.get("msg", "invalid")))
        if items:
            return "; ".join(items)
    return "the request did not validate"


def _verb(method: str) -> str:
    return {"GET": "read", "POST": "write", "PATCH": "update", "PUT": "write",
            "DELETE": "delete"}.get(method, method.lower())
