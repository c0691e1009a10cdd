"""The audit trail through a blocks server (``/v1/audit``; the token needs ``admin``):
``RemoteRegistry.audit``. Listings come a page at a time, so an export streams."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from blocks.audit_trail import AuditReport, ReadCount, parse_since
from blocks.remote.transport import Transport
from blocks.store.audit_log import AuditEntry

PAGE = 500


def _when(value: datetime | str | None, what: str) -> str | None:
    found = parse_since(value, what=what)
    return found.isoformat() if found is not None else None


class RemoteAudit:
    """``registry.audit`` over HTTP (same methods as :class:`blocks.audit_trail.AuditTrail`).

    Args:
        transport: the remote registry's transport (URLs, token, retries).
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.reads = True  # the server records what its clients read (its own setting)

    def record(self, action: str, *, kind: str = "blocks", obj: str,
               outcome: str = "allowed", error: str | None = None, version: int | None = None,
               stage: str | None = None, detail: Mapping[str, Any] | None = None,
               pool: str | None = None) -> None:
        body = {"action": action, "kind": kind, "obj": obj, "outcome": outcome,
                "error": error, "version": version, "stage": stage, "pool": pool,
                "detail": dict(detail or {})}
        self.transport.request("POST", "/v1/audit/records", json=body, idempotent=False)

    def ls(self, ref: str | None = None, actor: str | None = None,
           since: datetime | str | None = None, action: str | None = None,
           denied: bool = False, limit: int | None = None, *,
           oldest_first: bool = False, cursor: int | None = None) -> Iterator[AuditEntry]:
        params: dict[str, Any] = {
            "ref": ref, "actor": actor, "since": _when(since, "--since"), "action": action,
            "denied": "true" if denied else None, "order": "oldest" if oldest_first else None}
        count = 0
        while True:
            page = PAGE if limit is None else min(PAGE, limit - count)
            data = self.transport.request("GET", "/v1/audit", params={
                **params, "limit": page, "cursor": cursor}, idempotent=True).json()
            for item in data["records"]:
                yield AuditEntry.from_json(item)
                count += 1
            cursor = data.get("next")
            if cursor is None or (limit is not None and count >= limit):
                return

    def who_read(self, ref: str, since: datetime | str | None = None) -> list[ReadCount]:
        data = self.transport.request("GET", "/v1/audit/who-read", params={
            "ref": ref, "since": _when(since, "--since")}, idempotent=True).json()
        return [ReadCount.from_json(r) for r in data["reads"]]

    def verify(self) -> AuditReport:
        data = self.transport.request("POST", "/v1/audit/verify", idempotent=True,
                                      read_timeout=600.0).json()
        return AuditReport.from_json(data)

    def prune(self, before: datetime | str) -> int:
        data = self.transport.request("POST", "/v1/audit/prune", json={
            "before": _when(before, "--before")}, idempotent=True, read_timeout=600.0).json()
        return int(data["pruned"])

    def hash(self, value: bytes) -> str:
        data = self.transport.request("POST", "/v1/audit/hash", json={
            "value_b64": base64.b64encode(value).decode()}, idempotent=True).json()
        return str(data["hash"])
