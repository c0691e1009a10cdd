"""``data.blocks_block``: a block's non-secret fields and version, by type and name.

Secret fields are masked (``********``), so nothing secret reaches state through this data
source; ``secret_fields`` lists their paths.
"""

from __future__ import annotations

from typing import Any

from tf import types
from tf.schema import Attribute, Schema
from tf.utils import Diagnostics

from blocks_terraform.framework import SCHEMA_VERSION, Json


class BlockDataSource:
    """The ``blocks_block`` data source."""

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return "block"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            version=SCHEMA_VERSION,
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

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        """Nothing to check before reading (a bad name fails the read, naming the rule)."""

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
