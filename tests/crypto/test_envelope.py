"""Envelope: known-answer vectors, one opaque DecryptionError, TypeError/ValueError on misuse."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blocks import DecryptionError
from blocks.crypto import envelope

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "envelope.json").read_text())


def fixed(*chunks: bytes) -> Any:
    parts: Iterator[bytes] = iter(chunks)
    return lambda n: next(parts)


@pytest.mark.parametrize("vec", VECTORS["vectors"], ids=lambda v: v["type_slug"])
def test_known_answer_vectors(vec: dict[str, Any]) -> None:
    key, nonce = bytes.fromhex(vec["key"]), bytes.fromhex(vec["nonce"])
    aad = envelope.binding(vec["block_id"], vec["type_slug"], vec["version"])
    assert aad.hex() == vec["aad"]
    data_key, blob = envelope.seal(bytes.fromhex(vec["plaintext"]), aad, rng=fixed(key, nonce))
    assert (data_key, blob.hex()) == (key, vec["blob"])
    assert envelope.unseal(key, bytes.fromhex(vec["blob"]), aad).hex() == vec["plaintext"]


def sealed() -> tuple[bytes, bytes, bytes]:
    aad = envelope.binding("id-1", "secret", 1)
    key, blob = envelope.seal(b"top secret", aad)
    return key, blob, aad


def test_every_byte_flip_fails_with_the_same_message() -> None:
    key, blob, aad = sealed()
    messages = set()
    for i in range(len(blob)):
        bad = bytearray(blob)
        bad[i] ^= 0x01
        with pytest.raises(DecryptionError) as info:
            envelope.unseal(key, bytes(bad), aad)
        messages.add(str(info.value))
    assert messages == {DecryptionError.MESSAGE}


@pytest.mark.parametrize("cut", [0, 1, 12, 28, -1])
def test_truncated_blob_fails(cut: int) -> None:
    key, blob, aad = sealed()
    with pytest.raises(DecryptionError):
        envelope.unseal(key, blob[:cut], aad)


def test_wrong_binding_fails_for_id_type_and_version() -> None:
    key, blob, _ = sealed()
    for aad in (envelope.binding("id-2", "secret", 1), envelope.binding("id-1", "s3-bucket", 1),
                envelope.binding("id-1", "secret", 2)):
        with pytest.raises(DecryptionError):
            envelope.unseal(key, blob, aad)


def test_wrong_key_fails() -> None:
    _, blob, aad = sealed()
    with pytest.raises(DecryptionError):
        envelope.unseal(b"\x07" * 32, blob, aad)


def test_each_seal_uses_a_fresh_key_and_nonce() -> None:
    aad = envelope.binding("id", "secret", 1)
    results = {envelope.seal(b"same", aad) for _ in range(50)}
    assert len({k for k, _ in results}) == 50 and len({b for _, b in results}) == 50


def test_misuse_raises_type_and_value_errors() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        envelope.encrypt(b"short", b"x", b"")
    with pytest.raises(TypeError):
        envelope.encrypt("not bytes", b"x", b"")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        envelope.binding("id", "secret", 0)
    with pytest.raises(ValueError, match="12 bytes"):
        envelope.encrypt(b"\x00" * 32, b"x", b"", rng=lambda n: b"\x00" * 8)
