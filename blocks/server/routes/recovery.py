"""The recovery window over HTTP: the deleted blocks, undelete, ``gc`` and the default window.

A delete with a window is ``DELETE /v1/blocks/{slug}/{name}?recovery_window=`` (in
:mod:`blocks.server.routes.blocks`). Capabilities: ``delete`` on the block to bring it back,
``read-metadata`` to see it in the list of deleted blocks (filtered), ``admin`` for ``gc``
(it shreds blocks of every name).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from blocks import catalog, wire
from blocks.registry import Registry
from blocks.server.deps import current_registry
from blocks.server.security import Principal, current_principal

router = APIRouter(prefix="/v1", tags=["recovery"])
RegistryDep = Annotated[Registry, Depends(current_registry)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]


@router.get("/recovery-window", summary="The window a delete without one uses")
def recovery_window(registry: RegistryDep, principal: PrincipalDep) -> dict[str, Any]:
    window = registry.recovery_window()
    return {"seconds": int(window.total_seconds()), "setting": registry.settings.recovery_window}


@router.get("/deleted-blocks",
            summary="Deleted blocks in their recovery window the caller may see, soonest first")
def deleted_blocks(registry: RegistryDep, principal: PrincipalDep,
                   slug: str | None = None) -> list[dict[str, Any]]:
    if slug is not None:
        catalog.get(slug)  # UnknownBlockType (422) for a slug no type has
    return [wire.deleted_json(d) for d in registry.deleted(slug)
            if principal.allows("read-metadata", "blocks", d.ref)]


@router.post("/blocks/{slug}/{name}/undelete",
             summary="Bring back a block deleted within its recovery window (same id)")
def undelete(slug: str, name: str, registry: RegistryDep,
             principal: PrincipalDep) -> dict[str, Any]:
    ref = f"{slug}/{name}"
    principal.require("delete", "blocks", ref)
    return wire.summary_json(registry.undelete(ref))


@router.post("/gc", summary="Shred the deleted blocks whose recovery window has passed")
def gc(registry: RegistryDep, principal: PrincipalDep, dry_run: bool = False) -> dict[str, Any]:
    principal.require("admin", "admin", "*")
    return wire.gc_json(registry.gc(dry_run=dry_run))
