"""Rotation over HTTP: policies (set, get, drop), rotate now, cancel, due, events.

Rotation runs here, in the server: it holds the master key and reaches the rotators' upstream
systems with the credentials the policies name. Capabilities (COMMON contract): ``rotate`` on
``slug/name`` to set or drop a policy, rotate or cancel; ``read-metadata`` to read a policy,
its events, the promoted versions and the due list. Lists hold only the blocks the token may
see; ``rotate-due`` rotates only the blocks the token may rotate.

The actor recorded in the sealed event chain is ``<kind>:<principal name>``: the kind (``cli``,
``api``, ``terraform``) comes from the client's ``actor`` parameter, the name from the token.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from blocks.core import split_ref
from blocks.errors import InvalidArgument
from blocks.registry import Registry
from blocks.rotation.engine import Rotation
from blocks.rotation_types.policy import RotationPolicy
from blocks.server.deps import current_registry
from blocks.server.security import Principal, current_principal

router = APIRouter(tags=["rotation"])

_KIND = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
Reg = Annotated[Registry, Depends(current_registry)]
Caller = Annotated[Principal, Depends(current_principal)]
Actor = Annotated[str, Query(description="Who calls, recorded as '<actor>:<token name>': cli, "
                             "api, terraform, ...")]


def _rotation(registry: Registry, principal: Principal, kind: str) -> Rotation:
    if not _KIND.match(kind):
        raise InvalidArgument(f"actor {kind[:40]!r} is not a caller kind: use lowercase "
                              "letters, digits and '-' (cli, api, terraform)")
    return Rotation(registry, actor=f"{kind}:{principal.name}")  # the engine: filters below


def _ref(slug: str, name: str, principal: Principal, capability: str) -> str:
    ref = f"{slug}/{name}"
    split_ref(ref)  # a malformed name is a 422 naming the rule, never echoed in a 403
    principal.require(capability, "blocks", ref)
    return ref


@router.get("/v1/blocks/{slug}/{name}/rotation", summary="A block's rotation policy and state")
def get_policy(slug: str, name: str, registry: Reg,
               principal: Caller, actor: Actor = "api") -> dict[str, Any]:
    ref = _ref(slug, name, principal, "read-metadata")
    record = _rotation(registry, principal, actor).policy(ref)
    return {"record": None if record is None else record.to_wire()}


@router.put("/v1/blocks/{slug}/{name}/rotation", summary="Set (or replace) a rotation policy")
def set_policy(slug: str, name: str, policy: RotationPolicy,
               registry: Reg, principal: Caller, actor: Actor = "api") -> dict[str, Any]:
    ref = _ref(slug, name, principal, "rotate")
    return {"record": _rotation(registry, principal, actor).set_policy(ref, policy).to_wire()}


@router.delete("/v1/blocks/{slug}/{name}/rotation",
               summary="Stop rotating a block (its history stays)")
def drop_policy(slug: str, name: str, registry: Reg,
                principal: Caller, actor: Actor = "api") -> dict[str, Any]:
    ref = _ref(slug, name, principal, "rotate")
    return {"dropped": _rotation(registry, principal, actor).drop_policy(ref)}


@router.post("/v1/blocks/{slug}/{name}/rotation/rotate",
             summary="Rotate if due (force: regardless), resuming an interrupted run")
def rotate(slug: str, name: str, registry: Reg, principal: Caller, actor: Actor = "api",
           force: Annotated[bool, Query(description="rotate even if not due")] = False,
           ) -> dict[str, Any]:
    ref = _ref(slug, name, principal, "rotate")
    return _rotation(registry, principal, actor).rotate(ref, force=force).to_wire()


@router.post("/v1/blocks/{slug}/{name}/rotation/cancel",
             summary="Roll back the rotation in flight")
def cancel(slug: str, name: str, registry: Reg,
           principal: Caller, actor: Actor = "api") -> dict[str, Any]:
    ref = _ref(slug, name, principal, "rotate")
    return _rotation(registry, principal, actor).cancel(ref).to_wire()


@router.get("/v1/blocks/{slug}/{name}/rotation/events",
            summary="The block's recorded rotation steps, oldest first")
def events(slug: str, name: str, registry: Reg,
           principal: Caller, actor: Actor = "api") -> dict[str, Any]:
    ref = _ref(slug, name, principal, "read-metadata")
    return {"events": [e.to_wire() for e in _rotation(registry, principal, actor).events(ref)]}


@router.get("/v1/blocks/{slug}/{name}/rotation/promoted",
            summary="Versions a recorded rotation promoted (checked against the event chain)")
def promoted(slug: str, name: str, registry: Reg,
             principal: Caller, actor: Actor = "api") -> dict[str, Any]:
    ref = _ref(slug, name, principal, "read-metadata")
    return {"versions": sorted(_rotation(registry, principal, actor).promoted_versions(ref))}


@router.get("/v1/rotation/policies",
            summary="Blocks with a rotation policy (those the token may see)")
def policies(registry: Reg, principal: Caller, actor: Actor = "api") -> dict[str, Any]:
    def visible(ref: str) -> bool:
        return principal.allows("read-metadata", "blocks", ref)

    listed = _rotation(registry, principal, actor).listing(visible)
    return {"policies": [item.to_wire() for item in listed]}


@router.get("/v1/rotation/due", summary="Blocks with a rotation, resumption or revocation due")
def due(registry: Reg, principal: Caller, actor: Actor = "api") -> dict[str, Any]:
    def visible(ref: str) -> bool:
        return principal.allows("read-metadata", "blocks", ref)

    return {"due": _rotation(registry, principal, actor).due(visible)}


@router.post("/v1/rotation/due/rotate",
             summary="Rotate, resume or revoke whatever is due (that the token may rotate)")
def rotate_due(registry: Reg, principal: Caller, actor: Actor = "api") -> dict[str, Any]:
    def allowed(ref: str) -> bool:
        return principal.allows("rotate", "blocks", ref)

    outcomes = _rotation(registry, principal, actor).rotate_due(only=allowed)
    return {"outcomes": [o.to_wire() for o in outcomes]}
