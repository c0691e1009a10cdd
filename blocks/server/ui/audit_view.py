"""The audit page's rows: the registry's audit trail (``registry.audit.ls``) with the same
filters as ``blocks audit ls``, as plain text cells (never a stored value: a record holds
who, what, which object, the outcome and the error's class only)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from blocks.registry import Registry

LIMIT = 200
"""Rows on one page (the newest ones); narrow the filters for older records."""
ACTIONS = ("read", "reveal", "list", "history", "write", "rollback", "rename", "delete", "purge",
           "promote", "stage", "undelete", "shred", "token-create", "token-revoke",
           "policy-put", "policy-remove", "access-initialize", "pool-write", "pool-rename",
           "pool-delete", "queue-create", "queue-update", "queue-delete", "prune",
           "keys-rotate", "keys-rewrap", "keys-retire", "login")
"""Actions offered in the filter (any other can be typed into the URL)."""


def records(registry: Registry, filters: Mapping[str, Any], *, now: datetime
            ) -> list[dict[str, Any]]:
    """The newest records matching ``filters`` (``ref``, ``actor``, ``action``, ``since``:
    empty means any; ``denied``: refusals only), at most :data:`LIMIT`.

    Raises:
        InvalidArgument: a filter is malformed (the message names it and the fix).
        IntegrityError: a record does not authenticate.
    """
    found = registry.audit.ls(ref=filters.get("ref") or None,
                              actor=filters.get("actor") or None,
                              since=filters.get("since") or None,
                              action=filters.get("action") or None,
                              denied=bool(filters.get("denied")), limit=LIMIT)
    rows = []
    for entry in found:
        where = entry.obj if entry.version is None else f"{entry.obj} v{entry.version}"
        rows.append({
            "at": entry.at.strftime("%Y-%m-%d %H:%M:%S UTC"), "actor": entry.actor.label(),
            "via": entry.actor.via, "action": entry.action, "ref": where,
            "outcome": entry.outcome, "denied": entry.outcome == "denied",
            "detail": entry.error or "",
        })
    return rows
