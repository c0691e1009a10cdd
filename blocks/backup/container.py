"""The backup file format: a header, then AES-256-GCM chunks. Hazardous materials: low-level.

Layout::

    MAGIC (16 bytes) | header length (4 bytes, big-endian) | header (canonical JSON)
    then chunks:  flag (1 byte: 0 more, 1 final) | length (4 bytes) | ciphertext + tag

The header says how the file's key is obtained (``key``: scrypt parameters and salt for a
passphrase, or the key provider, key id and wrapped key) and carries a random ``backup_id`` and
a ``check`` value (an HKDF output of the key) so a wrong passphrase is told apart from an
altered file. Chunk ``i`` is encrypted under ``HKDF(secret, salt=backup_id)`` with the nonce
``i`` (96-bit big-endian: a fresh key per file, so a counter never repeats) and the associated
data ``"blocks-backup/v1" | SHA-256(magic, length, header) | i | flag``: a changed header, a
chunk moved, dropped, repeated or altered, a flag flipped, or a file cut after any chunk but
the final one, fails to open. Bytes after the final chunk are refused too.

The plaintext of the chunks is one stream of newline-terminated JSON records
(:mod:`blocks.backup.kinds`); a record may span chunks, so memory is bounded by the chunk size
and the largest record, never by the size of the registry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from blocks.errors import BackupError, DecryptionError
from blocks.keys.base import KeyProvider

MAGIC = b"BLOCKS-BACKUP\x00v1"
FORMAT = 1
CHUNK_BYTES = 64 * 1024
_MAX_CHUNK = 1024 * 1024 + 16
_MAX_HEADER = 64 * 1024
_TAG = b"blocks-backup/v1"
SCRYPT_LOG2_N = 17  # 128 MiB, about 0.3 s: OWASP's recommendation for scrypt
SCRYPT_R, SCRYPT_P = 8, 1
_LOG2_N_RANGE = range(14, 19)  # at most 256 MiB: a header cannot make a restore use more


def b64(data: bytes) -> str:
    """Base64 text of ``data``."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any, what: str, where: str) -> bytes:
    """Bytes of base64 ``text`` (a header field); :class:`BackupError` naming it otherwise."""
    try:
        return base64.b64decode(str(text), validate=True)
    except (ValueError, TypeError):
        raise BackupError(f"{where}: header field {what} is not base64; the file is not a "
                          "Blocks backup or was altered") from None


# -- where the file's key comes from ---------------------------------------------------------


@dataclass(frozen=True)
class Passphrase:
    """A passphrase (read from a file; see :func:`blocks.backup.keysource.read_passphrase`)."""

    value: bytes

    def __repr__(self) -> str:
        return "Passphrase(***)"


@dataclass(frozen=True)
class ProviderKey:
    """A key of a key provider (KMS, Vault Transit, a local key file) that wraps the file key."""

    provider: KeyProvider

    def __repr__(self) -> str:
        return f"ProviderKey({self.provider.name} {self.provider.key_id})"


BackupKey = Passphrase | ProviderKey


def _context(backup_id: str) -> dict[str, str]:
    return {"purpose": "blocks-backup", "backup": backup_id}


def _scrypt(passphrase: bytes, salt: bytes, log2_n: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**log2_n, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase)


def _derive(secret: bytes, backup_id: str, purpose: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=bytes.fromhex(backup_id),
                info=b"blocks-backup/v1 " + purpose).derive(secret)


def new_header(key: BackupKey, *, created_at: str, rng: Callable[[int], bytes] = os.urandom,
               log2_n: int = SCRYPT_LOG2_N) -> tuple[dict[str, Any], bytes]:
    """A header for a new backup under ``key``, and the file's secret."""
    backup_id = rng(16).hex()
    if isinstance(key, Passphrase):
        salt = rng(16)
        secret = _scrypt(key.value, salt, log2_n)
        spec: dict[str, Any] = {"kind": "passphrase", "kdf": "scrypt", "log2_n": log2_n,
                                "r": SCRYPT_R, "p": SCRYPT_P, "salt": b64(salt)}
    else:
        secret = rng(32)
        spec = {"kind": "key-provider", "provider": key.provider.name,
                "key_id": key.provider.key_id,
                "wrapped": b64(key.provider.wrap(secret, _context(backup_id)))}
    header = {"format": FORMAT, "backup_id": backup_id, "created_at": created_at,
              "cipher": "AES-256-GCM", "chunk_bytes": CHUNK_BYTES, "key": spec,
              "check": b64(_derive(secret, backup_id, b"check", 16))}
    return header, secret


def open_secret(header: dict[str, Any], key: BackupKey, where: str) -> bytes:
    """The file's secret from its header and the key given; refuses a wrong one by name."""
    spec = header.get("key")
    backup_id = header.get("backup_id")
    if not isinstance(spec, dict) or not isinstance(backup_id, str) or len(backup_id) != 32:
        raise BackupError(f"{where}: its header has no key description; the file is not a "
                          "Blocks backup or was altered")
    kind = spec.get("kind")
    if kind == "passphrase":
        if not isinstance(key, Passphrase):
            raise BackupError(f"{where} was made with a passphrase; pass --passphrase-file")
        log2_n = spec.get("log2_n")
        if (spec.get("kdf") != "scrypt" or type(log2_n) is not int
                or log2_n not in _LOG2_N_RANGE or spec.get("r") != SCRYPT_R
                or spec.get("p") != SCRYPT_P):
            raise BackupError(f"{where}: unsupported key derivation in its header (scrypt with "
                              f"log2_n {_LOG2_N_RANGE.start}-{_LOG2_N_RANGE.stop - 1}, r 8, "
                              "p 1 expected); the file was altered or made by another program")
        secret = _scrypt(key.value, unb64(spec.get("salt"), "key.salt", where), log2_n)
        wrong = f"{where} does not open with this passphrase (wrong passphrase file?)"
    elif kind == "key-provider":
        if not isinstance(key, ProviderKey):
            raise BackupError(
                f"{where} was made with the key {spec.get('provider')!s:.40} "
                f"{spec.get('key_id')!s:.200}; pass --backup-key with that key")
        provider = key.provider
        if spec.get("provider") != provider.name:
            raise BackupError(f"{where} was made with a {spec.get('provider')!s:.40} key, not "
                              f"{provider.name}; pass --backup-key with the key it was made with")
        try:
            secret = provider.unwrap(unb64(spec.get("wrapped"), "key.wrapped", where),
                                     _context(backup_id))
        except DecryptionError:
            raise BackupError(f"{where} does not open with the key {provider.name} "
                              f"{provider.key_id} (the file names {spec.get('key_id')!s:.200}); "
                              "pass --backup-key with the key it was made with") from None
        wrong = f"{where} does not open with the key {provider.name} {provider.key_id}"
    else:
        raise BackupError(f"{where}: unknown key kind in its header; the file is not a Blocks "
                          "backup or was made by a newer version of Blocks")
    check = unb64(header.get("check"), "check", where)
    if not hmac.compare_digest(check, _derive(secret, backup_id, b"check", 16)):
        raise BackupError(wrong)
    return secret


# -- chunks ----------------------------------------------------------------------------------


def _aad(header_digest: bytes, index: int, final: bool) -> bytes:
    return _TAG + header_digest + struct.pack(">QB", index, int(final))


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


class Writer:
    """Writes a backup: the header at once, then records as chunks; :meth:`close` writes the
    final chunk (a file without it never restores)."""

    def __init__(self, out: BinaryIO, header: dict[str, Any], secret: bytes) -> None:
        raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
        prefix = MAGIC + struct.pack(">I", len(raw)) + raw
        out.write(prefix)
        self._out = out
        self._digest = hashlib.sha256(prefix).digest()
        self._aead = AESGCM(_derive(secret, header["backup_id"], b"chunks"))
        self._buffer = bytearray()
        self._index = 0
        self.bytes_written = len(prefix)

    def record(self, record: dict[str, Any]) -> None:
        """Append one record (a JSON object)."""
        self._buffer += json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()
        self._buffer += b"\n"
        while len(self._buffer) > CHUNK_BYTES:
            self._chunk(bytes(self._buffer[:CHUNK_BYTES]), final=False)
            del self._buffer[:CHUNK_BYTES]

    def close(self) -> None:
        """Write what is left as the final chunk."""
        self._chunk(bytes(self._buffer), final=True)
        self._buffer.clear()

    def _chunk(self, plain: bytes, *, final: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._index), plain,
                                    _aad(self._digest, self._index, final))
        frame = struct.pack(">BI", int(final), len(sealed)) + sealed
        self._out.write(frame)
        self.bytes_written += len(frame)
        self._index += 1


def read_header(src: BinaryIO, where: str) -> tuple[dict[str, Any], bytes]:
    """The header of a backup and the digest its chunks are bound to."""
    magic = src.read(len(MAGIC))
    if magic != MAGIC:
        raise BackupError(f"{where} is not a Blocks backup (it does not start with the backup "
                          "marker)")
    size = _exactly(src, 4, where, "its header")
    (length,) = struct.unpack(">I", size)
    if length > _MAX_HEADER:
        raise BackupError(f"{where}: its header is too large; the file was altered")
    raw = _exactly(src, length, where, "its header")
    try:
        header = json.loads(raw)
    except ValueError:
        header = None
    if not isinstance(header, dict):
        raise BackupError(f"{where}: its header is not JSON; the file was altered")
    if header.get("format") != FORMAT:
        raise BackupError(f"{where} has backup format {header.get('format')!s:.20}; this "
                          f"version of Blocks reads format {FORMAT}")
    return header, hashlib.sha256(MAGIC + size + raw).digest()


def records(src: BinaryIO, header: dict[str, Any], digest: bytes, secret: bytes,
            where: str) -> Iterator[dict[str, Any]]:
    """Every record of the file in order, each only after its chunk authenticated.

    Raises:
        BackupError: a chunk does not authenticate, the file ends before the final chunk, or
            bytes follow it.
    """
    aead = AESGCM(_derive(secret, header["backup_id"], b"chunks"))
    pending = b""
    index = 0
    while True:
        frame = src.read(5)
        if len(frame) < 5:
            raise BackupError(f"{where} is truncated: it ends after chunk {index} without the "
                              "final chunk (an interrupted copy?); nothing was restored")
        flag, length = struct.unpack(">BI", frame)
        if flag not in (0, 1) or length > _MAX_CHUNK:
            raise BackupError(f"{where}: chunk {index} is malformed; the file was altered")
        sealed = _exactly(src, length, where, f"chunk {index}")
        try:
            plain = aead.decrypt(_nonce(index), sealed, _aad(digest, index, bool(flag)))
        except InvalidTag:
            raise BackupError(f"{where}: chunk {index} does not authenticate (the file was "
                              "altered, or chunks were reordered); nothing was restored"
                              ) from None
        pending += plain
        lines = pending.split(b"\n")
        pending = lines.pop()
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                raise BackupError(f"{where}: a record in chunk {index} is not JSON; the file "
                                  "was made by another program") from None
            yield record
        index += 1
        if flag:
            break
    if pending or src.read(1):
        raise BackupError(f"{where}: data follows its final chunk; the file was altered")


def _exactly(src: BinaryIO, n: int, where: str, what: str) -> bytes:
    data = src.read(n)
    if len(data) != n:
        raise BackupError(f"{where} is truncated inside {what}; nothing was restored")
    return data
