"""The rotators by name: built-ins, and plug-ins of the ``blocks.rotators`` entry-point group.

A plug-in publishes a class that follows :class:`~blocks.rotation.base.Rotator`::

    [project.entry-points."blocks.rotators"]
    my-api-token = "my_package.rotation:MyApiTokenRotator"
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from blocks import hooks
from blocks.errors import ConfigurationError
from blocks.rotation.base import Rotator

ENTRY_POINT_GROUP = "blocks.rotators"

BUILTIN_ROTATORS: dict[str, str] = {
    "generated": "blocks.rotation.generated:GeneratedRotator",
    "aws-iam-access-key": "blocks.rotation.aws_iam:AwsIamAccessKeyRotator",
    "postgres-password": "blocks.rotation.postgres:PostgresPasswordRotator",
    "vault-kv": "blocks.rotation.vault_kv:VaultKvRotator",
}

_lock = threading.Lock()
_registered: dict[str, type[Any]] = {}
_entry_points: dict[str, Any] | None = None


def register(cls: type[Any]) -> type[Any]:
    """Add a rotator class (usable as a decorator); its ``name`` must be free."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__qualname__} has no rotator name")
    with _lock:
        existing = _registered.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(f"rotator {name!r} is already {existing.__qualname__}")
        _registered[name] = cls
    return cls


def names() -> list[str]:
    """Every known rotator name."""
    return sorted(set(BUILTIN_ROTATORS) | set(_registered) | set(_plugins()))


def get(name: str) -> Rotator:
    """A new rotator instance for ``name``.

    Raises:
        ConfigurationError: no built-in, registered or plug-in rotator has that name.
    """
    cls = _registered.get(name)
    if cls is None and name in BUILTIN_ROTATORS:
        module, _, attr = BUILTIN_ROTATORS[name].partition(":")
        with hooks.IMPORTING:  # first imports from several threads do not race
            cls = getattr(importlib.import_module(module), attr)
    if cls is None:
        ep = _plugins().get(name)
        if ep is not None:
            cls = ep.load()
    if cls is None:
        raise ConfigurationError(
            f"unknown rotator {name!r}; known rotators: {', '.join(names())}. A plug-in must be "
            f"published in the {ENTRY_POINT_GROUP!r} entry-point group"
        )
    rotator = cls()
    if not isinstance(rotator, Rotator):
        raise ConfigurationError(f"rotator {name!r} ({cls.__qualname__}) is not a Rotator")
    return rotator


def _plugins() -> dict[str, Any]:
    global _entry_points
    if _entry_points is None:
        from importlib.metadata import entry_points

        _entry_points = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return _entry_points
