"""The top of the package registers the upper layers' hooks (see :mod:`blocks.hooks`).

Each hook imports its module on first call: ``import blocks`` loads neither rotation, mirrors
nor the Prefect bridge, and a block that is never rotated or mirrored never loads them.

Those first imports happen under :data:`blocks.hooks.IMPORTING` (two threads importing the
rotation package for the first time at once deadlock): the Terraform provider serves calls on a
gRPC thread pool, ``blocks server`` on worker threads. Processes that serve threads call
:func:`preload` first.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from blocks import hooks

if TYPE_CHECKING:
    from blocks.core import Block
    from blocks.registry import Registry
    from blocks.settings import Settings

HOOK_MODULES = (
    "blocks.rotation.attached", "blocks.rotation.engine", "blocks.rotation.remote",
    "blocks.integrations.mirrors", "blocks.pools.audited", "blocks.pools.models",
    "blocks.key_management", "blocks.verify", "blocks.registry",
)
"""The modules the hooks load, but the Prefect bridge's (it needs the 'prefect' extra and only
pools that publish load it) and the HTTP client's (``blocks.remote.registry``: it needs httpx,
and only a process with ``BLOCKS_API_URL`` loads it)."""


def preload() -> None:
    """Import every hook's module now, from this thread: call it before serving calls on
    several threads (the first imports of the rotation package must not race)."""
    with hooks.IMPORTING:
        for module in HOOK_MODULES:
            importlib.import_module(module)


def _policy_of(block: Block) -> Any:
    with hooks.IMPORTING:
        from blocks.rotation.attached import policy_of

    return policy_of(block)


def _assign(block: Block, value: Any) -> None:
    with hooks.IMPORTING:
        from blocks.rotation.attached import assign

    assign(block, value)


def _check(block_type: type[Block], policy: Any, what: str) -> None:
    with hooks.IMPORTING:
        from blocks.rotation.attached import check

    check(block_type, policy, what)


def _persist(registry: Registry, ref: str, policy: Any) -> None:
    with hooks.IMPORTING:
        from blocks.rotation.attached import persist

    persist(registry, ref, policy)


def _engine(registry: Registry, actor: str | None) -> Any:
    with hooks.IMPORTING:
        from blocks.rotation.engine import Rotation

    return Rotation(registry, actor=actor)


def _remote_rotation(registry: Any, actor: str | None) -> Any:
    with hooks.IMPORTING:
        from blocks.rotation.remote import RemoteRotation

    return RemoteRotation(registry, actor)


def _after_save(registry: Registry, block_id: str) -> None:
    with hooks.IMPORTING:
        from blocks.integrations.mirrors import after_save

    after_save(registry, block_id)


def _deleting(registry: Registry, slug: str, name: str) -> AbstractContextManager[None]:
    with hooks.IMPORTING:
        from blocks.integrations.mirrors import deleting

    return deleting(registry, slug, name)


def _add_mirror(registry: Registry, ref: str, target: str) -> None:
    with hooks.IMPORTING:
        from blocks.integrations.mirrors import add_mirror

    add_mirror(registry, ref, target)


def _pool_store(registry: Registry) -> Any:
    with hooks.IMPORTING:
        from blocks.pools.audited import AuditedPoolStore

    return AuditedPoolStore(lambda: registry.store.engine, lambda: registry.sealer,
                            registry=registry, recording=registry.audit.recording)


def _render_pool(registry: Any, name: str, values: Mapping[str, Any] | None, queue: str,
                 version: int | None) -> Any:
    with hooks.IMPORTING:
        from blocks.pools.models import WorkPool

    pool = WorkPool.load(name, version=version, registry=registry)
    return pool.render_job(dict(values or {}), queue=queue, registry=registry)


def _key_manager(registry: Registry) -> Any:
    with hooks.IMPORTING:
        from blocks.key_management import KeyManager

    return KeyManager(registry)


def _verify(registry: Registry) -> Any:
    with hooks.IMPORTING:
        from blocks.verify import verify

    return verify(registry)


def _local_registry(settings: Settings) -> Registry:
    with hooks.IMPORTING:
        from blocks.registry import Registry

    return Registry(settings)


def _remote_registry(settings: Settings) -> Any:
    # Loaded only when BLOCKS_API_URL is set: a local registry never loads the HTTP client.
    with hooks.IMPORTING:
        from blocks.remote.registry import RemoteRegistry

    return RemoteRegistry(settings)


def _publish(registry: Registry, name: str) -> None:
    # Loaded only for pools that publish: the bridge needs the 'prefect' extra (httpx).
    with hooks.IMPORTING:
        from blocks.integrations.prefect.hooks import publish_saved_pool

    publish_saved_pool(registry, name)


def install() -> None:
    """Register the built-in hooks."""
    hooks.register(hooks.ROTATION_POLICY_OF, _policy_of)
    hooks.register(hooks.ROTATION_ASSIGN, _assign)
    hooks.register(hooks.ROTATION_CHECK, _check)
    hooks.register(hooks.ROTATION_PERSIST, _persist)
    hooks.register(hooks.ROTATION_ENGINE, _engine)
    hooks.register(hooks.ROTATION_REMOTE, _remote_rotation)
    hooks.register(hooks.MIRRORS_AFTER_SAVE, _after_save)
    hooks.register(hooks.MIRRORS_DELETING, _deleting)
    hooks.register(hooks.MIRRORS_ADD, _add_mirror)
    hooks.register(hooks.POOLS_PUBLISH, _publish)
    hooks.register(hooks.POOLS_STORE, _pool_store)
    hooks.register(hooks.POOLS_RENDER, _render_pool)
    hooks.register(hooks.KEYS_MANAGER, _key_manager)
    hooks.register(hooks.REGISTRY_VERIFY, _verify)
    hooks.register(hooks.REGISTRY_LOCAL, _local_registry)
    hooks.register(hooks.REGISTRY_REMOTE, _remote_registry)
