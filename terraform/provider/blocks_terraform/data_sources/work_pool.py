"""``data.blocks_work_pool``: a work pool's settings and queues, by name."""

from __future__ import annotations

from typing import Any

from tf import types
from tf.schema import Attribute, Schema

from blocks_terraform.data_sources.base import DataSource
from blocks_terraform.resources.work_pool import pool_attributes, pool_state


class WorkPoolDataSource(DataSource):
    """The ``blocks_work_pool`` data source."""

    name = "work_pool"

    @classmethod
    def get_schema(cls) -> Schema:
        attributes = [a for a in pool_attributes(computed=True)]
        for attribute in attributes:
            attribute.requires_replace = None
        attributes.append(Attribute("queues", types.List(types.String()), computed=True,
                                    description="Names of the pool's queues, by priority."))
        return cls.make_schema(attributes,
                               description="Read a work pool by name.")

    def read(self, ctx: Any, config: dict[str, Any]) -> dict[str, Any] | None:
        """Load the pool and list its queues."""
        from blocks.pools import WorkPool

        registry = self.provider.runtime.registry
        pool = WorkPool.load(config["name"], registry=registry)
        return {**pool_state(pool), "queues": [q.name for q in pool.queues()]}
