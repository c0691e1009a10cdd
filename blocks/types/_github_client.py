"""GitHub's GraphQL API for :meth:`GitHubCredentials.get_client` (httpx, extra ``prefect``).

prefect-github returns an sgqlc ``HTTPEndpoint``: an object called as ``endpoint(query,
variables)`` that answers GitHub's JSON. :class:`GraphQLEndpoint` has that call shape over
httpx (one of Blocks' dependencies), keeps the token in a header only, and never shows it.
"""

from __future__ import annotations

from typing import Any

from blocks.errors import GitHubApiError
from blocks.types._rules import import_extra

GITHUB_GRAPHQL_URL = "https://api.github.com/graphql"


class GraphQLEndpoint:
    """``endpoint(query, variables=None)`` -> GitHub's JSON answer (``data``/``errors``).

    Args:
        url: the GraphQL endpoint (GitHub Enterprise: ``https://<host>/api/graphql``).
        token: the bearer token, or ``None`` for anonymous calls.
        timeout: seconds per request.
    """

    def __init__(self, url: str, token: str | None, timeout: float = 30.0) -> None:
        self.url = url
        self.timeout = timeout
        self._headers = {"Accept": "application/json"}
        if token is not None:
            self._headers["Authorization"] = f"Bearer {token}"

    def __repr__(self) -> str:
        return f"GraphQLEndpoint({self.url!r})"

    def __call__(
        self, query: str, variables: dict[str, Any] | None = None,
        operation_name: str | None = None, extra_headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send one query; GitHub's JSON answer (GraphQL errors are in its ``errors``).

        Raises:
            GitHubApiError: the server is unreachable or answered with an HTTP error (the token is
                never in the message).
            MissingExtraError: httpx is not installed (extra ``prefect``).
        """
        httpx = import_extra("httpx", package="httpx", extra="prefect",
                             purpose="GitHubCredentials.get_client")
        body: dict[str, Any] = {"query": query, "variables": variables or {}}
        if operation_name is not None:
            body["operationName"] = operation_name
        try:
            response = httpx.post(self.url, json=body,
                                  headers={**self._headers, **(extra_headers or {})},
                                  timeout=timeout or self.timeout)
        except httpx.HTTPError as exc:
            raise GitHubApiError(f"GitHub's API at {self.url} is unreachable "
                                 f"({type(exc).__name__}); check the URL and the network") from None
        if response.status_code >= 300:
            raise GitHubApiError(f"GitHub's API at {self.url} refused the query (HTTP "
                                 f"{response.status_code}); check the token and its scopes")
        answer: dict[str, Any] = response.json()
        return answer
