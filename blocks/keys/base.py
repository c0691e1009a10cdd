"""The :class:`KeyProvider` protocol every master-key provider implements.

Hazardous materials: low-level. Every implementation passes the shared contract test in
``tests/keys/contract.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Protocol, runtime_checkable


@runtime_checkable
class KeyProvider(Protocol):
    """Wraps and unwraps small secrets (keyring terms) under a master key.

    Contract:
        * ``unwrap(wrap(p, ctx), ctx) == p`` for any bytes ``p`` up to 4 KiB.
        * ``unwrap`` with a different context, a different master key, or altered bytes raises
          :class:`blocks.errors.DecryptionError` (never returns wrong bytes).
        * An unreachable, refusing or misconfigured provider raises
          :class:`blocks.errors.KeyProviderError` naming the provider and its endpoint, never an
          SDK exception, and never includes key material in the message.
        * Two wraps of the same plaintext differ (randomised).
    """

    @property
    def name(self) -> str:
        """Provider kind: ``local``, ``aws-kms`` or ``vault-transit``."""
        ...

    @property
    def key_id(self) -> str:
        """Which master key: a fingerprint, a KMS key ARN/alias, or ``mount/key`` in Vault."""
        ...

    @property
    def endpoint(self) -> str:
        """Where the provider lives (a file path, a URL), for messages and status output."""
        ...

    def wrap(self, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        """Encrypt ``plaintext`` bound to ``context``; returns opaque bytes."""
        ...

    def unwrap(self, wrapped: bytes, context: Mapping[str, str]) -> bytes:
        """Decrypt bytes made by :meth:`wrap` with the same ``context``."""
        ...

    def check(self) -> None:
        """Raise :class:`KeyProviderError` unless the provider can wrap and unwrap now."""
        ...


def canonical_context(context: Mapping[str, str]) -> bytes:
    """Deterministic bytes for a context mapping (used as AES-GCM associated data)."""
    for k, v in context.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError("key-provider context keys and values must be str")
    return json.dumps(dict(context), sort_keys=True, separators=(",", ":")).encode()
