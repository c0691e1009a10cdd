"""JWT issuers and roles through a blocks server (``/v1/auth/jwt/issuers``, ``/roles``; the
token needs ``admin``): ``RemoteRegistry.jwt_auth()``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from blocks.access.jwt_config import Issuer, Role, parse_issuer, parse_role
from blocks.remote.transport import Transport


class RemoteJwtAdmin:
    """:class:`~blocks.access.jwt_store.JwtAdmin` over HTTP.

    Args:
        transport: the remote registry's transport (URLs, credentials, retries).
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def _put(self, kind: str, name: str, document: Any) -> bool:
        answer = self.transport.request("PUT", f"/v1/auth/jwt/{kind}/{quote(name, safe='')}",
                                        json=document, idempotent=True)
        return answer.status_code == 201

    def put_issuer(self, issuer: Issuer) -> bool:
        return self._put("issuers", issuer.name, dict(issuer.document))

    def put_role(self, role: Role) -> bool:
        return self._put("roles", role.name, dict(role.document))

    def _list(self, kind: str) -> list[tuple[str, Any]]:
        answer = self.transport.request("GET", f"/v1/auth/jwt/{kind}", idempotent=True)
        return [(str(item["name"]), item["document"]) for item in answer.json()]

    def issuers(self) -> dict[str, Issuer]:
        return {n: parse_issuer(n, d) for n, d in self._list("issuers")}

    def roles(self) -> dict[str, Role]:
        return {n: parse_role(n, d) for n, d in self._list("roles")}

    def remove(self, kind: str, name: str) -> None:
        self.transport.request("DELETE", f"/v1/auth/jwt/{kind}s/{quote(name, safe='')}",
                               idempotent=True)
