"""Mirror targets: the :class:`MirrorTarget` protocol, how a target is found by name, and
the :class:`MirrorStatus` of one mirror (see :mod:`blocks.integrations.mirrors`)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from blocks.errors import ConfigurationError

if TYPE_CHECKING:
    from blocks.core import Block
    from blocks.registry import Registry

ENTRY_POINT_GROUP = "blocks.mirror_targets"
BUILTIN_TARGETS = {"prefect": "blocks.integrations.prefect.mirror:PrefectMirror"}


class MirrorTarget(Protocol):
    """Where a mirrored block is copied. Implementations must be idempotent: pushing the same
    block twice leaves one copy, and an unchanged copy is not rewritten."""

    name: str
    """Target name, e.g. ``prefect``."""

    def push(self, block: Block, target_name: str) -> str:
        """Create or replace the copy of ``block`` called ``target_name``; returns where it
        lives on the target (e.g. ``secret/db-pass``)."""
        ...

    def read(self, block: Block, target_name: str) -> dict[str, Any] | None:
        """The copy's data with secrets revealed, or ``None`` when there is no copy."""
        ...

    def document(self, block: Block) -> dict[str, Any]:
        """What :meth:`read` gives after a push of ``block``: ``blocks mirror status``
        compares it with what the target holds. (Optional for targets written before; without
        it, status compares version numbers only.)"""
        ...

    def remove(self, block: Block, target_name: str) -> bool:
        """Delete the copy; whether there was one."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@dataclass(frozen=True)
class MirrorStatus:
    """One mirror: which block, where, and whether the copy is the current version."""

    ref: str
    target: str
    target_name: str
    target_ref: str | None
    pushed_version: int | None
    current_version: int
    pushed_at: datetime | None
    last_error: str | None
    drift: str | None = None
    """Set when the target was read (``mirror_status(compare=True)``) and its copy is not what
    Blocks would push now: missing, changed there, or holding an older nested block."""

    @property
    def state(self) -> str:
        """``current``, ``stale`` (a newer version is not pushed yet, or the copy differs from
        it) or ``error``."""
        if self.last_error:
            return "error"
        if self.drift:
            return "stale"
        return "current" if self.pushed_version == self.current_version else "stale"

    def as_json(self) -> dict[str, Any]:
        """The status as JSON."""
        return {
            "ref": self.ref, "target": self.target, "target_name": self.target_name,
            "target_ref": self.target_ref, "pushed_version": self.pushed_version,
            "current_version": self.current_version, "state": self.state,
            "pushed_at": self.pushed_at.isoformat() if self.pushed_at else None,
            "last_error": self.last_error, "drift": self.drift,
        }


def target_factory(name: str) -> Callable[[Registry], MirrorTarget]:
    """The factory of target ``name`` (built in, or from the entry-point group).

    Raises:
        ConfigurationError: no such target.
    """
    spec = BUILTIN_TARGETS.get(name)
    if spec is None:
        from importlib.metadata import entry_points

        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
        if not found:
            known = sorted(BUILTIN_TARGETS)
            raise ConfigurationError(f"unknown mirror target {name!r}; known: {known}")
        return found[0].load()  # type: ignore[no-any-return]
    module, attr = spec.split(":")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]
