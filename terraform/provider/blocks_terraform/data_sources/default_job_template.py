"""``data.blocks_default_job_template``: the default base job template of a pool type."""

from __future__ import annotations

from typing import Any

from tf import types
from tf.schema import Attribute, Schema
from tf.utils import Diagnostics

from blocks_terraform.framework import SCHEMA_VERSION, Json, is_known
from blocks_terraform.resources.work_pool import POOL_TYPES


class DefaultJobTemplateDataSource:
    """The ``blocks_default_job_template`` data source."""

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return "default_job_template"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            version=SCHEMA_VERSION,
            description="The default base job template of a work-pool type, to extend in "
                        "`blocks_work_pool.base_job_template`.",
            attributes=[
                Attribute("type", types.String(), required=True,
                          description="One of `process`, `docker`, `ecs`, `kubernetes`."),
                Attribute("base_job_template", Json(), computed=True,
                          description="`{job_configuration, variables}` as JSON."),
                Attribute("job_configuration", Json(), computed=True,
                          description="The job with `{{ placeholders }}`, as JSON."),
                Attribute("variables", Json(), computed=True,
                          description="JSON Schema of the job variables, as JSON."),
            ],
        )

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        """Check the pool type."""
        pool_type = config.get("type")
        if pool_type is not None and is_known(pool_type) and pool_type not in POOL_TYPES:
            diags.add_error("Invalid type", f"type must be one of {', '.join(POOL_TYPES)}",
                            path=["type"])

    def read(self, ctx: Any, config: dict[str, Any]) -> dict[str, Any] | None:
        """Build the template from the type's typed job variables."""
        from blocks.pools import default_base_job_template

        template = default_base_job_template(config["type"])
        return {
            "type": config["type"], "base_job_template": template,
            "job_configuration": template["job_configuration"],
            "variables": template["variables"],
        }
