"""Shared set-up of the access tests: an access store with a policy and a token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from blocks import Registry
from blocks.access import policies
from blocks.access.store import AccessStore


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def access_store(registry: Registry, clock: Clock | None = None) -> AccessStore:
    """The registry's access store (keyring made first)."""
    return AccessStore(registry.store, registry.sealer, clock)


def put(store: AccessStore, name: str, document: dict[str, object]) -> None:
    """Create or replace policy ``name``."""
    store.put_policy(name, policies.parse(name, document))
