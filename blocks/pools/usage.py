"""Which work pools use a block: the ``{{ blocks.slug.name }}`` placeholders of their templates.

References between blocks are rows the store checks on delete; a pool names a block only by
placeholder text, so a delete cannot see it. Callers that delete a block ask here first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from blocks.pools.models import WorkPool
from blocks.pools.placeholders import walk

if TYPE_CHECKING:
    from blocks.registry_protocol import RegistryProtocol


def pools_using(registry: RegistryProtocol, ref: str) -> list[str]:
    """Names of the pools whose base job template has a placeholder naming ``ref``."""
    return [
        pool.name for pool in WorkPool.list_pools(registry=registry)
        if any(p.kind == "block" and p.block_ref == ref
               for _, p in walk(pool.base_job_template or {}))
    ]
