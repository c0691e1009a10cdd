"""The local provider passes the key-provider contract."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from blocks.keys.base import KeyProvider
from blocks.keys.local import LocalKeyProvider, encode_master_key
from tests.keys.contract import KeyProviderContract


class TestLocalKeyProvider(KeyProviderContract):
    @pytest.fixture
    def master_key(self) -> bytes:
        return os.urandom(32)

    @pytest.fixture
    def provider(self, master_key: bytes) -> KeyProvider:
        return LocalKeyProvider(master_key, source="test")

    @pytest.fixture
    def other_provider(self) -> KeyProvider:
        return LocalKeyProvider(os.urandom(32), source="test")

    @pytest.fixture
    def unreachable(self, tmp_path: Path) -> tuple[Callable[[], KeyProvider], str]:
        missing = tmp_path / "absent" / "master.key"
        return (lambda: LocalKeyProvider.from_file(missing)), str(missing)

    @pytest.fixture
    def sensitive(self, master_key: bytes) -> list[str]:
        return [master_key.hex(), encode_master_key(master_key)]
