"""The rules of :class:`~blocks.types.snowflake.SnowflakeCredentials` that are not one field's:
which secrets each authenticator takes, workload identity, and the PEM private key (readable,
RSA, encrypted exactly when a passphrase is given). Each returns ``[(field, problem), ...]``."""

from __future__ import annotations

import re
import textwrap

# Which secrets each authenticator uses; every other secret is refused.
_USES: dict[str, frozenset[str]] = {
    "snowflake": frozenset({"password", "key"}),
    "snowflake_jwt": frozenset({"key"}),
    "externalbrowser": frozenset(),
    "okta_endpoint": frozenset({"password"}),
    "oauth": frozenset({"token"}),
    "username_password_mfa": frozenset({"password"}),
    # The token only with provider oidc: see workload_problems.
    "workload_identity": frozenset({"token"}),
}
_PEM_RE = re.compile(r"^(-----BEGIN [A-Z ]+-----)([\s\S]+?)(-----END [A-Z ]+-----)\s*$")


def auth_problems(authenticator: str, given: dict[str, bool]) -> list[tuple[str, str]]:
    """Each secret given (``given``: password, key, token -> present) that ``authenticator``
    does not use, or the one it needs and lacks, or two where it takes one."""
    uses = _USES[authenticator]
    field_of = {"password": "password", "key": "private_key", "token": "token"}
    problems = [
        (field_of[secret], f"not used with authenticator {authenticator}")
        for secret, present in given.items()
        if present and secret not in uses
    ]
    ordered = [s for s in ("password", "key", "token") if s in uses]
    present_used = [s for s in ordered if given[s]]
    if ordered and not present_used and authenticator != "workload_identity":
        wanted = " or ".join(
            "private_key (or private_key_path)" if s == "key" else s for s in ordered
        )
        problems.append((field_of[ordered[0]], f"authenticator {authenticator} needs {wanted}"))
    elif len(present_used) > 1:
        problems.append(
            ("password", "give a password or a private key, not both "
                         "(an encrypted key's passphrase goes in private_key_passphrase)")
        )
    return problems


def workload_problems(
    authenticator: str, provider: str | None, has_token: bool
) -> list[tuple[str, str]]:
    """A provider exactly with ``workload_identity``; a token exactly with provider oidc."""
    if authenticator != "workload_identity":
        if provider is not None:
            return [("workload_identity_provider", "only used with authenticator "
                                                   "workload_identity")]
        return []
    if provider is None:
        return [("workload_identity_provider", "required when authenticator is "
                                               "workload_identity (aws, azure, gcp or oidc)")]
    if provider == "oidc" and not has_token:
        return [("token", "required when workload_identity_provider is oidc")]
    if provider != "oidc" and has_token:
        return [("token", "only used with workload_identity_provider oidc")]
    return []


def pem_problems(pem: bytes, passphrase: str | None) -> list[tuple[str, str]]:
    """A readable RSA private key, with a passphrase exactly when it is encrypted."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        text = normalise_pem(pem)
    except ValueError as exc:
        return [("private_key", str(exc))]
    encrypted = b"ENCRYPTED" in text.split(b"\n", 2)[0] or b"Proc-Type: 4,ENCRYPTED" in text
    if encrypted and passphrase is None:
        return [("private_key_passphrase", "required: the private key is encrypted")]
    if not encrypted and passphrase is not None:
        return [("private_key_passphrase", "given, but the private key is not encrypted")]
    try:
        key = serialization.load_pem_private_key(
            text,
            password=passphrase.encode() if passphrase is not None else None,
            unsafe_skip_rsa_key_validation=True,  # only parsing here; full checks on use
        )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        if encrypted:
            return [("private_key_passphrase", "does not decrypt the private key")]
        return [("private_key", "is not a readable PEM private key")]
    if not isinstance(key, rsa.RSAPrivateKey):
        return [("private_key", "must be an RSA key (Snowflake key-pair auth uses RSA)")]
    return []


def normalise_pem(pem: bytes) -> bytes:
    """The PEM with its body re-wrapped at 64 columns (pasted keys often lose newlines)."""
    try:
        text = pem.decode("ascii").strip()
    except UnicodeDecodeError:
        raise ValueError("is not PEM text (expected -----BEGIN PRIVATE KEY-----)") from None
    match = _PEM_RE.match(text)
    if match is None:
        raise ValueError("is not PEM text (expected -----BEGIN PRIVATE KEY-----)")
    header, body, footer = match.groups()
    if ":" in body:  # legacy encrypted PEM with Proc-Type/DEK-Info headers: keep its layout
        return f"{header}\n{body.strip()}\n{footer}\n".encode()
    lines = textwrap.wrap("".join(body.split()), 64)
    return "\n".join([header, *lines, footer, ""]).encode()
