"""``/v1/tokens`` and ``/v1/policies``: the administration of API tokens and access policies
(every endpoint needs ``admin``; docs/tokens-and-policies.md).

A created token is in the ``201`` answer of ``POST /v1/tokens`` and nowhere else, ever.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from blocks.access import policies as policy_docs
from blocks.access.store import AccessStore
from blocks.access.tokens import parse_ttl
from blocks.server.security import Principal, current_principal

router = APIRouter(prefix="/v1", tags=["tokens and policies"])
Admin = Annotated[Principal, Depends(current_principal)]
PolicyBody = Annotated[Any, Body(examples=[{"blocks": {"secret/etl-*": ["read"]}}])]


class TokenCreate(BaseModel):
    """A token to create."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="lower-case letters, digits and '-'",
                      examples=["etl-worker"])
    policies: list[str] = Field(min_length=1, examples=[["etl-read"]])
    ttl: str | None = Field(default=None, description="e.g. 12h, 30d, 2w; none: no expiry",
                            examples=["30d"])
    owner: str = Field(default="", max_length=200, examples=["etl-team"])


class TokenOut(BaseModel):
    """A token's public record (never the token)."""

    id: str
    name: str
    owner: str
    policies: list[str]
    created_at: str | None
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None
    state: str


class TokenCreated(TokenOut):
    """A new token's record with the token itself: the only time it is shown."""

    token: str = Field(examples=["blk_<43 characters, shown once>"])


class PolicyOut(BaseModel):
    """A policy and its document."""

    name: str
    document: dict[str, Any]


def access_store(request: Request) -> AccessStore:
    """The app's access store (the authenticator's, so they share the census cache)."""
    state = request.app.state
    found = getattr(state, "access", None)
    if found is None:
        authenticator = getattr(state, "authenticator", None)
        found = getattr(authenticator, "access", None)
        if found is None:
            registry = state.registry
            found = AccessStore(registry.store, registry.sealer)
        state.access = found
    return found  # type: ignore[no-any-return]


def _admin(principal: Principal) -> None:
    principal.require("admin", "admin", "*")


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(request: Request,
                principal: Admin) -> list[dict[str, Any]]:
    """Every token's public record."""
    _admin(principal)
    now = datetime.now(UTC)
    return [t.to_json(now) for t in access_store(request).list_tokens()]


@router.post("/tokens", status_code=201, response_model=TokenCreated)
def create_token(body: TokenCreate, request: Request,
                 principal: Admin) -> dict[str, Any]:
    """Create a token; the answer holds it, once."""
    _admin(principal)
    ttl = parse_ttl(body.ttl) if body.ttl is not None else None
    token, info = access_store(request).create_token(body.name, body.policies,
                                                     owner=body.owner, ttl=ttl)
    return {"token": token, **info.to_json(datetime.now(UTC))}


@router.delete("/tokens/{token}", response_model=TokenOut)
def revoke_token(token: str, request: Request,
                 principal: Admin) -> dict[str, Any]:
    """Revoke a token by name or id."""
    _admin(principal)
    return access_store(request).revoke(token).to_json(datetime.now(UTC))


@router.get("/policies", response_model=list[PolicyOut])
def list_policies(request: Request,
                  principal: Admin) -> list[dict[str, Any]]:
    """Every policy with its document."""
    _admin(principal)
    found = access_store(request).policies()
    return [{"name": n, "document": dict(p.document)} for n, p in sorted(found.items())]


@router.get("/policies/{name}", response_model=PolicyOut)
def get_policy(name: str, request: Request,
               principal: Admin) -> dict[str, Any]:
    """One policy."""
    _admin(principal)
    return {"name": name, "document": dict(access_store(request).get_policy(name).document)}


@router.put("/policies/{name}", response_model=PolicyOut)
def put_policy(name: str, request: Request, response: Response,
               document: PolicyBody,
               principal: Admin) -> dict[str, Any]:
    """Create (201) or replace (200) a policy."""
    _admin(principal)
    policy = policy_docs.parse(name, document)
    if access_store(request).put_policy(name, policy):
        response.status_code = 201
    return {"name": name, "document": dict(policy.document)}


@router.delete("/policies/{name}", status_code=204)
def delete_policy(name: str, request: Request,
                  principal: Admin) -> Response:
    """Delete a policy no live token uses (409 naming the tokens otherwise)."""
    _admin(principal)
    access_store(request).remove_policy(name)
    return Response(status_code=204)
