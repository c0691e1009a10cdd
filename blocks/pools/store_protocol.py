"""What the pools recipe API needs from a registry's storage: ``registry.pool_store()``.

:class:`~blocks.pool_types.store.WorkPoolStore` (defined below the registry, which names it)
is the seam between :mod:`blocks.pools.models` (``WorkPool``, ``WorkQueue``) and where pools
live. Two implementations: :class:`LocalPoolStore` (the registry's database, sealed rows;
:mod:`blocks.pools.store` and :mod:`blocks.pools.queue_store`) and the HTTP one a remote
registry returns (``blocks.remote.pools``), so the recipe API works the same against a
database or a ``blocks server``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from blocks import hooks
from blocks.pool_types.records import RenderedView as RenderedView
from blocks.pool_types.store import WorkPoolStore as WorkPoolStore
from blocks.pools.queue_store import QueueStore
from blocks.pools.store import DEFAULT_QUEUE, PoolStore

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from blocks._block_base import BlockRegistry
    from blocks.store.sealing import KeyringSealer


class LocalPoolStore(PoolStore, QueueStore):
    """Pools and queues in the registry's own database (what ``Registry.pool_store()`` gives).

    Args:
        engine, sealer: as :class:`~blocks.pools.engine_store.EngineStore`.
        registry: the registry they belong to (a render resolves blocks from it).
    """

    def __init__(
        self,
        engine: Callable[[], Engine],
        sealer: Callable[[], KeyringSealer],
        *,
        registry: BlockRegistry,
    ) -> None:
        super().__init__(engine, sealer)
        self._registry = registry

    def render(
        self,
        name: str,
        values: Mapping[str, Any] | None = None,
        *,
        queue: str = DEFAULT_QUEUE,
        version: int | None = None,
        show_secrets: bool = False,
    ) -> RenderedView:
        """See :meth:`WorkPoolStore.render`."""
        # The recipe API (WorkPool) sits above this module: the hook renders through it.
        job = hooks.get(hooks.POOLS_RENDER)(self._registry, name, values, queue, version)
        return RenderedView.of(job, show_secrets)
