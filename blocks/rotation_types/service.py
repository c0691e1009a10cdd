"""What every registry's ``rotation(actor)`` returns: the engine here
(:class:`blocks.rotation.Rotation`) or the HTTP client of a ``blocks server``
(:class:`blocks.rotation.remote.RemoteRotation`). Callers type against this protocol."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from blocks.rotation_types.outcome import Outcome
from blocks.rotation_types.policy import RotationPolicy
from blocks.rotation_types.rows import Event, Listed, PolicyRecord


@runtime_checkable
class RotationService(Protocol):
    """Rotation policies, runs and events of one registry (see :class:`Rotation`)."""

    actor: str

    def set_policy(self, ref: str, policy: RotationPolicy) -> PolicyRecord: ...

    def policy(self, ref: str) -> PolicyRecord | None: ...

    def drop_policy(self, ref: str) -> bool: ...

    def promoted_versions(self, ref: str) -> set[int]: ...

    def events(self, ref: str) -> list[Event]: ...

    def listing(self) -> list[Listed]: ...

    def rotate(self, ref: str, *, force: bool = False) -> Outcome: ...

    def cancel(self, ref: str) -> Outcome: ...

    def due(self) -> list[str]: ...

    def rotate_due(self, progress: Callable[[int, int, Outcome], None] | None = None
                   ) -> list[Outcome]: ...
