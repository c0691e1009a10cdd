"""Keys, JWKS documents and JWTs the machine-identity tests make (RS256 and ES256, keys from
``cryptography``), and a tiny JWKS server on a thread (the ``jwks_url`` case)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from blocks.access import policies
from blocks.access.jwt_config import parse_issuer, parse_role
from blocks.access.jwt_store import JwtStore
from blocks.access.store import AccessStore

ISS = "https://kubernetes.default.svc.cluster.local"
AUD = "blocks"
SUB = "system:serviceaccount:etl:worker"


@dataclass
class Key:
    """A signing key with its ``kid`` and algorithm."""

    kid: str
    alg: str
    private: Any

    def jwk(self) -> dict[str, Any]:
        """The public JWK."""
        public = self.private.public_key()
        if self.alg.startswith("RS"):
            found = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
        else:
            found = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public))
        return {**found, "kid": self.kid, "use": "sig", "alg": self.alg}

    def sign(self, claims: Mapping[str, Any], **header: Any) -> str:
        """A JWT of ``claims`` signed with this key (``kid`` in its header)."""
        return jwt.encode(dict(claims), self.private, algorithm=self.alg,
                          headers={"kid": self.kid, **header})


def rsa_key(kid: str = "rsa-1") -> Key:
    return Key(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


def ec_key(kid: str = "ec-1") -> Key:
    return Key(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))


def jwks(*keys: Key) -> dict[str, Any]:
    return {"keys": [k.jwk() for k in keys]}


def claims(**overrides: Any) -> dict[str, Any]:
    """A Kubernetes projected service-account token's claims (namespace ``etl``)."""
    now = int(time.time())
    found: dict[str, Any] = {
        "iss": ISS, "sub": SUB, "aud": [AUD], "iat": now, "nbf": now, "exp": now + 600,
        "kubernetes.io": {"namespace": "etl", "serviceaccount": {"name": "worker",
                                                                   "uid": "0b1c-..."}},
    }
    found.update(overrides)
    return {k: v for k, v in found.items() if v is not None}


def unsigned(payload: Mapping[str, Any], kid: str = "rsa-1") -> str:
    """A JWT with ``alg: none`` and no signature."""
    def part(value: Mapping[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{part(payload)}."


def setup_config(access: AccessStore, store: JwtStore, issuer_doc: Mapping[str, Any],
                 *, role_doc: Mapping[str, Any] | None = None) -> None:
    """A policy ``etl-read`` (``secret/etl-*`` read), the issuer ``k8s`` and the role
    ``etl-worker`` (namespace ``etl``, service account ``worker``)."""
    access.put_policy("etl-read", policies.parse("etl-read",
                                                 {"blocks": {"secret/etl-*": ["read"]}}))
    store.put_issuer(parse_issuer("k8s", {"issuer": ISS, "audiences": [AUD], **issuer_doc}))
    store.put_role(parse_role("etl-worker", role_doc or {
        "issuer": "k8s", "token_policies": ["etl-read"],
        "bound_claims": {"kubernetes.io.namespace": "etl",
                         "kubernetes.io.serviceaccount.name": "worker"}}))


@dataclass
class JwksServer:
    """What the JWKS server serves, and how often it was asked."""

    document: dict[str, Any]
    url: str = ""
    hits: list[float] = field(default_factory=list)


@contextmanager
def serve_jwks(document: dict[str, Any]) -> Iterator[JwksServer]:
    """A JWKS document over HTTP on 127.0.0.1 (a port the OS picks)."""
    state = JwksServer(document)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits.append(time.monotonic())
            body = json.dumps(state.document).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/openid/v1/jwks"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
