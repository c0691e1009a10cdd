"""``data.blocks_work_pools``: every work pool (optionally of one type), by name.

Made for ``for_each``: ``pools`` is a map keyed by pool name, e.g. to declare the same queue
in every pool. Pools hold no secrets (templates name blocks through placeholders).
"""

from __future__ import annotations

from typing import Any

from tf import types
from tf.schema import Attribute, Schema
from tf.utils import Diagnostics

from blocks_terraform.data_sources.base import DataSource, check_pool_type
from blocks_terraform.nested import NestedAttribute


def _row() -> list[Attribute]:
    return [
        Attribute("id", types.String(), computed=True,
                  description="The pool name: what `blocks_work_queue.pool` takes."),
        Attribute("name", types.String(), computed=True, description="The pool name."),
        Attribute("type", types.String(), computed=True,
                  description="`process`, `docker`, `ecs` or `kubernetes`."),
        Attribute("description", types.String(), computed=True,
                  description="What the pool is for."),
        Attribute("concurrency_limit", types.Number(), computed=True,
                  description="Most runs in flight in the pool; null for no limit."),
        Attribute("paused", types.Bool(), computed=True,
                  description="Whether the pool is paused (hands out no runs)."),
        Attribute("version", types.Number(), computed=True,
                  description="Current stored version of the pool."),
        Attribute("queues", types.List(types.String()), computed=True,
                  description="Names of the pool's queues, by priority."),
    ]


class WorkPoolsDataSource(DataSource):
    """The ``blocks_work_pools`` data source."""

    name = "work_pools"

    @classmethod
    def get_schema(cls) -> Schema:
        return cls.make_schema(
            description="List work pools (all, or those of one type). `pools` is keyed by "
                        "name, for `for_each`.",
            attributes=[
                Attribute("type", types.String(), optional=True,
                          description="Only pools of this type: `process`, `docker`, `ecs` or "
                                      "`kubernetes`. Every pool when not set."),
                Attribute("names", types.List(types.String()), computed=True,
                          description="Names of the pools listed, sorted."),
                NestedAttribute("pools", _row(), nesting="map", computed=True,
                                description="The pools by name: `id`, `name`, `type`, "
                                            "`description`, `concurrency_limit`, `paused`, "
                                            "`version`, `queues`."),
            ],
        )

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        """Check the pool type."""
        check_pool_type(diags, config)

    def read(self, ctx: Any, config: dict[str, Any]) -> dict[str, Any] | None:
        """List the pools and their queues."""
        from blocks.pools import WorkPool

        registry = self.provider.runtime.registry
        wanted = config.get("type")
        rows = {
            pool.name: {
                "id": pool.name, "name": pool.name, "type": pool.type,
                "description": pool.description, "concurrency_limit": pool.concurrency_limit,
                "paused": pool.is_paused, "version": pool.version,
                "queues": [q.name for q in pool.queues()],
            }
            for pool in WorkPool.list_pools(registry=registry)
            if wanted is None or pool.type == wanted
        }
        return {"type": wanted, "names": sorted(rows), "pools": rows}
