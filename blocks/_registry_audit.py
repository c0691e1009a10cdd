"""The registry's audit trail (``registry.audit``) and the recording of its operations.

A base class of :class:`blocks.registry.Registry` (split out to keep modules of one job): every
change (save, delete, rename, rollback, stage moves, purge, undelete, shred, token and policy
changes) is recorded in the transaction of the change; reads (load, list, history) when
``registry.audit.reads`` is on.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import TYPE_CHECKING, Any

from blocks._registry_keys import RegistryKeys
from blocks.audit_trail import AuditTrail
from blocks.store.audit_log import Pending

if TYPE_CHECKING:
    from blocks.access.admin import AccessAdmin


class RegistryAudit(RegistryKeys):
    """``registry.audit`` of a local registry, and the scopes its operations record in."""

    _clock: Callable[[], datetime]
    _audit: AuditTrail | None = None

    @property
    def audit(self) -> AuditTrail:
        """The audit trail (``blocks audit``): record, ls, who_read, verify, prune, hash."""
        trail = self._audit
        if trail is None:
            trail = self._audit = AuditTrail(self)
        return trail

    def _recording(self, action: str, ref: str, **fields: Any
                   ) -> AbstractContextManager[Pending | None]:
        """Record a change of block ``ref`` (always)."""
        return self.audit.recording(action, obj=ref, **fields)

    def _reading(self, action: str, ref: str, **fields: Any
                 ) -> AbstractContextManager[Pending | None]:
        """Record a read of ``ref`` when reads are recorded (else nothing, at no cost)."""
        trail = self.audit
        if not trail.reads:
            return nullcontext()
        return trail.reading(action, obj=ref, **fields)

    def _close_audit(self) -> None:
        """Append the read records still waiting (``close``); what cannot be is logged."""
        trail = self._audit
        if trail is None:
            return
        try:
            trail.close()
        except Exception as exc:  # closing goes on: the records are lost, say so
            import logging

            logging.getLogger("blocks.audit").warning("%s", exc)


class AuditedAccess:
    """The registry's tokens and policies, each change recorded in its transaction."""

    _CHANGES = {"create_token": "token-create", "revoke": "token-revoke",
                "put_policy": "policy-put", "remove_policy": "policy-remove",
                "initialize": "access-initialize"}

    def __init__(self, inner: AccessAdmin, trail: AuditTrail) -> None:
        self._inner, self._trail = inner, trail

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        action = self._CHANGES.get(name)
        if action is None or not callable(value):
            return value
        kind = "policies" if "policy" in name else "tokens"

        def recorded(*args: Any, **kwargs: Any) -> Any:
            obj = str(args[0]) if args and isinstance(args[0], str) else name
            with self._trail.recording(action, kind=kind, obj=obj):
                return value(*args, **kwargs)

        return recorded

