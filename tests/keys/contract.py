"""The one contract every :class:`~blocks.keys.KeyProvider` passes (keyring's BackendBasicTests).

A provider's test module subclasses :class:`KeyProviderContract` and supplies four fixtures:

* ``provider``: a working provider;
* ``other_provider``: the same kind of provider with a different master key;
* ``unreachable``: ``(factory, endpoint)``, a factory that builds the provider pointed at
  something that is not there (closed port, missing key file), and that endpoint;
* ``sensitive``: strings that must never appear in an error message or repr (raw keys, tokens,
  secret ids).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable

import pytest

from blocks.errors import DecryptionError, KeyProviderError
from blocks.keys.base import KeyProvider

CONTEXT = {"purpose": "contract-test", "term": "7"}
SDK_NOISE = (
    "Traceback", "botocore", "boto3", "urllib3", "requests.", "hvac", "HTTPConnectionPool",
    "Max retries", "File \"", "site-packages",
)


def _variants(wrapped: bytes) -> list[bytes]:
    """Altered copies of a wrapped value: bit flips at several places, truncations, extension."""
    positions = sorted({0, 1, len(wrapped) // 2, len(wrapped) - 2, len(wrapped) - 1})
    flipped = []
    for pos in positions:
        data = bytearray(wrapped)
        data[pos] ^= 0x01
        flipped.append(bytes(data))
    return [*flipped, wrapped[:-1], wrapped[: len(wrapped) // 2], b"", wrapped + b"\x00"]


def _message_texts(exc: BaseException) -> str:
    return f"{exc}\n{exc!r}\n{exc.args!r}"


class KeyProviderContract:
    """Shared behaviour of ``local``, ``aws-kms`` and ``vault-transit``."""

    @pytest.fixture
    def provider(self) -> KeyProvider:
        raise NotImplementedError

    @pytest.fixture
    def other_provider(self) -> KeyProvider:
        raise NotImplementedError

    @pytest.fixture
    def unreachable(self) -> tuple[Callable[[], KeyProvider], str]:
        raise NotImplementedError

    @pytest.fixture
    def sensitive(self) -> list[str]:
        return []

    def test_is_a_key_provider(self, provider: KeyProvider) -> None:
        assert isinstance(provider, KeyProvider)
        assert provider.name in {"local", "aws-kms", "vault-transit"}
        assert provider.key_id
        assert provider.endpoint

    @pytest.mark.parametrize("size", [1, 32, 4096])
    def test_round_trip(self, provider: KeyProvider, size: int) -> None:
        plaintext = os.urandom(size)
        assert provider.unwrap(provider.wrap(plaintext, CONTEXT), CONTEXT) == plaintext

    def test_round_trip_with_empty_context(self, provider: KeyProvider) -> None:
        assert provider.unwrap(provider.wrap(b"k" * 32, {}), {}) == b"k" * 32

    def test_wraps_are_randomised(self, provider: KeyProvider) -> None:
        plaintext = os.urandom(32)
        assert provider.wrap(plaintext, CONTEXT) != provider.wrap(plaintext, CONTEXT)

    @pytest.mark.parametrize(
        "other",
        [
            {"purpose": "contract-test", "term": "8"},
            {"purpose": "contract-test"},
            {**CONTEXT, "extra": "x"},
            {},
        ],
        ids=["changed-value", "missing-entry", "extra-entry", "empty"],
    )
    def test_unwrap_with_other_context_fails(
        self, provider: KeyProvider, other: dict[str, str]
    ) -> None:
        wrapped = provider.wrap(os.urandom(32), CONTEXT)
        with pytest.raises(DecryptionError) as info:
            provider.unwrap(wrapped, other)
        assert str(info.value) == DecryptionError.MESSAGE

    def test_unwrap_of_tampered_bytes_fails(self, provider: KeyProvider) -> None:
        wrapped = provider.wrap(os.urandom(32), CONTEXT)
        for altered in _variants(wrapped):
            with pytest.raises(DecryptionError):
                provider.unwrap(altered, CONTEXT)

    def test_unwrap_under_other_master_key_fails(
        self, provider: KeyProvider, other_provider: KeyProvider
    ) -> None:
        assert other_provider.key_id != provider.key_id
        wrapped = provider.wrap(os.urandom(32), CONTEXT)
        with pytest.raises(DecryptionError):
            other_provider.unwrap(wrapped, CONTEXT)

    def test_check_passes(self, provider: KeyProvider) -> None:
        provider.check()

    @pytest.mark.parametrize("operation", ["wrap", "unwrap", "check"])
    def test_unreachable_provider_raises_key_provider_error(
        self,
        provider: KeyProvider,
        unreachable: tuple[Callable[[], KeyProvider], str],
        operation: str,
    ) -> None:
        factory, endpoint = unreachable
        wrapped = provider.wrap(b"k" * 32, CONTEXT)
        with pytest.raises(KeyProviderError) as info:
            target = factory()
            if operation == "wrap":
                target.wrap(b"k" * 32, CONTEXT)
            elif operation == "unwrap":
                target.unwrap(wrapped, CONTEXT)
            else:
                target.check()
        error = info.value
        assert error.provider == provider.name
        assert error.endpoint == endpoint
        assert provider.name in str(error) and endpoint in str(error)
        assert error.reason and len(error.reason) < 200 and "\n" not in error.reason
        assert error.__cause__ is None
        assert error.__context__ is None or error.__suppress_context__
        for noise in SDK_NOISE:
            assert noise not in str(error), noise

    def test_messages_and_repr_contain_no_key_material(
        self, provider: KeyProvider, sensitive: list[str]
    ) -> None:
        plaintext = os.urandom(32)
        wrapped = provider.wrap(plaintext, CONTEXT)
        texts = [repr(provider), str(provider)]
        for bad in [*_variants(wrapped)[:2], wrapped]:
            try:
                provider.unwrap(bad, {"purpose": "other"})
            except DecryptionError as exc:
                texts.append(_message_texts(exc))
        forbidden = [
            *sensitive,
            plaintext.hex(),
            base64.b64encode(plaintext).decode(),
            base64.urlsafe_b64encode(plaintext).decode(),
        ]
        for text in texts:
            for secret in forbidden:
                assert secret not in text
