"""``blocks_work_pool``: a work pool with its base job template, concurrency limit and pause.

``type`` forces replacement; ``name`` changes in place (the pool keeps its id, history and
queues). ``id`` is the pool name, known after apply when the pool is created: queues that
take ``pool = blocks_work_pool.<label>.id`` are therefore replaced with the pool, in the same
apply. Omitting ``base_job_template`` means the type's default template, which the plan shows
and which causes no diff later. State holds the pool's settings; a template may name blocks
through ``{{ blocks.<slug>.<name> }}`` placeholders (best through the blocks' ``placeholder``
attributes), never their values; a known placeholder that names no block is refused at plan.
"""

from __future__ import annotations

import contextlib
from typing import Any

from tf import types
from tf.schema import Attribute
from tf.utils import Diagnostics

from blocks_terraform.framework import (
    Json,
    PlanContext,
    Resource,
    guarded,
    is_known,
    loads,
    report_exception,
)
from blocks_terraform.resources.common import check_name, or_state
from blocks_terraform.runtime import report_blocks_error

POOL_TYPES = ("process", "docker", "ecs", "kubernetes")
SETTINGS = ("description", "base_job_template", "concurrency_limit", "paused")
POOL_NAME = "work pool name"


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
    """The pool's attributes; for the data source (``computed``) all read-only but ``name``,
    and described as what was read rather than what to set."""
    settable = {"optional": not computed, "computed": True}

    def say(resource: str, data_source: str) -> str:
        return data_source if computed else resource

    return [
        Attribute("id", types.String(), computed=True,
                  description=say("The pool name; known after apply when the pool is created, "
                                  "so queues that take `pool = blocks_work_pool.<label>.id` "
                                  "are replaced together with the pool.", "The pool name.")),
        Attribute("name", types.String(), required=True,
                  description=say("Pool name (1-63 lowercase letters, digits, dashes). "
                                  "Changing it renames the pool in place: same id, history "
                                  "and queues.", "Name of the pool to read.")),
        Attribute("type", types.String(), required=not computed, computed=computed,
                  requires_replace=None if computed else True,
                  description=say("One of `process`, `docker`, `ecs`, `kubernetes`. Changing "
                                  "it replaces the pool (and the queues that take its `id`).",
                                  "The pool type: `process`, `docker`, `ecs` or "
                                  "`kubernetes`.")),
        Attribute("description", types.String(), **settable,
                  description=say("What the pool is for. Default: empty.",
                                  "What the pool is for.")),
        Attribute("base_job_template", Json(), **settable,
                  description=say("`{job_configuration, variables}` as JSON "
                                  "(`jsonencode(...)`): the job with `{{ placeholders }}` and "
                                  "the JSON Schema of its variables. Default: the type's "
                                  "default template (see the `blocks_default_job_template` "
                                  "data source). Block placeholders are best written with the "
                                  "blocks' `placeholder` attributes; a known one that names no "
                                  "block is refused at plan.",
                                  "`{job_configuration, variables}` as JSON: the job with "
                                  "`{{ placeholders }}` and the JSON Schema of its variables.")),
        Attribute("concurrency_limit", types.Number(), optional=not computed,
                  computed=computed,
                  description=say("Most runs in flight in the pool (>= 0). Default: no limit.",
                                  "Most runs in flight in the pool; null for no limit.")),
        Attribute("paused", types.Bool(), **settable,
                  description=say("A paused pool hands out no runs. Default: false.",
                                  "Whether the pool is paused (hands out no runs).")),
        Attribute("version", types.Number(), computed=True,
                  description="Current stored version of the pool."),
    ]


def placeholder_hint(diags: Diagnostics, pool: str, template: Any) -> None:
    """Warn on import that the template's block placeholders are best written with the
    blocks' ``placeholder`` attributes (Terraform, and ``-generate-config-out``, copy the
    text as it is stored)."""
    from blocks.pools.placeholders import walk

    found = sorted({p.text for _, p in walk(template or {}) if p.kind == "block"})
    if not found:
        return
    first = placeholder_reference(found[0])
    diags.add_warning(
        "Block placeholders in the imported template",
        f"The base_job_template of work pool {pool!r} names blocks by placeholder text: "
        f"{', '.join(found)}. In configuration (a file written by `terraform plan "
        "-generate-config-out` included), write each one with the block resource's "
        f"placeholder attribute instead of the text, e.g. {first}: Terraform then creates "
        "the block before the pool and refuses a placeholder that names no block.")


def placeholder_reference(text: str) -> str:
    """How one placeholder reads as a reference, e.g. ``${blocks_secret.<label>.placeholder}``."""
    from blocks.pools.placeholders import whole

    placeholder = whole(text)
    if placeholder is None or placeholder.kind != "block":
        return text
    kind = "blocks_" + placeholder.block_ref.split("/")[0].replace("-", "_")
    if placeholder.field_path:
        field = ".".join(placeholder.field_path)
        return (f"{text} -> \"${{replace({kind}.<label>.placeholder, \" }}}}\", "
                f"\".{field} }}}}\")}}\"")
    return f"{text} -> \"${{{kind}.<label>.placeholder}}\""


class WorkPoolResource(Resource):
    """The ``blocks_work_pool`` resource."""

    noun = "work pool "

    @classmethod
    def get_name(cls) -> str:
        return "work_pool"

    @classmethod
    def get_schema(cls) -> Any:
        return cls.make_schema(pool_attributes(computed=False),
                               description="A work pool: where flow runs go, and the job "
                                           "template its workers render.")

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        """Check type, limit, name and template rules (block placeholders are looked up at
        plan time, when the provider is configured)."""
        super().validate(diags, type_name, config)
        pool_type = config.get("type")
        if is_known(pool_type) and pool_type is not None and pool_type not in POOL_TYPES:
            diags.add_error("Invalid type", f"type must be one of {', '.join(POOL_TYPES)}",
                            path=["type"])
        limit = config.get("concurrency_limit")
        if limit is not None and is_known(limit) and limit < 0:
            diags.add_error("Invalid concurrency_limit", "concurrency_limit must be >= 0",
                            path=["concurrency_limit"])
        if not diags.has_errors():
            self.check_config(diags, config)

    def check_config(self, diags: Diagnostics, config: dict[str, Any],
                     registry: Any = None) -> None:
        """Check the name and the template's rules (placeholders, schema, defaults).

        Args:
            registry: when given (at plan time), block placeholders must name stored blocks.
        """
        check_name(diags, config.get("name"), what=POOL_NAME)
        raw = config.get("base_job_template")
        if raw is None or not is_known(raw):
            return
        template = loads(raw)
        from blocks.errors import ValidationError
        from blocks.pools import validate_base_job_template
        from blocks.pools.resolve import block_exists

        try:
            validate_base_job_template(
                template, ref=f"work-pool/{config.get('name')}",
                block_exists=None if registry is None else (
                    lambda ref: block_exists(registry, ref)),
            )
        except ValidationError as exc:
            report_blocks_error(diags, exc, {"base_job_template"}, prefix="base_job_template")
            return
        prefect = None if registry is None else prefect_hooks(registry)
        if prefect is not None:  # plan refuses what publishing would refuse
            try:
                prefect.check_publishable(registry, config.get("name"), template)
            except ValidationError as exc:
                report_blocks_error(diags, exc, {"base_job_template"},
                                    prefix="base_job_template")

    def plan(self, ctx: PlanContext, prior: dict[str, Any] | None, planned: dict[str, Any]) -> Any:
        """Validate; omitted settings plan their defaults; ``version`` unknown on change."""
        self.check_config(ctx.diagnostics, ctx.config, self.provider.runtime.registry)
        cfg = ctx.config
        if cfg.get("description") is None:
            planned["description"] = ""
        if cfg.get("paused") is None:
            planned["paused"] = False
        if cfg.get("base_job_template") is None and is_known(planned.get("type")):
            from blocks.pools import default_base_job_template

            if planned["type"] in POOL_TYPES:
                planned["base_job_template"] = default_base_job_template(planned["type"])
        from tf.types import Unknown

        if is_known(planned.get("name")) and (prior is None or prior.get("name") != planned[
                "name"]):
            self.provider.runtime.planned_pools.add(planned["name"])  # for queues' checks
        # Unknown on create, so that queues keyed by the pool's id are replaced with it.
        planned["id"] = Unknown if prior is None else planned.get("name")
        if prior is None or any(planned.get(k) != prior.get(k) for k in SETTINGS):
            planned["version"] = Unknown
        return planned

    @guarded
    def create(self, ctx: Any, planned: dict[str, Any]) -> Any:
        """Create the pool (and its ``default`` queue)."""
        from blocks.pools import WorkPool

        registry = self.provider.runtime.registry
        planned["id"] = planned["name"]
        pool = WorkPool(name=planned["name"], type=planned["type"], **self._settings(planned),
                        publish_to_prefect=prefect_hooks(registry) is not None)
        try:
            pool.save(registry=registry)
        except Exception as exc:
            if not pool.version:
                raise  # nothing stored
            # Stored, not published: Terraform records it (tainted) rather than leave a pool
            # it does not know of; the next apply replaces it and publishes again.
            report_exception(ctx.diagnostics, exc)
        return {**planned, "id": pool.name, "version": pool.version}

    @guarded
    def update(self, ctx: Any, current: dict[str, Any], planned: dict[str, Any]) -> Any:
        """Rename in place if ``name`` changed (queues follow); store changed settings
        (compare-and-set on the refreshed version)."""
        from blocks.pools import WorkPool

        registry = self.provider.runtime.registry
        if planned["name"] != current["name"]:
            pool = WorkPool.load(current["name"], registry=registry)
            if pool.version != int(current["version"]):
                from blocks.errors import ConflictError

                raise ConflictError(
                    f"work pool {current['name']!r} is at version {pool.version}, not "
                    f"{int(current['version'])}: someone else wrote since the refresh; "
                    "run terraform apply again")
            WorkPool.rename(current["name"], planned["name"], registry=registry)
            current = {**current, "id": planned["name"], "name": planned["name"]}
        return or_state(ctx, current, lambda: self._store(current, planned))

    def _store(self, current: dict[str, Any], planned: dict[str, Any]) -> Any:
        from blocks.pools import WorkPool

        pool = WorkPool.load(current["name"], registry=self.provider.runtime.registry)
        registry = self.provider.runtime.registry
        settings = self._settings(planned)
        publishing = prefect_hooks(registry) is not None
        if publishing and not pool.publish_to_prefect:
            settings["publish_to_prefect"] = True
        if any(getattr(pool, key) != value for key, value in settings.items()):
            for key, value in settings.items():
                setattr(pool, key, value)
            pool.save(expected_version=int(current["version"]))  # publishes when it is set
        elif publishing:
            # Unchanged in Blocks, so a planned change is drift on the Prefect side: put it back.
            from blocks.integrations.prefect.hooks import publish_saved_pool

            publish_saved_pool(registry, pool.name)
        return {**planned, "id": pool.name, "version": pool.version}

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
        check_name(ctx.diagnostics, id, what=POOL_NAME)
        if ctx.diagnostics.has_errors():
            return None
        found = self.read(ctx, {"name": id})
        if ctx.diagnostics.has_errors():
            return None
        if found is None:
            ctx.diagnostics.add_error("Cannot import", f"no work pool {id!r}")
        else:
            placeholder_hint(ctx.diagnostics, id, found.get("base_job_template"))
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
