"""AES-256-GCM envelope: a fresh data key per sealed document. Hazardous materials: low-level.

Layout of every blob: ``0x01 | nonce (12 bytes) | ciphertext+tag``. The associated data binds a
blob to its place: :func:`binding` for documents and their wrapped data keys.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from json.encoder import encode_basestring_ascii as _quote

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from blocks.errors import DecryptionError

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
FORMAT = b"\x01"
Rng = Callable[[int], bytes]


def binding(block_id: str, type_slug: str, version: int) -> bytes:
    """Associated data tying a ciphertext to one version of one block.

    A JSON array is unambiguous: no choice of ids or slugs makes two bindings equal.
    """
    if not isinstance(version, int) or version < 1:
        raise ValueError("version must be a positive int")
    # Same bytes as json.dumps([...], separators=(",", ":")), built without the encoder
    # machinery because this runs on every load.
    return (
        f'["blocks/v1",{_quote(block_id)},{_quote(type_slug)},{version}]'.encode()
    )


def encrypt(key: bytes | AESGCM, plaintext: bytes, aad: bytes, *, rng: Rng = os.urandom) -> bytes:
    """AES-256-GCM encrypt with a random nonce; returns ``FORMAT | nonce | ct``."""
    aead = key if isinstance(key, AESGCM) else _aead(key)
    nonce = rng(NONCE_BYTES)
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"rng must return {NONCE_BYTES} bytes")
    return FORMAT + nonce + aead.encrypt(nonce, plaintext, aad)


def decrypt(key: bytes | AESGCM, blob: bytes, aad: bytes) -> bytes:
    """Inverse of :func:`encrypt`.

    Raises:
        DecryptionError: wrong key, wrong ``aad``, truncated or altered ``blob`` (one message).
    """
    aead = key if isinstance(key, AESGCM) else _aead(key)
    if (
        not isinstance(blob, bytes | bytearray | memoryview)
        or len(blob) < 1 + NONCE_BYTES + TAG_BYTES
        or blob[:1] != FORMAT
    ):
        raise DecryptionError()
    blob = bytes(blob)
    try:
        return aead.decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad)
    except InvalidTag:
        raise DecryptionError() from None


def seal(plaintext: bytes, aad: bytes, *, rng: Rng = os.urandom) -> tuple[bytes, bytes]:
    """Encrypt under a fresh data key. Returns ``(data_key, blob)``; wrap the key, drop it."""
    data_key = rng(KEY_BYTES)
    if len(data_key) != KEY_BYTES:
        raise ValueError(f"rng must return {KEY_BYTES} bytes")
    return data_key, encrypt(data_key, plaintext, aad, rng=rng)


def unseal(data_key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Open a blob made by :func:`seal` (raises :class:`DecryptionError`)."""
    return decrypt(data_key, blob, aad)


def _aead(key: bytes) -> AESGCM:
    if not isinstance(key, bytes):
        raise TypeError("key must be bytes")
    if len(key) != KEY_BYTES:
        raise ValueError(f"key must be {KEY_BYTES} bytes, got {len(key)}")
    return AESGCM(key)
