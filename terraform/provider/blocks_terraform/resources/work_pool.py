"""``blocks_work_pool``: a work pool with its base job template, concurrency limit and pause.

``name`` and ``type`` force replacement. Omitting ``base_job_template`` means the type's
default template, which the plan shows and which causes no diff later. State holds the pool's
settings; a template may name blocks through ``{{ blocks.<slug>.<name> }}`` placeholders, never
their values.
"""

from __future__ import annotations

import contextlib
from typing import Any

from tf import types
from tf.schema import Attribute
from tf.utils import Diagnostics

from blocks_terraform.framework import Json, PlanContext, Resource, guarded, is_known, loads
from blocks_terraform.resources.typed import check_name
from blocks_terraform.runtime import report_blocks_error

POOL_TYPES = ("process", "docker", "ecs", "kubernetes")
SETTINGS = ("description", "base_job_template", "concurrency_limit", "paused")


def pool_state(pool: Any) -> dict[str, Any]:
    """A loaded ``WorkPool`` as resource / data-source state."""
    return {
        "id": pool.name, "name": pool.name, "type": pool.type,
        "description": pool.description, "base_job_template": pool.base_job_template,
        "concurrency_limit": pool.concurrency_limit, "paused": pool.is_paused,
        "version": pool.version,
    }


def prefect_hooks(registry: Any) -> Any:
    """The Prefect bridge's hooks when the provider has ``prefect_api_url`` set, else None."""
    if not registry.settings.prefect_api_url:
        return None
    from blocks.integrations.prefect import terraform_hooks

    return terraform_hooks


def pool_attributes(computed: bool) -> list[Attribute]:
    """The pool's attributes; all computed (except ``name``) for the data source."""
    settable = {"optional": not computed, "computed": True}
    return [
        Attribute("id", types.String(), computed=True, description="The pool name."),
        Attribute("name", types.String(), required=True, requires_replace=True,
                  description="Pool name (1-63 lowercase letters, digits, dashes). Changing it "
                              "replaces the pool."),
        Attribute("type", types.String(), required=not computed, computed=computed,
                  requires_replace=True,
                  description="One of `process`, `docker`, `ecs`, `kubernetes`. Changing it "
                              "replaces the pool."),
        Attribute("description", types.String(), **settable,
                  description="What the pool is for. Default: empty."),
        Attribute("base_job_template", Json(), **settable,
                  description="`{job_configuration, variables}` as JSON (`jsonencode(...)`): "
                              "the job with `{{ placeholders }}` and the JSON Schema of its "
                              "variables. Default: the type's default template (see the "
                              "`blocks_default_job_template` data source)."),
        Attribute("concurrency_limit", types.Number(), optional=not computed,
                  computed=computed,
                  description="Most runs in flight in the pool (>= 0). Default: no limit."),
        Attribute("paused", types.Bool(), **settable,
                  description="A paused pool hands out no runs. Default: false."),
        Attribute("version", types.Number(), computed=True,
                  description="Current stored version of the pool."),
    ]


class WorkPoolResource(Resource):
    """The ``blocks_work_pool`` resource."""

    @classmethod
    def get_name(cls) -> str:
        return "work_pool"

    @classmethod
    def get_schema(cls) -> Any:
        return cls.make_schema(pool_attributes(computed=False),
                               description="A work pool: where flow runs go, and the job "
                                           "template its workers render.")

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        """Check type and limit (the rest needs Blocks and is checked at plan time)."""
        super().validate(diags, type_name, config)
        pool_type = config.get("type")
        if is_known(pool_type) and pool_type is not None and pool_type not in POOL_TYPES:
            diags.add_error("Invalid type", f"type must be one of {', '.join(POOL_TYPES)}",
                            path=["type"])
        limit = config.get("concurrency_limit")
        if limit is not None and is_known(limit) and limit < 0:
            diags.add_error("Invalid concurrency_limit", "concurrency_limit must be >= 0",
                            path=["concurrency_limit"])

    def check_config(self, diags: Diagnostics, config: dict[str, Any]) -> None:
        """Check the name and the template's rules (placeholders, schema, defaults)."""
        check_name(diags, config.get("name"))
        raw = config.get("base_job_template")
        if raw is None or not is_known(raw):
            return
        template = loads(raw)
        from blocks.errors import ValidationError
        from blocks.pools import validate_base_job_template

        try:
            validate_base_job_template(template, ref=f"work-pool/{config.get('name')}")
        except ValidationError as exc:
            report_blocks_error(diags, exc, {"base_job_template"}, prefix="base_job_template")

    def plan(self, ctx: PlanContext, prior: dict[str, Any] | None, planned: dict[str, Any]) -> Any:
        """Validate; omitted settings plan their defaults; ``version`` unknown on change."""
        self.check_config(ctx.diagnostics, ctx.config)
        cfg = ctx.config
        if cfg.get("description") is None:
            planned["description"] = ""
        if cfg.get("paused") is None:
            planned["paused"] = False
        if cfg.get("base_job_template") is None and is_known(planned.get("type")):
            from blocks.pools import default_base_job_template

            if planned["type"] in POOL_TYPES:
                planned["base_job_template"] = default_base_job_template(planned["type"])
        planned["id"] = planned.get("name")
        if prior is None or any(planned.get(k) != prior.get(k) for k in SETTINGS):
            from tf.types import Unknown

            planned["version"] = Unknown
        return planned

    @guarded
    def create(self, ctx: Any, planned: dict[str, Any]) -> Any:
        """Create the pool (and its ``default`` queue)."""
        from blocks.pools import WorkPool

        registry = self.provider.runtime.registry
        pool = WorkPool(name=planned["name"], type=planned["type"], **self._settings(planned),
                        publish_to_prefect=prefect_hooks(registry) is not None)
        pool.save(registry=registry)
        return {**planned, "id": pool.name, "version": pool.version}

    @guarded
    def update(self, ctx: Any, current: dict[str, Any], planned: dict[str, Any]) -> Any:
        """Store the changed settings (compare-and-set on the refreshed version)."""
        from blocks.pools import WorkPool

        pool = WorkPool.load(current["name"], registry=self.provider.runtime.registry)
        for key, value in self._settings(planned).items():
            setattr(pool, key, value)
        if prefect_hooks(self.provider.runtime.registry) is not None:
            pool.publish_to_prefect = True
        pool.save(expected_version=int(current["version"]))
        return {**planned, "version": pool.version}

    @guarded
    def read(self, ctx: Any, current: dict[str, Any]) -> dict[str, Any] | None:
        """Refresh; ``None`` (re-create) when the pool was deleted."""
        from blocks.errors import WorkPoolNotFound
        from blocks.pools import WorkPool

        try:
            pool = WorkPool.load(current["name"], registry=self.provider.runtime.registry)
        except WorkPoolNotFound:
            return None
        prefect = prefect_hooks(self.provider.runtime.registry)
        drift = prefect.pool_drift(self.provider.runtime.registry, pool) if prefect else {}
        return {**pool_state(pool), **drift}

    @guarded
    def delete(self, ctx: Any, current: dict[str, Any]) -> None:
        """Delete the pool with its queues."""
        from blocks.errors import WorkPoolNotFound
        from blocks.pools import WorkPool

        registry = self.provider.runtime.registry
        with contextlib.suppress(WorkPoolNotFound):
            WorkPool.delete(current["name"], registry=registry)
        prefect = prefect_hooks(registry)
        if prefect is not None:
            prefect.delete_pool(registry, current["name"])

    def import_(self, ctx: Any, id: str) -> dict[str, Any] | None:
        """Import by pool name."""
        found = self.read(ctx, {"name": id})
        if found is None and not ctx.diagnostics.has_errors():
            ctx.diagnostics.add_error("Cannot import", f"no work pool {id!r}")
        return found

    @staticmethod
    def _settings(planned: dict[str, Any]) -> dict[str, Any]:
        limit = planned.get("concurrency_limit")
        return {
            "description": planned.get("description") or "",
            "base_job_template": planned.get("base_job_template") or {},
            "concurrency_limit": int(limit) if limit is not None else None,
            "is_paused": bool(planned.get("paused")),
        }
