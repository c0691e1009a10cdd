"""The recovery window through a ``blocks server``: delete with a window, the deleted blocks,
undelete and ``gc`` (the routes are in :mod:`blocks.server.routes.recovery`).

The client sends a window as whole seconds (``"604800s"``) after checking it as a local
registry does (the same :class:`~blocks.errors.InvalidArgument`); with none, the server's
``BLOCKS_RECOVERY_WINDOW`` decides, as it does for every other client.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from blocks.errors import InvalidArgument
from blocks.settings import parse_window
from blocks.store.records import BlockSummary, DeletedBlock, GcResult
from blocks.wire import deleted_from, gc_from, summary_from

if TYPE_CHECKING:
    from blocks._registry_recovery import RecoveryWindow
    from blocks.remote.transport import Transport

GC_SECONDS = 1800.0
"""How long ``gc`` may take on the server: it shreds every due block, one transaction each."""


def window(value: RecoveryWindow) -> timedelta:
    """``value`` checked as a local registry checks it (not ``None``).

    Raises:
        InvalidArgument: not a window of 0 to 30 days (the message says the forms).
    """
    try:
        return parse_window(value)
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from None


def default_window(transport: Transport) -> timedelta:
    """The server's ``BLOCKS_RECOVERY_WINDOW``: what a delete without a window uses."""
    answer = transport.request("GET", "/v1/recovery-window", idempotent=True).json()
    return timedelta(seconds=int(answer["seconds"]))


def delete(transport: Transport, path: str, value: RecoveryWindow) -> None:
    """``DELETE path`` with the window as a query parameter (none: the server's default)."""
    params = None if value is None else {
        "recovery_window": f"{int(window(value).total_seconds())}s"}
    transport.request("DELETE", path, params=params, idempotent=False)


def deleted(transport: Transport, slug: str | None) -> list[DeletedBlock]:
    """The deleted blocks in their window that the token may see, soonest shred first."""
    answer = transport.request("GET", "/v1/deleted-blocks", params={"slug": slug},
                               idempotent=True)
    return [deleted_from(item) for item in answer.json()]


def undelete(transport: Transport, path: str) -> BlockSummary:
    """``POST path/undelete``: the block is back under its name (same id and history)."""
    # Not repeated after a lost answer: a second try would say it is not deleted.
    answer = transport.request("POST", f"{path}/undelete", idempotent=False)
    return summary_from(answer.json())


def gc(transport: Transport, *, dry_run: bool) -> GcResult:
    """``blocks gc`` on the server (capability ``admin``); retried safely: a second try
    shreds only what is still due."""
    answer = transport.request("POST", "/v1/gc", params={"dry_run": "true" if dry_run else None},
                               idempotent=True, read_timeout=GC_SECONDS)
    return gc_from(answer.json())
