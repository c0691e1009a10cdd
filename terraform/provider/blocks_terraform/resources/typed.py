"""Typed block resources (``blocks_s3_bucket``, ...), one class per block type, generated.

Each class is built from the type's cached field specs (see :mod:`blocks_terraform.typed_schema`),
so a new block type, built-in or plug-in, becomes a resource without code here. Its attributes
are ``id`` (``slug/name``), ``name``, ``version``, ``placeholder`` and one attribute per model
field; a nested model with fixed fields (``aws_client_parameters``) is a nested attribute.

The type's validators run in ``terraform validate`` on the values known then, and again at plan
time with every value known by then; references to blocks that are not in the registry are
refused at plan time.

State holds every field value, secret fields included when the configuration sets them (they
are marked sensitive). A secret changed outside Terraform is detected by comparing the stored
value with the one in state, and state then shows ``********`` -- never the new value -- so the
plan proposes to write the configured value back.
"""

from __future__ import annotations

import json
from typing import Any

from tf.types import Unknown
from tf.utils import Diagnostics

from blocks_terraform import writeonly
from blocks_terraform.framework import PlanContext, Resource, guarded, is_known
from blocks_terraform.resources import typed_rotation
from blocks_terraform.resources.common import (
    REFERENCED,
    check_exists,
    check_name,
    common_attributes,
    identity,
    or_state,
    plan_identity,
    rename,
    same_secret,
    unchanged,
)
from blocks_terraform.resources.rotation import apply_rotation, trigger_changed
from blocks_terraform.resources.typed_fields import (
    field_attribute,
    fill,
    is_computed,
    model_value,
    tf_type,
)
from blocks_terraform.runtime import MASK, report_blocks_error

__all__ = ["TypedBlockResource", "check_name", "common_attributes", "resource_class",
           "same_secret"]

SCHEMA_VERSION = 1
"""Version 1: nested models became nested attributes (they were JSON strings in version 0)."""


class TypedBlockResource(Resource):
    """Base of the generated typed resources; subclasses set ``slug`` and ``fields``."""

    slug: str = ""
    title: str = ""
    description: str = ""
    fields: tuple[dict[str, Any], ...] = ()

    @classmethod
    def get_name(cls) -> str:
        return cls.slug.replace("-", "_")

    @classmethod
    def block_ref(cls, state: dict[str, Any]) -> str | None:
        """The block a state or plan names (``None`` while its name is unknown)."""
        name = state.get("name")
        return f"{cls.slug}/{name}" if isinstance(name, str) else None

    @classmethod
    def get_schema(cls) -> Any:
        rotatable = typed_rotation.rotatable(cls.fields)
        schema = cls.make_schema(
            common_attributes(cls.slug) + [field_attribute(s) for s in cls.fields]
            + writeonly.attributes(cls.fields, tf_type)
            + (typed_rotation.attributes() if rotatable else []),
            block_types=[typed_rotation.block()] if rotatable else None,
            description=f"{cls.description} Typed `{cls.slug}` block, validated by the block "
                        "type's own rules in `terraform validate` and at plan time."
                        + REFERENCED,
        )
        schema.version = SCHEMA_VERSION
        return schema

    # -- validate and plan --------------------------------------------------------------

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        """The type's rules on the values known at validate time (the provider is not
        configured yet, so references are looked up at plan time)."""
        super().validate(diags, type_name, config)
        writeonly.validate(diags, self.fields, config)
        if typed_rotation.rotatable(self.fields):
            typed_rotation.validate(diags, config)
        if not diags.has_errors():
            self.check_config(diags, config)

    def check_config(self, diags: Diagnostics, config: dict[str, Any],
                     registry: Any = None) -> None:
        """Check the configuration with the block type's validators, skipping unknown values.

        Args:
            registry: when given (at plan time), known references must name stored blocks.
        """
        check_name(diags, config.get("name"))
        data, refs = {}, set()
        for spec in self.fields:
            value = writeonly.config_value(config, spec)
            if value is None:
                continue
            if spec["kind"] == "ref":
                refs.add(spec["name"])
                if is_known(value) and check_ref(diags, spec, value) and registry is not None:
                    check_exists(diags, registry, value, [spec["name"]], spec["name"])
                continue
            if not is_known(value):
                # Cross-field rules cannot be judged yet; apply-time validation sees it all.
                return
            try:
                data[spec["name"]] = model_value(spec, value)
            except ValueError as exc:
                diags.add_error(f"Invalid {spec['name']}", str(exc), path=[spec["name"]])
                return
        self.check_model(diags, data, refs)

    def check_model(self, diags: Diagnostics, data: dict[str, Any], skipped: set[str]) -> None:
        """Run the block type's validators on ``data``, ignoring errors about ``skipped``."""
        from blocks import catalog
        from blocks.errors import ValidationError

        try:
            catalog.get(self.slug)(**data)
        except ValidationError as exc:
            wanted = [(p, m) for p, m in exc.errors
                      if p.split(".")[0] not in skipped and (p or not skipped)]
            if wanted:
                report_blocks_error(diags, ValidationError(exc.ref, wanted), self.field_names)

    def plan(self, ctx: PlanContext, prior: dict[str, Any] | None, planned: dict[str, Any]) -> Any:
        """Validate; fill defaults for omitted fields; ``version`` unknown when a field changes."""
        self.check_config(ctx.diagnostics, ctx.config, self.provider.runtime.registry)
        for spec in self.fields:
            configured = ctx.config.get(spec["name"])
            if configured is None and is_computed(spec):
                if spec.get("has_default"):
                    planned[spec["name"]] = spec["default"]
                else:
                    planned[spec["name"]] = Unknown if prior is None else prior.get(spec["name"])
            elif spec["kind"] == "object":
                planned[spec["name"]] = fill(spec, configured)
        plan_identity(self.slug, planned, prior)
        if prior is None or any(planned[n] != prior.get(n) for n in self.field_names):
            planned["version"] = Unknown
        if typed_rotation.rotatable(self.fields):
            typed_rotation.rotated(self.slug, self.fields, ctx.config, ctx.diagnostics)
            typed_rotation.plan(prior, planned, ctx.config)
        writeonly.plan(self.fields, prior, planned)
        return planned

    def upgrade(self, ctx: Any, version: int, old: Any) -> Any:
        """Version 0 held nested models as JSON strings; they are objects now."""
        if version < 1:
            for spec in self.fields:
                value = old.get(spec["name"])
                if spec["kind"] == "object" and isinstance(value, str):
                    filled = fill(spec, {**(spec["default"] or {}), **json.loads(value)})
                    old[spec["name"]] = field_attribute(spec).type.encode(filled)
        return old

    # -- CRUD -----------------------------------------------------------------------------

    @guarded
    def create(self, ctx: Any, planned: dict[str, Any]) -> dict[str, Any] | None:
        """Save a new block (refused when one exists already: import it instead)."""
        planned.update(identity(self.slug, planned["name"]))
        block = self.build(ctx, planned)
        if block is None:
            return None
        runtime = self.provider.runtime
        created: dict[str, Any] = self.store(block, planned, expected_version=(
            runtime.retirements.create_base(runtime.registry, planned["id"])))
        return self._rotation(created, planned, None)

    @guarded
    def update(self, ctx: Any, current: dict[str, Any], planned: dict[str, Any]) -> Any:
        """Rename in place if ``name`` changed, then save a new version if a field changed
        (compare-and-set on the refreshed version)."""
        current = rename(self.provider.runtime.registry, self.slug, current, planned)
        block = self.build(ctx, planned, current)
        if block is None:
            return current
        return or_state(ctx, current, lambda: self._rotation(self.store(
            block, planned, expected_version=self._expected(current)), planned, current))

    def _expected(self, current: dict[str, Any]) -> int:
        """The compare-and-set base: state's version, or (after drift of rotated fields,
        where state keeps the version to restore) the stored current one."""
        if current.get(typed_rotation.FINGERPRINT) == typed_rotation.DRIFTED:
            summary = self.provider.runtime.registry.summary(f"{self.slug}/{current['name']}")
            return int(summary.current_version)
        return int(current["version"])

    def _rotation(self, state: dict[str, Any], planned: dict[str, Any],
                  prior: dict[str, Any] | None) -> dict[str, Any]:
        """Store the policy, rotate on a changed trigger; state with the rotated fields as
        planned and their fingerprint."""
        if not typed_rotation.rotatable(self.fields):
            return state
        runtime = self.provider.runtime
        ref = f"{self.slug}/{planned['name']}"
        apply_rotation(runtime, ref, planned, prior)
        names = typed_rotation.rotated(self.slug, self.fields, planned)
        if not names:
            return {**state, typed_rotation.FINGERPRINT: None}
        block = runtime.registry.load(ref)
        stored = self.state_of(block, state)
        if trigger_changed(prior, planned):  # rotated just now: write-only values changed too
            rewritten = writeonly.finish(self.fields, dict(stored), runtime.fingerprint)
            state = {**state, "version": block.block_version}
            if writeonly.FINGERPRINT in state:
                state[writeonly.FINGERPRINT] = rewritten[writeonly.FINGERPRINT]
        state = {**state, **{n: planned.get(n) for n in names}}
        return {**state, typed_rotation.FINGERPRINT: typed_rotation.fingerprint(
            runtime, stored, names)}

    @guarded
    def read(self, ctx: Any, current: dict[str, Any]) -> dict[str, Any] | None:
        """Refresh from the registry; ``None`` (re-create) when the block is gone."""
        from blocks import codec
        from blocks.errors import BlockNotFound

        try:
            block = self.provider.runtime.registry.load(f"{self.slug}/{current['name']}")
        except BlockNotFound:
            return None
        importing = current.get("version") is None
        names = typed_rotation.rotated(self.slug, self.fields, current)
        state, adopted = typed_rotation.refresh(
            self.provider.runtime, current, self.state_of(block, current), names)
        state = writeonly.finish(self.fields, state, self.provider.runtime.fingerprint,
                                 previous=None if importing or adopted else current)
        for spec in self.fields:
            name = spec["name"]
            if name in names:
                continue  # managed by rotation: kept as configured, tracked by fingerprint
            if spec["sensitive"] and not importing and not same_secret(
                    current.get(name), state[name], as_bytes=spec.get("bytes", False)):
                state[name] = (codec.mask_document(state[name], _inner_secrets(spec))
                               if spec["kind"] == "object" else MASK)
            elif spec.get("bytes") and current.get(name) is not None:
                state[name] = current[name]  # the same key, in the form the configuration uses
        return state

    @guarded
    def delete(self, ctx: Any, current: dict[str, Any]) -> None:
        """Delete the block and its versions; a referenced one retires (``retire.py``)."""
        runtime = self.provider.runtime
        runtime.retirements.delete(ctx.diagnostics, runtime.registry,
                                   f"{self.slug}/{current['name']}")

    def import_(self, ctx: Any, id: str) -> dict[str, Any] | None:
        """Import by name or ``slug/name``."""
        name = id.split("/", 1)[1] if id.startswith(f"{self.slug}/") else id
        check_name(ctx.diagnostics, name)
        if ctx.diagnostics.has_errors():
            return None
        state: dict[str, Any] = {a.name: None for a in self.get_schema().attributes}
        state["name"] = name
        if typed_rotation.rotatable(self.fields):
            state["rotation"] = None
        found: dict[str, Any] | None = self.read(ctx, state)
        if ctx.diagnostics.has_errors():
            return None
        if found is None:
            ctx.diagnostics.add_error("Cannot import", f"no block {self.slug}/{name}")
        return found

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _rewrites(name: str, current: dict[str, Any] | None, planned: dict[str, Any]) -> bool:
        """Whether the plan writes a rotated field's configured value on purpose: its
        ``_wo_version`` changed (as without rotation, that writes the new value)."""
        version = f"{name}_wo_version"
        return current is not None and planned.get(version) != current.get(version)

    @property
    def field_names(self) -> set[str]:
        """Names of the model-field attributes."""
        return {s["name"] for s in self.fields}

    def build(self, ctx: Any, planned: dict[str, Any],
              current: dict[str, Any] | None = None) -> Any:
        """The block the planned values describe (references loaded); ``None`` when invalid.

        Fields a declared rotation manages keep their stored values once the block exists
        (``current``): configuration only gives their first value.
        """
        from blocks import catalog
        from blocks.errors import ValidationError

        registry = self.provider.runtime.registry
        data: dict[str, Any] = {}
        written = writeonly.managed(self.fields, planned)
        kept = typed_rotation.source(
            registry, f"{self.slug}/{planned['name']}", current,
            typed_rotation.rotated(self.slug, self.fields, planned)
            if current is not None and current.get("rotation") is not None else [])
        for spec in self.fields:
            # Write-only values are only in the configuration (or in a secret block).
            value = writeonly.written_value(ctx.config, spec["name"], registry) if (
                spec["name"] in written) else planned.get(spec["name"])
            if spec["name"] in kept and not self._rewrites(spec["name"], current, planned):
                value = kept[spec["name"]]
            if value is None or not is_known(value):
                continue
            data[spec["name"]] = (registry.load(value) if spec["kind"] == "ref"
                                  else model_value(spec, value))
        try:
            return catalog.get(self.slug)(**data)
        except ValidationError as exc:
            report_blocks_error(ctx.diagnostics, exc, self.field_names)
            return None

    def store(self, block: Any, planned: dict[str, Any], expected_version: int) -> Any:
        """Save ``block`` (unless it is exactly what is stored); the resulting state."""
        registry = self.provider.runtime.registry
        ref = f"{self.slug}/{planned['name']}"
        stored = unchanged(registry, ref, block) if expected_version else None
        if stored is not None:
            block = stored
        else:
            registry.save(block, planned["name"], overwrite=expected_version != 0,
                          expected_version=expected_version)
        return writeonly.finish(self.fields, self.state_of(block, planned, keep_known=True),
                                self.provider.runtime.fingerprint)

    def state_of(self, block: Any, base: dict[str, Any], keep_known: bool = False) -> Any:
        """State from a saved or loaded block; ``keep_known`` keeps the planned values."""
        from blocks import codec

        stored = codec.to_display(block, show_secrets=True)
        state = {**base, **identity(self.slug, base["name"]), "version": block.block_version}
        for spec in self.fields:
            if keep_known and base.get(spec["name"]) is not None and is_known(
                    base[spec["name"]]):
                continue
            value = stored.get(spec["name"], stored.get(spec.get("field", spec["name"])))
            if spec["kind"] == "ref":
                value = value.get("$ref") if isinstance(value, dict) else None
            state[spec["name"]] = value
        return state


def _inner_secrets(spec: dict[str, Any]) -> tuple[str, ...]:
    return tuple(s["name"] for s in spec["attributes"] if s["sensitive"])


def check_ref(diags: Diagnostics, spec: dict[str, Any], value: str) -> bool:
    """Report a nested-block reference that is not the ``id`` of an allowed type."""
    slug = value.split("/", 1)[0] if "/" in value else ""
    if slug in spec["ref_slugs"]:
        return True
    kinds = ", ".join(f"blocks_{s.replace('-', '_')}" for s in spec["ref_slugs"])
    diags.add_error(
        f"Invalid {spec['name']}",
        f"{spec['name']} takes the id of a {kinds} resource ('slug/name'), got {value!r}",
        path=[spec["name"]],
    )
    return False


def resource_class(slug: str, spec: dict[str, Any]) -> type[TypedBlockResource]:
    """Generate the resource class of one block type from its cached spec."""
    name = "".join(part.title() for part in slug.split("-")) + "Resource"
    return type(name, (TypedBlockResource,), {
        "slug": slug,
        "title": spec["title"],
        "description": spec["description"],
        "fields": tuple(spec["fields"]),
    })
