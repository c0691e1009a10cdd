"""The audit trail over HTTP (capability ``admin`` on ``*``; 403 otherwise): list, who-read,
verify, prune, hash, and appending a record (``RemoteRegistry.audit``)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import Response

from blocks.errors import InvalidArgument
from blocks.registry import Registry
from blocks.server.deps import current_registry
from blocks.server.security import Principal, current_principal

router = APIRouter(tags=["audit"])
Reg = Annotated[Registry, Depends(current_registry)]
Caller = Annotated[Principal, Depends(current_principal)]
PAGE = 500


def _admin(principal: Principal) -> None:
    principal.require("admin", "admin", "*")


@router.get("/v1/audit", summary="Audit records, newest first (or oldest), a page at a time")
def audit_ls(
    registry: Reg, principal: Caller,
    ref: Annotated[str | None, Query(description="slug/name")] = None,
    actor: Annotated[str | None, Query(description="a name, kind:name, id or its hash")] = None,
    since: Annotated[str | None, Query(description="an age (30d) or an ISO time")] = None,
    action: Annotated[str | None, Query(description="read, write, delete, ...")] = None,
    denied: bool = False,
    limit: Annotated[int, Query(ge=1, le=PAGE)] = PAGE,
    cursor: Annotated[int | None, Query(description="the 'next' of the previous page")] = None,
    order: Literal["newest", "oldest"] = "newest",
) -> dict[str, Any]:
    _admin(principal)
    records = [e.to_json() for e in registry.audit.ls(
        ref, actor, since, action, denied, limit, oldest_first=order == "oldest",
        cursor=cursor)]
    last = records[-1]["seq"] if len(records) == limit else None
    return {"records": records, "next": last}


@router.get("/v1/audit/who-read", summary="Who read a block's value: identities and counts")
def audit_who_read(registry: Reg, principal: Caller, ref: str,
                   since: str | None = None) -> dict[str, Any]:
    _admin(principal)
    return {"reads": [r.to_json() for r in registry.audit.who_read(ref, since)]}


@router.post("/v1/audit/verify", summary="Check the whole event chain (every MAC and link)")
def audit_verify(registry: Reg, principal: Caller) -> dict[str, Any]:
    _admin(principal)
    return registry.audit.verify().to_json()


@router.post("/v1/audit/prune", summary="Delete older audit records behind a sealed checkpoint")
def audit_prune(registry: Reg, principal: Caller,
                before: Annotated[str, Body(embed=True)]) -> dict[str, Any]:
    _admin(principal)
    return {"pruned": registry.audit.prune(before)}


@router.post("/v1/audit/hash", summary="The audit HMAC of a value (never stored or logged)")
def audit_hash(registry: Reg, principal: Caller,
               value_b64: Annotated[str, Body(embed=True)]) -> dict[str, Any]:
    _admin(principal)
    try:
        value = base64.b64decode(value_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgument("value_b64: not base64; send the value base64-encoded") from None
    return {"hash": registry.audit.hash(value)}


@router.post("/v1/audit/records", status_code=204, summary="Append an audit record")
def audit_record(
    registry: Reg, principal: Caller,
    action: Annotated[str, Body(max_length=64)],
    obj: Annotated[str, Body(max_length=300)],
    kind: Annotated[str, Body(max_length=32)] = "blocks",
    outcome: Annotated[Literal["allowed", "denied", "error"], Body()] = "allowed",
    error: Annotated[str | None, Body(max_length=100)] = None,
    version: Annotated[int | None, Body()] = None,
    stage: Annotated[str | None, Body(max_length=32)] = None,
    pool: Annotated[str | None, Body(max_length=200)] = None,
    detail: Annotated[dict[str, Any] | None, Body()] = None,
) -> Response:
    _admin(principal)
    registry.audit.record(action, kind=kind, obj=obj, outcome=outcome, error=error,
                          version=version, stage=stage, detail=detail, pool=pool)
    return Response(status_code=204)
