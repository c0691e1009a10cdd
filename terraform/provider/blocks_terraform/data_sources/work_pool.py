"""``data.blocks_work_pool``: a work pool's settings and queues, by name."""

from __future__ import annotations

from typing import Any

from tf import types
from tf.schema import Attribute, Schema
from tf.utils import Diagnostics

from blocks_terraform.framework import SCHEMA_VERSION
from blocks_terraform.resources.work_pool import pool_attributes, pool_state


class WorkPoolDataSource:
    """The ``blocks_work_pool`` data source."""

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return "work_pool"

    @classmethod
    def get_schema(cls) -> Schema:
        attributes = [a for a in pool_attributes(computed=True)]
        for attribute in attributes:
            attribute.requires_replace = None
        attributes.append(Attribute("queues", types.List(types.String()), computed=True,
                                    description="Names of the pool's queues, by priority."))
        return Schema(version=SCHEMA_VERSION, attributes=attributes,
                      description="Read a work pool by name.")

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        """Nothing to check before reading (a bad name fails the read, naming the rule)."""

    def read(self, ctx: Any, config: dict[str, Any]) -> dict[str, Any] | None:
        """Load the pool and list its queues."""
        from blocks.pools import WorkPool

        registry = self.provider.runtime.registry
        pool = WorkPool.load(config["name"], registry=registry)
        return {**pool_state(pool), "queues": [q.name for q in pool.queues()]}
