"""Administration over HTTP: ``verify`` and ``keys status`` (capability ``admin`` on ``*``).

The key-changing commands (``keys rotate``, ``rewrap``, ``retire``, ``rotate-master``) have no
endpoint: they run where the server runs, with its database URL and master key.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from blocks.registry import Registry
from blocks.server.deps import current_registry
from blocks.server.security import Principal, current_principal

router = APIRouter(tags=["admin"])
Reg = Annotated[Registry, Depends(current_registry)]
Caller = Annotated[Principal, Depends(current_principal)]


@router.get("/v1/verify", summary="Check every term, sealed record, version, reference and pool")
def verify(registry: Reg, principal: Caller) -> dict[str, Any]:
    principal.require("admin", "admin", "*")
    return registry.verify().to_wire()


@router.get("/v1/keys/status", summary="The master key, keyring terms and versions per term")
def keys_status(registry: Reg, principal: Caller) -> dict[str, Any]:
    principal.require("admin", "admin", "*")
    return registry.keys_status().to_wire()
