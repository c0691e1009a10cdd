"""``POST /v1/auth/jwt/login``: a platform's JWT in, a short-lived Blocks token out.

The JWT is checked with PyJWT (the ``server`` extra) against the trusted issuer its ``iss``
names (``blocks auth jwt issuer``): the header's ``alg`` must be one the issuer allows (never
``none``, never HS*), its ``kid`` must be in the issuer's JWKS (fetched from ``jwks_url`` with
a bounded cache, fetched again on an unknown ``kid`` at most every ``REFETCH_SECONDS``; or kept
sealed in the issuer's record), the signature must verify, ``iss`` must be the issuer's,
``aud`` must hold one of its audiences, and ``exp``, ``nbf`` and ``iat`` must hold with
``LEEWAY`` seconds of clock skew. Then a role must accept its claims (named by the caller, or
the only one of the issuer's roles that does). Every refusal is a 401 naming what failed,
never the JWT or a claim's value.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from blocks.access.jwt_config import Issuer, Role, jwks_problems
from blocks.access.jwt_sessions import JwtSessions, Session
from blocks.errors import MissingExtraError, Unauthorized

LEEWAY = 30
"""Seconds of clock skew allowed on ``exp``, ``nbf`` and ``iat``."""
REFETCH_SECONDS = 10.0
"""An unknown ``kid`` fetches an issuer's keys again at most this often."""
MAX_JWT = 16_384
MAX_JWKS_BYTES = 1_000_000


class JwksCache:
    """The keys of each issuer with a ``jwks_url``, fetched with httpx and kept
    ``jwks_cache_seconds`` (per replica; the issuer's record decides the URL).

    Args:
        fetch: GETs a URL and returns the parsed JSON (tests pass their own transport).
        clock: monotonic seconds.
    """

    def __init__(self, fetch: Callable[[str], Any] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.fetch = fetch or _fetch
        self.clock = clock
        self._keys: dict[tuple[str, str], tuple[float, dict[str, dict[str, Any]]]] = {}
        self._lock = threading.Lock()

    def key(self, issuer: Issuer, kid: str) -> dict[str, Any] | None:
        """The JWK ``kid`` of ``issuer``, or ``None`` when its JWKS has no such key."""
        inline = issuer.document.get("jwks")
        if inline is not None:
            return _by_kid(inline).get(kid)
        url = issuer.jwks_url
        assert url is not None
        cache_key = (issuer.name, url)
        now = self.clock()
        with self._lock:
            cached = self._keys.get(cache_key)
        if cached is not None:
            fetched, keys = cached
            fresh = now - fetched < issuer.cache_seconds
            if kid in keys and fresh:
                return keys[kid]
            if fresh and now - fetched < REFETCH_SECONDS:
                return None  # just fetched: an unknown kid does not make us fetch again
        keys = self._load(issuer, url)
        with self._lock:
            self._keys[cache_key] = (now, keys)
        return keys.get(kid)

    def _load(self, issuer: Issuer, url: str) -> dict[str, dict[str, Any]]:
        try:
            document = self.fetch(url)
        except (httpx.HTTPError, ValueError) as exc:
            raise Unauthorized(f"the keys of JWT issuer {issuer.name!r} could not be fetched "
                               f"from {url} ({type(exc).__name__}); check its jwks_url") from None
        problems = jwks_problems(document, "$")
        if problems:
            path, message = problems[0]
            raise Unauthorized(f"the JWKS of JWT issuer {issuer.name!r} at {url} is not "
                               f"usable: {path} {message}")
        return _by_kid(document)


def _fetch(url: str) -> Any:
    with httpx.Client(timeout=5.0, follow_redirects=False) as client:
        response = client.get(url, headers={"accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > MAX_JWKS_BYTES:
            raise ValueError("the JWKS document is larger than 1 MB")
        return response.json()


def _by_kid(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(k["kid"]): dict(k) for k in document.get("keys", [])
            if isinstance(k, Mapping) and isinstance(k.get("kid"), str)}


def _pyjwt() -> Any:
    try:
        import jwt
    except ImportError:
        raise MissingExtraError("PyJWT", "server", "verifying JWTs at /v1/auth/jwt/login") \
            from None
    return jwt


class JwtLogin:
    """Exchanges JWTs for Blocks tokens (see the module's doc).

    Args:
        sessions: mints the tokens (and holds the issuers and roles).
        jwks: the key cache (one per app, shared by its requests).
    """

    def __init__(self, sessions: JwtSessions, jwks: JwksCache | None = None) -> None:
        self.sessions = sessions
        self.jwks = jwks or JwksCache()

    def login(self, token: str, role_name: str | None = None) -> Session:
        """Verify ``token`` and mint a Blocks token for the role that accepts it.

        Raises:
            Unauthorized: naming what failed (never the JWT or a claim's value).
            IntegrityError: an issuer's or role's row was altered outside Blocks.
        """
        jwt = _pyjwt()
        if not isinstance(token, str) or not token or len(token) > MAX_JWT \
                or token.count(".") != 2:
            raise Unauthorized("the JWT is not well-formed: expected three base64url parts "
                               "separated by '.' (a JWS compact token)")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthorized("the JWT is not well-formed: its header or claims are not "
                               "base64url JSON") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg.lower() == "none":
            raise Unauthorized("the JWT is unsigned (alg 'none'): never accepted")
        config = self.sessions.jwt.config()
        issuer = self._issuer(config, unverified.get("iss"))
        role = self._named_role(config, issuer, role_name)
        if alg not in issuer.algorithms:
            raise Unauthorized(f"the JWT's algorithm {alg[:20]!r} is not allowed for JWT issuer "
                               f"{issuer.name!r} (allowed: {', '.join(issuer.algorithms)})")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("the JWT names no key (its header has no 'kid')")
        jwk = self.jwks.key(issuer, kid)
        if jwk is None:
            raise Unauthorized(f"the JWT's key (kid {kid[:80]!r}) is not in the JWKS of JWT "
                               f"issuer {issuer.name!r}")
        try:
            key = jwt.PyJWK(jwk, algorithm=alg).key
        except (jwt.PyJWTError, ValueError, KeyError, TypeError):  # a malformed or mismatched JWK
            raise Unauthorized(f"the key {kid[:80]!r} of JWT issuer {issuer.name!r} cannot "
                               f"verify {alg!r} signatures (a {jwk.get('kty')} key)") from None
        claims = self._verified(jwt, token, key, alg, issuer)
        role, member = self._role(config, issuer, role, claims)
        return self.sessions.mint(role, member, claims)

    @staticmethod
    def _issuer(config: Mapping[tuple[str, str], Any], iss: Any) -> Issuer:
        if not isinstance(iss, str):
            raise Unauthorized("the JWT has no 'iss' claim: the issuer cannot be told")
        for item in config.values():
            if isinstance(item, Issuer) and item.iss == iss:
                return item
        raise Unauthorized(f"the JWT's issuer {iss[:200]!r} is not a trusted JWT issuer (see "
                           "'blocks auth jwt issuer ls')")

    @staticmethod
    def _named_role(config: Mapping[tuple[str, str], Any], issuer: Issuer,
                    name: str | None) -> Role | None:
        if name is None:
            return None
        role = config.get(("role", name))
        if not isinstance(role, Role):
            raise Unauthorized(f"no JWT role named {name[:63]!r} (see 'blocks auth jwt role ls')")
        if role.issuer != issuer.name:
            raise Unauthorized(f"JWT role {name!r} trusts the issuer {role.issuer!r}, not the "
                               f"JWT's ({issuer.name!r})")
        return role

    @staticmethod
    def _verified(jwt: Any, token: str, key: Any, alg: str, issuer: Issuer) -> dict[str, Any]:
        name = issuer.name
        try:
            claims = jwt.decode(
                token, key, algorithms=[alg], audience=list(issuer.audiences),
                issuer=issuer.iss, leeway=LEEWAY,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the JWT has expired (its 'exp' is past); use a fresh one") \
                from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("the JWT is not valid yet (its 'nbf' or 'iat' is in the future;"
                               " check the clocks)") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized(f"the JWT's audience ('aud') is not one JWT issuer {name!r} "
                               f"accepts ({', '.join(issuer.audiences)})") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized(f"the JWT's issuer is not JWT issuer {name!r}'s") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(f"the JWT lacks the {exc.claim!r} claim") from None
        except jwt.InvalidSignatureError:
            raise Unauthorized(f"the JWT's signature does not verify with the key of JWT "
                               f"issuer {name!r} it names") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"the JWT does not verify ({type(exc).__name__})") from None
        if not isinstance(claims.get("sub"), str):
            raise Unauthorized("the JWT's 'sub' claim is not a string")
        return dict(claims)

    def _role(self, config: Mapping[tuple[str, str], Any], issuer: Issuer, named: Role | None,
              claims: Mapping[str, Any]) -> tuple[Role, int]:
        if named is not None:
            reason = named.refusal(claims)
            if reason is not None:
                raise Unauthorized(f"JWT role {named.name!r} does not accept this JWT: {reason}")
            return self.sessions.jwt.role(named.name)
        roles = [r for r in config.values() if isinstance(r, Role) and r.issuer == issuer.name]
        accepting = [r for r in roles if r.refusal(claims) is None]
        if not accepting:
            reasons = "; ".join(str(r.refusal(claims)) for r in roles[:3])
            raise Unauthorized(f"no role of JWT issuer {issuer.name!r} accepts this JWT"
                               + (f": {reasons}" if reasons else " (it has no roles)"))
        if len(accepting) > 1:
            names = ", ".join(r.name for r in accepting)
            raise Unauthorized(f"several roles accept this JWT ({names}): name one ('role' in "
                               "the request; clients: BLOCKS_API_JWT_ROLE)")
        return self.sessions.jwt.role(accepting[0].name)
