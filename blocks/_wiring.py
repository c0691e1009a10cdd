"""The top of the package registers the upper layers' hooks (see :mod:`blocks.hooks`).

Each hook imports its module on first call: ``import blocks`` loads neither rotation, mirrors
nor the Prefect bridge, and a block that is never rotated or mirrored never loads them.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from blocks import hooks

if TYPE_CHECKING:
    from blocks.core import Block
    from blocks.registry import Registry


def _policy_of(block: Block) -> Any:
    from blocks.rotation.attached import policy_of

    return policy_of(block)


def _assign(block: Block, value: Any) -> None:
    from blocks.rotation.attached import assign

    assign(block, value)


def _check(block_type: type[Block], policy: Any, what: str) -> None:
    from blocks.rotation.attached import check

    check(block_type, policy, what)


def _persist(registry: Registry, ref: str, policy: Any) -> None:
    from blocks.rotation.attached import persist

    persist(registry, ref, policy)


def _engine(registry: Registry, actor: str | None) -> Any:
    from blocks.rotation.engine import Rotation

    return Rotation(registry, actor=actor)


def _after_save(registry: Registry, block_id: str) -> None:
    from blocks.integrations.mirrors import after_save

    after_save(registry, block_id)


def _deleting(registry: Registry, slug: str, name: str) -> AbstractContextManager[None]:
    from blocks.integrations.mirrors import deleting

    return deleting(registry, slug, name)


def _add_mirror(registry: Registry, ref: str, target: str) -> None:
    from blocks.integrations.mirrors import add_mirror

    add_mirror(registry, ref, target)


def _publish(registry: Registry, name: str) -> None:
    # Loaded only for pools that publish: the bridge needs the 'prefect' extra (httpx).
    from blocks.integrations.prefect.hooks import publish_saved_pool

    publish_saved_pool(registry, name)


def install() -> None:
    """Register the built-in hooks."""
    hooks.register(hooks.ROTATION_POLICY_OF, _policy_of)
    hooks.register(hooks.ROTATION_ASSIGN, _assign)
    hooks.register(hooks.ROTATION_CHECK, _check)
    hooks.register(hooks.ROTATION_PERSIST, _persist)
    hooks.register(hooks.ROTATION_ENGINE, _engine)
    hooks.register(hooks.MIRRORS_AFTER_SAVE, _after_save)
    hooks.register(hooks.MIRRORS_DELETING, _deleting)
    hooks.register(hooks.MIRRORS_ADD, _add_mirror)
    hooks.register(hooks.POOLS_PUBLISH, _publish)
