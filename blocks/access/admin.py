"""What ``blocks tokens`` and ``blocks policies`` call: the same on the server's database
(:class:`~blocks.access.store.AccessStore`) and through a blocks server with an admin token
(:class:`~blocks.remote.access.RemoteAccess`); ``registry.access()`` gives the right one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from blocks.access.policies import Policy
from blocks.access.tokens import TokenInfo


class AccessAdmin(Protocol):
    """Administration of API tokens and access policies."""

    def create_token(self, name: str, policy_names: Sequence[str], *, owner: str = "",
                     ttl: timedelta | None = None) -> tuple[str, TokenInfo]:
        """Create a token; returns it (shown once) and its public record."""
        ...

    def list_tokens(self) -> list[TokenInfo]:
        """Every token's public record, by name."""
        ...

    def revoke(self, name_or_id: str) -> TokenInfo:
        """Revoke a token by name or id."""
        ...

    def put_policy(self, name: str, policy: Policy) -> bool:
        """Create or replace a policy; True if it was created."""
        ...

    def get_policy(self, name: str) -> Policy:
        """One policy."""
        ...

    def policies(self, names: Sequence[str] | None = None) -> dict[str, Policy]:
        """The named policies (all when ``names`` is None), by name."""
        ...

    def remove_policy(self, name: str) -> None:
        """Delete a policy no live token uses."""
        ...
