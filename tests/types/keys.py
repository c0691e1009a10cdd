"""RSA keys for the Snowflake tests, made once per session (key generation takes a moment)."""

from __future__ import annotations

from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PASSPHRASE = "correct horse battery staple"


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(*, passphrase: str | None = None, traditional: bool = False) -> bytes:
    """The RSA key as PEM: PKCS#8 by default, or the traditional OpenSSL format; encrypted with
    ``passphrase`` when given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase is not None
        else serialization.NoEncryption()
    )
    fmt = (
        serialization.PrivateFormat.TraditionalOpenSSL
        if traditional
        else serialization.PrivateFormat.PKCS8
    )
    return rsa_key().private_bytes(serialization.Encoding.PEM, fmt, encryption)


def ec_pem() -> bytes:
    """An EC key as PKCS#8 PEM (Snowflake refuses non-RSA keys)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def expected_der() -> bytes:
    """The unencrypted PKCS#8 DER the Snowflake connector takes."""
    return rsa_key().private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
