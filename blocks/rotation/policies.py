"""Rotation policies of a registry's blocks: set, read, drop, and the versions rotation made.

A mixin of :class:`blocks.rotation.engine.Rotation` (the state machine lives there).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from blocks import catalog
from blocks.core import split_ref
from blocks.rotation import plugins
from blocks.rotation.base import Rotator
from blocks.rotation.records import RotationStore
from blocks.rotation_types.policy import RotationPolicy
from blocks.rotation_types.rows import Event, Listed, PolicyRecord

if TYPE_CHECKING:
    from pydantic import BaseModel

    from blocks.registry import Registry


class Policies:
    """Policy methods of :class:`~blocks.rotation.engine.Rotation`."""

    registry: Registry
    store: RotationStore
    actor: str
    clock: Callable[[], datetime]
    _rotators: dict[str, tuple[Rotator, BaseModel]]

    # -- policies -------------------------------------------------------------------------

    def set_policy(self, ref: str, policy: RotationPolicy) -> PolicyRecord:
        """Validate ``policy`` for the block and store it; the first rotation is due at once
        for a schedule, or on ``--now`` for a manual policy."""
        slug, _ = split_ref(ref)
        block_id = self.registry.summary(ref).id
        rotator, options = self._rotator(ref, policy)
        rotator.check(catalog.get(slug), options)
        now = self.clock()
        existing = self.store.get(block_id)
        if existing is not None and existing.last_rotated_at is not None:
            next_due = policy.next_due(existing.last_rotated_at)
        else:
            next_due = now if policy.next_due(now) is not None else None
        self.store.put_policy(block_id, policy, next_due, self.actor, now)
        found = self.store.get(block_id, ref)
        assert found is not None
        return found

    def policy(self, ref: str) -> PolicyRecord | None:
        """The block's policy record, or ``None``."""
        return self.store.get(self.registry.summary(ref).id, ref)

    def promoted_versions(self, ref: str) -> set[int]:
        """Versions of ``ref`` that a recorded rotation promoted to current, from the sealed
        event chain (checked whole: an event deleted or edited is an ``IntegrityError``)."""
        found = set()
        for event in self.store.chain_events(self.registry.summary(ref).id):
            if event.step == "promote" and event.outcome == "ok":
                current = event.versions.split()[0].removeprefix("current=")
                if current.isdigit():
                    found.add(int(current))
        return found

    def events(self, ref: str) -> list[Event]:
        """The block's recorded rotation steps, oldest first."""
        return self.store.events(self.registry.summary(ref).id)

    def listing(self, only: Callable[[str], bool] | None = None) -> list[Listed]:
        """Every block with a policy (by ref), with its newest event; ``only(ref)`` filters."""
        refs = {b.id: b.ref for b in self.registry.list()}
        out = []
        for rec in sorted(self.store.all(), key=lambda r: refs.get(r.block_id, "")):
            ref = refs.get(rec.block_id)
            if ref is None or (only is not None and not only(ref)):
                continue
            last = self.store.events(rec.block_id, limit=1)
            out.append(Listed(ref, rec, last[0] if last else None))
        return out

    def drop_policy(self, ref: str) -> bool:
        """Stop rotating the block (its history stays)."""
        return self.store.drop_policy(self.registry.summary(ref).id, self.actor, self.clock())

    def _rotator(self, ref: str, policy: RotationPolicy) -> tuple[Rotator, BaseModel]:
        """The policy's rotator and validated options (built once per policy and run)."""
        import pydantic

        from blocks.core import pydantic_errors
        from blocks.errors import ValidationError

        key = policy.to_json()
        found = self._rotators.get(key)
        if found is not None:
            return found
        rotator = plugins.get(policy.rotator)
        try:
            options = rotator.options_model.model_validate(policy.options)
        except pydantic.ValidationError as exc:
            raise ValidationError(f"rotation of {ref}", pydantic_errors(exc, "options")) from None
        self._rotators[key] = rotator, options
        return rotator, options
