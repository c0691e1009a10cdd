"""Rotating secrets: staged versions, rotators that change credentials upstream, policies.

Example:
    >>> from blocks import Secret
    >>> from blocks.rotation import RotationPolicy, rotate, set_rotation
    >>> set_rotation("secret/api-token", RotationPolicy(rotator="generated", interval="30d"))
    ... # doctest: +SKIP
    >>> rotate("secret/api-token", now=True).status                     # doctest: +SKIP
    'rotated'
    >>> Secret.load("api-token", stage="previous")                      # doctest: +SKIP

``blocks rotate --due`` (cron) rotates what is due; see ``blocks rotation --help``.
Loads follow rotation without a cache: every ``load`` reads the current pointer (one indexed
read), so a running process gets the new credential on its first load after promotion.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from blocks.rotation.base import RotationContext, Rotator
from blocks.rotation.engine import Rotation
from blocks.rotation.outcome import default_actor
from blocks.rotation.plugins import ENTRY_POINT_GROUP, register
from blocks.rotation_types.outcome import Outcome
from blocks.rotation_types.policy import RotationPolicy
from blocks.rotation_types.rows import Event, PolicyRecord
from blocks.rotation_types.service import RotationService

if TYPE_CHECKING:
    from blocks.registry_protocol import RegistryProtocol

__all__ = [
    "ENTRY_POINT_GROUP",
    "Event",
    "Outcome",
    "PolicyRecord",
    "Rotation",
    "RotationContext",
    "RotationPolicy",
    "RotationService",
    "Rotator",
    "cancel_rotation",
    "default_actor",
    "get_rotation",
    "register",
    "rotate",
    "rotate_due",
    "rotation_events",
    "set_rotation",
]


def _rotation(registry: RegistryProtocol | None, actor: str | None = None) -> RotationService:
    """The registry's rotation service: the engine here, or the server's through HTTP."""
    from blocks.registry import Registry

    rotation: RotationService = (registry or Registry.default()).rotation(actor)
    return rotation


def set_rotation(
    ref: str, policy: RotationPolicy, *, registry: RegistryProtocol | None = None
) -> PolicyRecord:
    """Store ``policy`` with the block ``slug/name`` (validated for its type)."""
    return _rotation(registry).set_policy(ref, policy)


def get_rotation(ref: str, *, registry: RegistryProtocol | None = None) -> PolicyRecord | None:
    """The block's policy, schedule and state, or ``None``."""
    return _rotation(registry).policy(ref)


def rotate(ref: str, *, now: bool = False, registry: RegistryProtocol | None = None) -> Outcome:
    """Rotate the block if due (``now=True``: regardless), resuming an interrupted run."""
    return _rotation(registry).rotate(ref, force=now)


def rotate_due(*, registry: RegistryProtocol | None = None) -> list[Outcome]:
    """Rotate, resume or revoke whatever is due."""
    return _rotation(registry).rotate_due()


def cancel_rotation(ref: str, *, registry: RegistryProtocol | None = None) -> Outcome:
    """Roll back the block's rotation in flight."""
    return _rotation(registry).cancel(ref)


def rotation_events(ref: str, *, registry: RegistryProtocol | None = None) -> list[Event]:
    """The block's recorded rotation steps, oldest first."""
    return _rotation(registry).events(ref)
