"""Shared helpers of the audit trail tests."""

from __future__ import annotations

from typing import Any

from blocks.registry import Registry
from blocks.store.audit_log import AuditEntry


def records(registry: Any, **filters: Any) -> list[AuditEntry]:
    """Every audit record, oldest first."""
    return list(registry.audit.ls(oldest_first=True, **filters))


def actions(registry: Any, **filters: Any) -> list[tuple[str, str, str]]:
    """``(action, object, outcome)`` of every record, oldest first."""
    return [(e.action, e.obj, e.outcome) for e in records(registry, **filters)]


def problems(registry: Registry) -> tuple[list[str], list[str]]:
    """What ``blocks audit verify`` and ``blocks verify`` report about the event chain."""
    audit = registry.audit.verify().problems
    full = [f"{p.what}: {p.detail}" for p in registry.verify().problems
            if p.kind == "event-chain"]
    return audit, full
