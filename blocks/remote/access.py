"""Tokens and policies through a blocks server (``/v1/tokens``, ``/v1/policies``; the token
in ``BLOCKS_API_TOKEN`` needs ``admin``): ``RemoteRegistry.access()``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from blocks.access import policies as policy_docs
from blocks.access.policies import Policy
from blocks.access.tokens import TokenInfo
from blocks.remote.transport import Transport


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def token_info(data: Mapping[str, Any]) -> TokenInfo:
    """A :class:`TokenInfo` from its JSON (``TokenInfo.to_json``)."""
    created = _when(data.get("created_at"))
    assert created is not None, "a token record always has created_at"
    return TokenInfo(str(data["id"]), str(data["name"]), str(data.get("owner") or ""),
                     tuple(str(p) for p in data.get("policies") or ()), created,
                     _when(data.get("expires_at")), _when(data.get("revoked_at")),
                     _when(data.get("last_used_at")))


class RemoteAccess:
    """:class:`~blocks.access.admin.AccessAdmin` over HTTP.

    Args:
        transport: the remote registry's transport (URLs, token, retries).
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def create_token(self, name: str, policy_names: Sequence[str], *, owner: str = "",
                     ttl: timedelta | None = None) -> tuple[str, TokenInfo]:
        body = {"name": name, "policies": list(policy_names), "owner": owner,
                "ttl": f"{int(ttl.total_seconds())}s" if ttl is not None else None}
        data = self.transport.request("POST", "/v1/tokens", json=body,
                                      idempotent=False).json()
        return str(data["token"]), token_info(data)

    def list_tokens(self) -> list[TokenInfo]:
        answer = self.transport.request("GET", "/v1/tokens", idempotent=True)
        return [token_info(t) for t in answer.json()]

    def revoke(self, name_or_id: str) -> TokenInfo:
        answer = self.transport.request("DELETE", f"/v1/tokens/{quote(name_or_id, safe='')}",
                                        idempotent=True)
        return token_info(answer.json())

    def put_policy(self, name: str, policy: Policy) -> bool:
        answer = self.transport.request("PUT", f"/v1/policies/{quote(name, safe='')}",
                                        json=dict(policy.document), idempotent=True)
        return answer.status_code == 201

    def get_policy(self, name: str) -> Policy:
        answer = self.transport.request("GET", f"/v1/policies/{quote(name, safe='')}",
                                        idempotent=True)
        return policy_docs.parse(name, answer.json()["document"])

    def policies(self, names: Sequence[str] | None = None) -> dict[str, Policy]:
        answer = self.transport.request("GET", "/v1/policies", idempotent=True)
        found = {str(p["name"]): policy_docs.parse(str(p["name"]), p["document"])
                 for p in answer.json()}
        return found if names is None else {n: p for n, p in found.items() if n in names}

    def remove_policy(self, name: str) -> None:
        self.transport.request("DELETE", f"/v1/policies/{quote(name, safe='')}",
                               idempotent=True)
