"""``verify`` and ``keys status`` through a ``blocks server`` (capability ``admin``).

The server runs the checks (it has the master key); the client reads back the same
:class:`~blocks.reports.Report` and :class:`~blocks.reports.KeyStatus` a local registry
returns. The keyring-changing operations have no endpoint: they run where the server runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from blocks.reports import KeyStatus, Report

VERIFY_SECONDS = 1800.0
"""How long ``verify`` may take on the server: it opens every stored version."""

if TYPE_CHECKING:
    from blocks.remote.transport import Transport


def verify(transport: Transport) -> Report:
    """``blocks verify`` on the server's registry."""
    answer = transport.request("GET", "/v1/verify", idempotent=True,
                               read_timeout=VERIFY_SECONDS)
    return Report.from_wire(answer.json())


def keys_status(transport: Transport) -> KeyStatus:
    """``blocks keys status`` of the server's registry."""
    return KeyStatus.from_wire(
        transport.request("GET", "/v1/keys/status", idempotent=True).json())
