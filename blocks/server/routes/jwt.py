"""``/v1/auth/jwt/...``: machine identities (docs/machine-identities.md).

``POST /v1/auth/jwt/login`` needs no token: it exchanges a platform's JWT for a short-lived
Blocks token (:mod:`blocks.server.jwt_login`); a refused login counts towards the address's
slow-down like a bad token (429). The issuers and roles (``/v1/auth/jwt/issuers``,
``/v1/auth/jwt/roles``) need ``admin``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from blocks.access.jwt_config import Issuer, Role
from blocks.access.jwt_sessions import JwtSessions
from blocks.access.jwt_store import JwtStore, not_found, parse
from blocks.errors import Unauthorized
from blocks.server.auth import Throttle, TokenAuthenticator
from blocks.server.jwt_login import JwtLogin
from blocks.server.routes.auth import access_store
from blocks.server.security import Principal, current_principal

router = APIRouter(prefix="/v1/auth/jwt", tags=["machine identities"])
Admin = Annotated[Principal, Depends(current_principal)]
Kind = Literal["issuers", "roles"]
DocumentBody = Annotated[Any, Body(examples=[{
    "issuer": "k8s", "bound_claims": {"kubernetes.io.namespace": "etl"},
    "token_policies": ["etl-read"], "token_ttl": "15m"}])]


class LoginRequest(BaseModel):
    """A JWT to exchange, and optionally the role to exchange it under."""

    model_config = ConfigDict(extra="forbid")
    jwt: str = Field(min_length=1, max_length=16_384, description="the platform's JWT",
                     examples=["<a JWT: header.claims.signature>"])
    role: str | None = Field(default=None, max_length=63,
                             description="the role; omitted: the issuer's one role that "
                                         "accepts the JWT", examples=["etl-worker"])


class LoginAnswer(BaseModel):
    """The Blocks token (shown once) and what it stands for."""

    token: str = Field(examples=["blj_<payload>.<mac>"])
    expires_at: str
    ttl_seconds: int
    principal: str = Field(examples=["jwt:etl-worker:system:serviceaccount:etl:worker"])
    id: str
    role: str
    issuer: str
    policies: list[str]


class ConfigOut(BaseModel):
    """An issuer or a role and its document."""

    name: str
    document: dict[str, Any]


def _sessions(request: Request) -> JwtSessions:
    state = request.app.state
    found = getattr(state, "jwt_sessions", None)
    if found is None:
        authenticator = getattr(state, "authenticator", None)
        if isinstance(authenticator, TokenAuthenticator):
            found = authenticator.sessions
        else:
            registry = state.registry
            found = JwtSessions(JwtStore(registry.store, registry.sealer), access_store(request))
        state.jwt_sessions = found
    return found


def _login(request: Request) -> tuple[JwtLogin, Throttle]:
    state = request.app.state
    found = getattr(state, "jwt_login", None)
    if found is None:
        authenticator = getattr(state, "authenticator", None)
        throttle = getattr(authenticator, "throttle", None)
        found = (JwtLogin(_sessions(request)),
                 throttle if isinstance(throttle, Throttle) else Throttle())
        state.jwt_login = found
    return found


@router.post("/login", response_model=LoginAnswer)
def login(body: LoginRequest, request: Request) -> dict[str, Any]:
    """Exchange a JWT for a short-lived Blocks token (no Authorization header needed)."""
    exchange, throttle = _login(request)
    address = request.client.host if request.client is not None else "unknown"
    throttle.check(address)
    try:
        session = exchange.login(body.jwt, body.role)
    except Unauthorized:
        throttle.failed(address)
        raise
    throttle.succeeded(address)
    ttl = int(session.expires_at.timestamp() - exchange.sessions.clock().timestamp())
    return {"token": session.token, "expires_at": session.expires_at.isoformat(),
            "ttl_seconds": max(ttl, 0), "principal": session.name, "id": session.id,
            "role": session.role, "issuer": session.issuer, "policies": list(session.policies)}


def _kind(kind: Kind) -> str:
    return "issuer" if kind == "issuers" else "role"


@router.get("/{kind}", response_model=list[ConfigOut])
def list_config(kind: Kind, request: Request, principal: Admin) -> list[dict[str, Any]]:
    """Every issuer or role with its document."""
    principal.require("admin", "admin", "*")
    store = _sessions(request).jwt
    found: dict[str, Issuer] | dict[str, Role] = (
        store.issuers() if kind == "issuers" else store.roles())
    return [{"name": n, "document": dict(found[n].document)} for n in sorted(found)]


@router.get("/{kind}/{name}", response_model=ConfigOut)
def get_config(kind: Kind, name: str, request: Request, principal: Admin) -> dict[str, Any]:
    """One issuer or role."""
    principal.require("admin", "admin", "*")
    item: Issuer | Role | None = _sessions(request).jwt.config().get((_kind(kind), name))
    if item is None:
        raise not_found(_kind(kind), name)
    return {"name": name, "document": dict(item.document)}


@router.put("/{kind}/{name}", response_model=ConfigOut)
def put_config(kind: Kind, name: str, request: Request, response: Response,
               document: DocumentBody, principal: Admin) -> dict[str, Any]:
    """Create (201) or replace (200) an issuer or a role."""
    principal.require("admin", "admin", "*")
    store = _sessions(request).jwt
    item = parse(_kind(kind), name, document)
    created = store.put_role(item) if isinstance(item, Role) else store.put_issuer(item)
    if created:
        response.status_code = 201
    return {"name": name, "document": dict(item.document)}


@router.delete("/{kind}/{name}", status_code=204)
def delete_config(kind: Kind, name: str, request: Request, principal: Admin) -> Response:
    """Delete a role, or an issuer no role names (409 naming them otherwise)."""
    principal.require("admin", "admin", "*")
    _sessions(request).jwt.remove(_kind(kind), name)
    return Response(status_code=204)
