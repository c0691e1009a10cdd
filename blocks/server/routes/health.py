"""``/v1/health`` (the process answers) and ``/v1/health/ready`` (its database and key
provider answer; 503 with the reason otherwise). No authentication."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from blocks.errors import StoreError
from blocks.registry import Registry
from blocks.server.deps import current_registry

router = APIRouter(prefix="/v1/health", tags=["health"])


@router.get("", summary="The server process answers")
def live() -> dict[str, Any]:
    return {"status": "ok"}


@router.get("/ready", summary="The database and the key provider answer")
def ready(registry: Annotated[Registry, Depends(current_registry)]) -> dict[str, Any]:
    if not registry.exists():
        raise StoreError(f"no registry at {registry.where()}; run 'blocks init' there")
    provider = registry.keyring.provider
    provider.check()
    return {"status": "ready", "database": "ok", "key_provider": provider.name}
