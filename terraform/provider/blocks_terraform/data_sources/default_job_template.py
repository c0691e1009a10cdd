"""``data.blocks_default_job_template``: the default base job template of a pool type."""

from __future__ import annotations

from typing import Any

from tf import types
from tf.schema import Attribute, Schema
from tf.utils import Diagnostics

from blocks_terraform.data_sources.base import DataSource, check_pool_type
from blocks_terraform.framework import Json


class DefaultJobTemplateDataSource(DataSource):
    """The ``blocks_default_job_template`` data source."""

    name = "default_job_template"

    @classmethod
    def get_schema(cls) -> Schema:
        return cls.make_schema(
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
        check_pool_type(diags, config)

    def read(self, ctx: Any, config: dict[str, Any]) -> dict[str, Any] | None:
        """Build the template from the type's typed job variables."""
        from blocks.pools import default_base_job_template

        template = default_base_job_template(config["type"])
        return {
            "type": config["type"], "base_job_template": template,
            "job_configuration": template["job_configuration"],
            "variables": template["variables"],
        }
