"""Machine identities: the trusted JWT issuers and the roles that map their claims to policies.

An **issuer** (``blocks auth jwt issuer put NAME``) is a JSON object::

    {"issuer": "https://kubernetes.default.svc.cluster.local",
     "jwks_url": "https://kubernetes.default.svc/openid/v1/jwks",   # or "jwks": {"keys": [...]}
     "audiences": ["blocks"], "algorithms": ["RS256", "ES256"], "jwks_cache_seconds": 300}

A **role** (``blocks auth jwt role put NAME``), as Vault's JWT auth roles::

    {"issuer": "k8s", "bound_subject": "system:serviceaccount:etl:*",
     "bound_claims": {"kubernetes.io.namespace": "etl"}, "bound_audiences": ["blocks"],
     "token_policies": ["etl-read"], "token_ttl": "15m"}

Claim paths name a top-level claim (``repository``) or a nested one with dots
(``kubernetes.io.namespace`` is ``{"kubernetes.io": {"namespace": ...}}``). A bound value is a
glob (``*`` any run of characters, ``?`` one) or a list of globs (any may match); a claim that
is a list matches when one of its strings does. Unknown keys, algorithms outside the list
below, private or symmetric keys are errors naming the JSON path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from blocks.access.tokens import parse_ttl
from blocks.core import validate_name
from blocks.crypto.integrity import canonical_json
from blocks.errors import InvalidArgument, ValidationError

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
              "EdDSA")
"""Signature algorithms an issuer may allow: public-key ones only (never ``none`` or HS*)."""
DEFAULT_ALGORITHMS = ("RS256", "ES256")
DEFAULT_TTL = "15m"
MAX_TTL = timedelta(hours=12)
_PRIVATE = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_ISSUER_KEYS = ("issuer", "jwks_url", "jwks", "audiences", "algorithms", "jwks_cache_seconds",
                "description")
_ROLE_KEYS = ("issuer", "bound_subject", "bound_claims", "bound_audiences", "token_policies",
              "token_ttl", "description")
MAX_KEYS = 50
MAX_CLAIMS = 32


@dataclass(frozen=True)
class Issuer:
    """A validated trusted issuer."""

    name: str
    document: Mapping[str, Any]

    @property
    def iss(self) -> str:
        """The ``iss`` claim its JWTs carry."""
        return str(self.document["issuer"])

    @property
    def jwks_url(self) -> str | None:
        """Where its keys are fetched from (``None``: they are in the document)."""
        url = self.document.get("jwks_url")
        return str(url) if url is not None else None

    @property
    def audiences(self) -> tuple[str, ...]:
        """A JWT's ``aud`` must hold one of these."""
        return tuple(self.document["audiences"])

    @property
    def algorithms(self) -> tuple[str, ...]:
        """The signature algorithms accepted."""
        return tuple(self.document.get("algorithms", DEFAULT_ALGORITHMS))

    @property
    def cache_seconds(self) -> int:
        """How long fetched keys are used before they are fetched again."""
        return int(self.document.get("jwks_cache_seconds", 300))

    def canonical(self) -> str:
        """The document as stored."""
        return canonical_json(dict(self.document)).decode()


@dataclass(frozen=True)
class Role:
    """A validated role: which JWTs of an issuer it accepts and what their tokens may do."""

    name: str
    document: Mapping[str, Any]

    @property
    def issuer(self) -> str:
        """The name of its issuer."""
        return str(self.document["issuer"])

    @property
    def policies(self) -> tuple[str, ...]:
        """The access policies its tokens hold."""
        return tuple(self.document["token_policies"])

    @property
    def ttl(self) -> timedelta:
        """How long its tokens live."""
        return parse_ttl(str(self.document.get("token_ttl", DEFAULT_TTL)))

    def canonical(self) -> str:
        """The document as stored."""
        return canonical_json(dict(self.document)).decode()

    def refusal(self, claims: Mapping[str, Any]) -> str | None:
        """Why this role does not accept a JWT with ``claims`` (``None``: it does). Names
        the claim, never its value."""
        doc = self.document
        audiences = doc.get("bound_audiences")
        if audiences and not any(a in audiences for a in _strings(claims.get("aud"))):
            return f"role {self.name!r} needs 'aud' to hold one of its bound_audiences"
        subject = doc.get("bound_subject")
        if subject is not None and not _matches(claims.get("sub"), [subject]):
            return f"role {self.name!r} needs 'sub' to match its bound_subject"
        for path, wanted in doc.get("bound_claims", {}).items():
            globs = [wanted] if isinstance(wanted, str) else list(wanted)
            if not _matches(claim(claims, path), globs):
                return f"role {self.name!r} needs claim {path!r} to match its bound_claims"
        return None


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """The value of claim ``path``: a top-level key, or nested keys joined by dots (the
    longest key that exists is taken first: ``kubernetes.io.namespace``)."""
    if path in claims:
        return claims[path]
    cut = path.rfind(".")
    while cut > 0:
        head = path[:cut]
        inner = claims.get(head)
        if isinstance(inner, Mapping):
            found = claim(inner, path[cut + 1:])
            if found is not None:
                return found
        cut = path.rfind(".", 0, cut)
    return None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _glob(pattern: str) -> re.Pattern[str]:
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL)


def _matches(value: Any, globs: Sequence[str]) -> bool:
    return any(_glob(g).fullmatch(v) for v in _strings(value) for g in globs)


def _string_list(doc: Mapping[str, Any], key: str, errors: list[tuple[str, str]],
                 example: str, *, required: bool) -> None:
    value = doc.get(key)
    if value is None:
        if required:
            errors.append((f"$.{key}", f"is required: a non-empty list of strings, e.g. {example}"))
        return
    if (not isinstance(value, list) or not value or len(value) > 50
            or not all(isinstance(v, str) and 0 < len(v) <= 500 for v in value)):
        errors.append((f"$.{key}", f"must be a non-empty list of strings, e.g. {example}"))


def _unknown(doc: Mapping[str, Any], allowed: Sequence[str], errors: list[tuple[str, str]],
             what: str) -> None:
    for key in doc:
        if key not in allowed:
            errors.append((f"$.{key}" if isinstance(key, str) else "$",
                           f"unknown key; {what} has only {', '.join(allowed)}"))


def _description(doc: Mapping[str, Any], errors: list[tuple[str, str]]) -> None:
    text = doc.get("description", "")
    if not isinstance(text, str) or len(text) > 500:
        errors.append(("$.description", "must be a string of at most 500 characters"))


def parse_issuer(name: str, document: Any) -> Issuer:
    """Validate an issuer document (a parsed JSON value).

    Raises:
        InvalidName: a bad name.
        ValidationError: naming the JSON path and the fix.
    """
    validate_name(name, "issuer name")
    what = f"JWT issuer {name}"
    if not isinstance(document, Mapping):
        raise ValidationError(what, [("$", 'an issuer is a JSON object such as {"issuer": '
                                           '"https://...", "jwks_url": "https://...", '
                                           '"audiences": ["blocks"]}')])
    errors: list[tuple[str, str]] = []
    _unknown(document, _ISSUER_KEYS, errors, "an issuer")
    iss = document.get("issuer")
    if not isinstance(iss, str) or not 0 < len(iss) <= 500:
        errors.append(("$.issuer", "is required: the exact 'iss' claim of its JWTs, e.g. "
                                   "https://token.actions.githubusercontent.com"))
    url, keys = document.get("jwks_url"), document.get("jwks")
    if (url is None) == (keys is None):
        errors.append(("$", "give exactly one of jwks_url (fetched by the server) and jwks "
                            "(the keys themselves, e.g. from --jwks-file)"))
    if url is not None and (not isinstance(url, str) or len(url) > 2000
                            or not url.startswith(("https://", "http://"))):
        errors.append(("$.jwks_url", "must be an http(s) URL of a JWKS document"))
    if keys is not None:
        errors += jwks_problems(keys, "$.jwks")
    _string_list(document, "audiences", errors, '["blocks"]', required=True)
    algorithms = document.get("algorithms", list(DEFAULT_ALGORITHMS))
    if not isinstance(algorithms, list) or not algorithms:
        errors.append(("$.algorithms", "must be a non-empty list, e.g. [\"RS256\", \"ES256\"]"))
    else:
        for i, alg in enumerate(algorithms):
            if alg not in ALGORITHMS:
                shown = repr(alg[:20]) if isinstance(alg, str) else "this value"
                errors.append((f"$.algorithms[{i}]", f"{shown} is not allowed: use public-key "
                                                     f"algorithms only ({', '.join(ALGORITHMS)}); "
                                                     "'none' and HS* never are"))
    seconds = document.get("jwks_cache_seconds", 300)
    if type(seconds) is not int or not 10 <= seconds <= 86400:
        errors.append(("$.jwks_cache_seconds", "must be a whole number of seconds, 10 to 86400"))
    _description(document, errors)
    if errors:
        raise ValidationError(what, errors)
    clean = {k: document[k] for k in _ISSUER_KEYS if k in document}
    return Issuer(name, clean)


def jwks_problems(keys: Any, path: str) -> list[tuple[str, str]]:
    """What is wrong with a JWKS document (public keys with a ``kid`` each), by JSON path."""
    if not isinstance(keys, Mapping) or not isinstance(keys.get("keys"), list):
        return [(path, 'must be a JWKS document: {"keys": [{"kty": "RSA", "kid": ..., ...}]}')]
    found = keys["keys"]
    if not found or len(found) > MAX_KEYS:
        return [(f"{path}.keys", f"must hold 1 to {MAX_KEYS} keys")]
    errors = []
    for i, key in enumerate(found):
        where = f"{path}.keys[{i}]"
        if not isinstance(key, Mapping):
            errors.append((where, "must be a JSON object (a JWK)"))
            continue
        if key.get("kty") not in ("RSA", "EC", "OKP"):
            errors.append((f"{where}.kty", "must be RSA, EC or OKP: public keys only (a "
                                           "symmetric 'oct' key is never accepted)"))
        if any(p in key for p in _PRIVATE):
            errors.append((where, "is a private key: give the issuer's public keys only"))
        if not isinstance(key.get("kid"), str) or not key["kid"]:
            errors.append((f"{where}.kid", "is required: a JWT names its key by kid"))
    return errors


def parse_role(name: str, document: Any) -> Role:
    """Validate a role document (a parsed JSON value).

    Raises:
        InvalidName: a bad name.
        ValidationError: naming the JSON path and the fix.
    """
    validate_name(name, "role name")
    what = f"JWT role {name}"
    if not isinstance(document, Mapping):
        raise ValidationError(what, [("$", 'a role is a JSON object such as {"issuer": "k8s", '
                                           '"bound_subject": "system:serviceaccount:etl:worker",'
                                           ' "token_policies": ["etl-read"]}')])
    errors: list[tuple[str, str]] = []
    _unknown(document, _ROLE_KEYS, errors, "a role")
    issuer = document.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        errors.append(("$.issuer", "is required: the name of a trusted issuer ('blocks auth jwt "
                                   "issuer ls')"))
    subject = document.get("bound_subject")
    if subject is not None and (not isinstance(subject, str) or not 0 < len(subject) <= 500):
        errors.append(("$.bound_subject", "must be a glob of the 'sub' claim, e.g. "
                                          "system:serviceaccount:etl:*"))
    claims = document.get("bound_claims", {})
    if not isinstance(claims, Mapping) or len(claims) > MAX_CLAIMS:
        errors.append(("$.bound_claims", f"must be an object of at most {MAX_CLAIMS} claim "
                                         'paths to globs, e.g. {"repository": "org/*"}'))
        claims = {}
    for path, wanted in claims.items():
        globs = [wanted] if isinstance(wanted, str) else wanted
        if (not isinstance(path, str) or not 0 < len(path) <= 200
                or not isinstance(globs, list) or not globs
                or not all(isinstance(g, str) and 0 < len(g) <= 500 for g in globs)):
            errors.append((f"$.bound_claims[{path!r}]", "must be a glob string or a non-empty "
                                                        "list of glob strings"))
    if subject is None and not claims:
        errors.append(("$", "a role must bind the subject or a claim (bound_subject or "
                            "bound_claims): otherwise every JWT of the issuer would be accepted"))
    _string_list(document, "bound_audiences", errors, '["blocks"]', required=False)
    _string_list(document, "token_policies", errors, '["etl-read"]', required=True)
    ttl = document.get("token_ttl", DEFAULT_TTL)
    try:
        if not isinstance(ttl, str) or parse_ttl(ttl) > MAX_TTL:
            raise InvalidArgument("too long")
    except InvalidArgument:
        errors.append(("$.token_ttl", "must be a duration from 1s to 12h, e.g. 15m (default) "
                                      "or 1h"))
    _description(document, errors)
    if errors:
        raise ValidationError(what, errors)
    clean = {k: document[k] for k in _ROLE_KEYS if k in document}
    return Role(name, clean)
