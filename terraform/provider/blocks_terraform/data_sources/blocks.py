"""``data.blocks_blocks``: every block of one type, by name (ids, versions, placeholders).

Made for ``for_each``: ``blocks`` is a map keyed by block name, so a module can declare one
resource per existing block. Only metadata is read (no document is opened): nothing secret
reaches state.
"""

from __future__ import annotations

from typing import Any

from tf import types
from tf.schema import Attribute, Schema
from tf.utils import Diagnostics

from blocks_terraform.data_sources.base import DataSource
from blocks_terraform.framework import is_known
from blocks_terraform.nested import NestedAttribute
from blocks_terraform.resources.common import identity


def _row(description: str) -> list[Attribute]:
    return [
        Attribute("id", types.String(), computed=True,
                  description="`<type>/<name>`: what nested-block fields take."),
        Attribute("name", types.String(), computed=True, description="The block name."),
        Attribute("version", types.Number(), computed=True,
                  description="Current version of the block."),
        Attribute("placeholder", types.String(), computed=True,
                  description=f"`{{{{ blocks.<type>.<name> }}}}`, for {description}."),
        Attribute("updated_at", types.String(), computed=True,
                  description="When the current version was written (RFC 3339, UTC)."),
    ]


class BlocksDataSource(DataSource):
    """The ``blocks_blocks`` data source."""

    name = "blocks"

    @classmethod
    def get_schema(cls) -> Schema:
        return cls.make_schema(
            description="List the blocks of one type: names, ids, versions and placeholders, "
                        "never field values. `blocks` is keyed by name, for `for_each`.",
            attributes=[
                Attribute("type", types.String(), required=True,
                          description="Block type slug to list, e.g. `aws-credentials` (see "
                                      "`blocks types`)."),
                Attribute("names", types.List(types.String()), computed=True,
                          description="Names of the blocks of that type, sorted."),
                NestedAttribute("blocks", _row("work-pool templates"), nesting="map",
                                computed=True,
                                description="The blocks of that type by name: `id`, `name`, "
                                            "`version`, `placeholder`, `updated_at`."),
            ],
        )

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        """The type must be registered."""
        slug = config.get("type")
        if slug is None or not is_known(slug):
            return
        from blocks import catalog
        from blocks.errors import UnknownBlockType

        try:
            catalog.get(slug)
        except UnknownBlockType as exc:
            diags.add_error("Unknown block type", str(exc), path=["type"])

    def read(self, ctx: Any, config: dict[str, Any]) -> dict[str, Any] | None:
        """List the blocks' metadata (no document is decrypted)."""
        slug = config["type"]
        summaries = self.provider.runtime.registry.list(slug)
        rows = {
            s.name: {**identity(slug, s.name), "name": s.name, "version": s.current_version,
                     "updated_at": s.updated_at.isoformat()}
            for s in summaries
        }
        return {"type": slug, "names": sorted(rows), "blocks": rows}
