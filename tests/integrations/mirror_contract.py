"""The contract every mirror target passes (subclass :class:`MirrorTargetContract`)."""

from __future__ import annotations

import secrets

import pytest

from blocks import Secret
from blocks.integrations.mirrors import MirrorTarget


class MirrorTargetContract:
    """Shared tests; a subclass provides the ``target`` fixture."""

    @pytest.fixture
    def target(self) -> MirrorTarget:
        raise NotImplementedError

    def test_push_then_read_returns_the_values_with_secrets(self, target: MirrorTarget) -> None:
        name = f"c-{secrets.token_hex(3)}"
        where = target.push(Secret(value="pw-1"), name)
        assert where.endswith(f"/{name}")
        data = target.read(Secret(value="ignored"), name)
        assert data is not None and data["value"] == "pw-1"

    def test_push_replaces_the_copy_and_an_identical_push_is_harmless(
        self, target: MirrorTarget
    ) -> None:
        name = f"c-{secrets.token_hex(3)}"
        target.push(Secret(value="pw-1"), name)
        target.push(Secret(value="pw-2"), name)
        target.push(Secret(value="pw-2"), name)
        data = target.read(Secret(value="x"), name)
        assert data is not None and data["value"] == "pw-2"

    def test_remove_deletes_the_copy_once(self, target: MirrorTarget) -> None:
        name = f"c-{secrets.token_hex(3)}"
        target.push(Secret(value="pw"), name)
        assert target.remove(Secret(value="pw"), name) is True
        assert target.remove(Secret(value="pw"), name) is False
        assert target.read(Secret(value="pw"), name) is None

    def test_read_of_a_missing_copy_is_none(self, target: MirrorTarget) -> None:
        assert target.read(Secret(value="x"), f"none-{secrets.token_hex(3)}") is None
