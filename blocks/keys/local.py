"""The ``local`` master-key provider: 32 random bytes in a 0600 file or ``BLOCKS_MASTER_KEY``.

Hazardous materials: low-level.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from blocks.errors import DecryptionError, KeyProviderError
from blocks.keys.base import canonical_context
from blocks.private_files import private_dir

KEY_BYTES = 32
NONCE_BYTES = 12
_FORMAT = b"\x01"  # first byte of every wrapped value; lets us change the layout later


def decode_master_key(text: str) -> bytes:
    """Decode a base64 (standard or URL-safe) 32-byte master key.

    Raises:
        ValueError: not base64, or not 32 bytes once decoded.
    """
    raw = text.strip().encode()
    try:
        key = base64.urlsafe_b64decode(raw.replace(b"+", b"-").replace(b"/", b"_"))
    except (binascii.Error, ValueError):
        raise ValueError("the master key must be base64 of 32 random bytes") from None
    if len(key) != KEY_BYTES:
        raise ValueError(
            f"the master key must be base64 of {KEY_BYTES} random bytes, got {len(key)} bytes"
        )
    return key


def encode_master_key(key: bytes) -> str:
    """Base64 text of a master key, as kept in the key file."""
    return base64.urlsafe_b64encode(key).decode()


class LocalKeyProvider:
    """AES-256-GCM wrapping under a master key held on this machine.

    Args:
        key: the 32-byte master key.
        source: where the key came from (a file path or ``BLOCKS_MASTER_KEY``), for messages.
        rng: randomness for nonces; injectable for known-answer tests.
    """

    name = "local"

    def __init__(
        self,
        key: bytes,
        *,
        source: str = "memory",
        rng: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if not isinstance(key, bytes):
            raise TypeError("the master key must be bytes")
        if len(key) != KEY_BYTES:
            raise ValueError(f"the master key must be {KEY_BYTES} bytes, got {len(key)}")
        self._aead = AESGCM(key)
        self._fingerprint = hashlib.sha256(b"blocks-master-key-id\x00" + key).hexdigest()[:16]
        self._source = source
        self._rng = rng

    def __repr__(self) -> str:
        return f"LocalKeyProvider(key_id={self.key_id!r}, source={self._source!r})"

    @classmethod
    def from_file(cls, path: Path, *, create: bool = False) -> LocalKeyProvider:
        """Read the key file, creating it with mode 0600 when ``create`` is true and it is absent.

        Raises:
            KeyProviderError: the file is missing (and not created), unreadable, malformed, or
                readable by group or others.
        """
        if not path.exists():
            if not create:
                raise KeyProviderError(
                    "local", str(path),
                    "master key file not found; run 'blocks init' or set BLOCKS_MASTER_KEY",
                )
            private_dir(path.parent)
            key = os.urandom(KEY_BYTES)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(encode_master_key(key) + "\n")
            return cls(key, source=str(path))
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise KeyProviderError(
                "local", str(path),
                f"master key file has mode {mode:o}; run 'chmod 600 {path}'",
            )
        try:
            key = decode_master_key(path.read_text())
        except ValueError as exc:
            raise KeyProviderError("local", str(path), str(exc)) from None
        except OSError as exc:
            raise KeyProviderError("local", str(path), f"cannot read: {exc.strerror}") from None
        return cls(key, source=str(path))

    @property
    def key_id(self) -> str:
        return f"sha256:{self._fingerprint}"

    @property
    def endpoint(self) -> str:
        return self._source

    def wrap(self, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        nonce = self._rng(NONCE_BYTES)
        return _FORMAT + nonce + self._aead.encrypt(nonce, plaintext, canonical_context(context))

    def unwrap(self, wrapped: bytes, context: Mapping[str, str]) -> bytes:
        aad = canonical_context(context)
        if len(wrapped) < 1 + NONCE_BYTES + 16 or wrapped[:1] != _FORMAT:
            raise DecryptionError()
        nonce, body = wrapped[1 : 1 + NONCE_BYTES], wrapped[1 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, aad)
        except InvalidTag:
            raise DecryptionError() from None

    def check(self) -> None:
        probe = b"blocks-health-check"
        if self.unwrap(self.wrap(probe, {"purpose": "check"}), {"purpose": "check"}) != probe:
            raise KeyProviderError("local", self._source, "wrap/unwrap round trip failed")
