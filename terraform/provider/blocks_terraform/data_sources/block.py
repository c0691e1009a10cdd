"""``data.blocks_block``: a block's non-secret fields and version, by type and name.

Secret fields are masked (``********``), so nothing secret reaches state through this data
source; ``secret_fields`` lists their paths.
"""

from __future__ import annotations

from typing import Any

from tf import types
from tf.schema import Attribute, Schema

from blocks_terraform.data_sources.base import DataSource
from blocks_terraform.framework import Json


class BlockDataSource(DataSource):
    """The ``blocks_block`` data source."""

    name = "block"

    @classmethod
    def get_schema(cls) -> Schema:
        return cls.make_schema(
            description="Read a block's non-secret fields and its version.",
            attributes=[
                Attribute("type", types.String(), required=True,
                          description="Block type slug, e.g. `s3-bucket`."),
                Attribute("name", types.String(), required=True, description="Block name."),
                Attribute("id", types.String(), computed=True, description="`<type>/<name>`."),
                Attribute("version", types.Number(), computed=True,
                          description="Current version."),
                Attribute("data", Json(), computed=True,
                          description="The fields as JSON; secrets as `********`, nested "
                                      "blocks as `{\"$ref\": \"slug/name\"}`."),
                Attribute("secret_fields", types.List(types.String()), computed=True,
                          description="Dot paths of the type's secret fields."),
            ],
        )

    def read(self, ctx: Any, config: dict[str, Any]) -> dict[str, Any] | None:
        """Load the block and mask its secrets."""
        from blocks import codec

        ref = f"{config['type']}/{config['name']}"
        block = self.provider.runtime.registry.load(ref)
        return {
            **config, "id": ref, "version": block.block_version,
            "data": codec.to_display(block, show_secrets=False),
            "secret_fields": list(type(block).secret_paths()),
        }
