"""Hooks: how a lower layer calls an upper one without importing it.

The data path imports only downwards (``core`` -> ``codec`` -> ... -> ``registry``); rotation,
mirrors and the Prefect bridge sit above it. Where a lower layer must reach up (``block.rotation``
reads the rotation store, ``Registry.save`` re-pushes mirrors, a pool save publishes to Prefect),
it calls a hook by name, and the upper layer has registered the function (as ``logging``
handlers are registered). ``blocks/_wiring.py``, run by ``import blocks``, registers the
built-in ones; each loads its module on first call, so ``import blocks`` stays light.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

ROTATION_POLICY_OF = "rotation.policy_of"
"""``(block) -> RotationPolicy | None``: ``block.rotation``."""
ROTATION_ASSIGN = "rotation.assign"
"""``(block, value) -> None``: ``block.rotation = value``."""
ROTATION_CHECK = "rotation.check"
"""``(block_type, policy, what) -> None``: refuse a policy before a save writes anything."""
ROTATION_PERSIST = "rotation.persist"
"""``(registry, ref, policy) -> None``: store the policy right after the save."""
ROTATION_ENGINE = "rotation.engine"
"""``(registry, actor) -> Rotation``: ``registry.rotation(actor)`` of a local registry."""
ROTATION_REMOTE = "rotation.remote"
"""``(remote_registry, actor) -> RemoteRotation``: ``registry.rotation(actor)`` of a registry
served by ``blocks server`` (the calls run on the server)."""
MIRRORS_AFTER_SAVE = "mirrors.after_save"
"""``(registry, block_id) -> None``: a block's current version changed."""
MIRRORS_DELETING = "mirrors.deleting"
"""``(registry, slug, name) -> ContextManager``: around a delete."""
MIRRORS_ADD = "mirrors.add"
"""``(registry, ref, target) -> None``: start mirroring a block (``save(mirror_to_prefect=)``)."""
POOLS_STORE = "pools.store"
"""``(registry) -> LocalPoolStore``: ``registry.pool_store()`` of a local registry (pools sit above
the registry: their recipe API loads and saves through it)."""
POOLS_RENDER = "pools.render"
"""``(registry, name, values, queue, version) -> RenderedJob``: render a stored pool's job through
its recipe API (``WorkPool.load(...).render_job(...)``)."""
KEYS_MANAGER = "keys.manager"
"""``(registry) -> KeyManager``: key status, purge, rewrap and retire of a local registry."""
REGISTRY_VERIFY = "registry.verify"
"""``(registry) -> Report``: check every sealed record and stored version (``blocks verify``)."""
REGISTRY_LOCAL = "registry.local"
"""``(settings) -> Registry``: the local registry ``open_registry`` builds (database and key in
this process)."""
REGISTRY_REMOTE = "registry.remote"
"""``(settings) -> RemoteRegistry``: the registry ``open_registry`` builds when
``BLOCKS_API_URL`` is set (a blocks server over HTTP)."""
POOLS_PUBLISH = "pools.publish"
"""``(registry, pool_name) -> None``: publish a pool saved with ``publish_to_prefect``."""

IMPORTING = threading.RLock()
"""Held while a module is imported on first use (a hook's module, a built-in rotator's):
``blocks.rotation`` and its submodules import each other, and two threads importing such a
cycle for the first time at once deadlock in Python's import machinery (``_DeadlockError``) or
see a partially initialised module (``ImportError``). Reentrant: such an import may import
another the same way."""

_hooks: dict[str, Callable[..., Any]] = {}


def register(name: str, function: Callable[..., Any]) -> None:
    """Install ``function`` as hook ``name`` (replacing any earlier one)."""
    _hooks[name] = function


def get(name: str) -> Callable[..., Any]:
    """The function registered as hook ``name``.

    Raises:
        RuntimeError: nothing registered it (``blocks`` was not imported as a package).
    """
    try:
        return _hooks[name]
    except KeyError:
        raise RuntimeError(
            f"no function is registered for hook {name!r}; import blocks (the package) first"
        ) from None
