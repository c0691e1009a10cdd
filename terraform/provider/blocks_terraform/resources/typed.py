"""Typed block resources (``blocks_s3_bucket``, ...), one class per block type, generated.

Each class is built from the type's cached field specs (see :mod:`blocks_terraform.typed_schema`),
so a new block type, built-in or plug-in, becomes a resource without code here. Its attributes
are ``id`` (``slug/name``), ``name``, ``version`` and one attribute per model field.

State holds every field value, secret fields included when the configuration sets them (they
are marked sensitive). A secret changed outside Terraform is detected by comparing the stored
value with the one in state, and state then shows ``********`` -- never the new value -- so the
plan proposes to write the configured value back.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
from typing import Any

from tf import types
from tf.schema import Attribute
from tf.types import Unknown
from tf.utils import Diagnostics

from blocks_terraform import writeonly
from blocks_terraform.framework import Json, PlanContext, Resource, guarded, is_known, loads
from blocks_terraform.runtime import MASK, report_blocks_error

_TYPES = {"string": types.String, "number": types.Number, "bool": types.Bool}


def tf_type(spec: dict[str, Any]) -> Any:
    """The ``tf`` type of a field spec."""
    if spec["kind"] == "list":
        return types.List(_TYPES[spec["element"]]())
    if spec["kind"] == "json":
        return Json()
    if spec["kind"] == "ref":
        return types.String()
    return _TYPES[spec["kind"]]()


def is_computed(spec: dict[str, Any]) -> bool:
    """Optional fields whose default is not null: omitting them plans the default."""
    return not spec["required"] and not (spec.get("has_default") and spec["default"] is None)


def field_attribute(spec: dict[str, Any]) -> Attribute:
    """The Terraform attribute of a field spec."""
    return Attribute(
        spec["name"], tf_type(spec), description=spec["description"],
        required=spec["required"], optional=not spec["required"], computed=is_computed(spec),
        sensitive=spec["sensitive"],
    )


def common_attributes(slug: str) -> list[Attribute]:
    """``id``, ``name`` and ``version``, shared by every block resource."""
    return [
        Attribute("id", types.String(), computed=True,
                  description=f"`{slug}/<name>`: what nested-block fields of other resources "
                              "take, and what `terraform import` accepts."),
        Attribute("name", types.String(), required=True, requires_replace=True,
                  description="Block name: 1-63 lowercase letters, digits and dashes. "
                              "Changing it replaces the block."),
        Attribute("version", types.Number(), computed=True,
                  description="Current version of the block in the registry."),
    ]


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
    def get_schema(cls) -> Any:
        return cls.make_schema(
            common_attributes(cls.slug) + [field_attribute(s) for s in cls.fields]
            + writeonly.attributes(cls.fields, tf_type),
            description=f"{cls.description} Typed `{cls.slug}` block, validated at plan time "
                        "by the block type's own rules.",
        )

    # -- plan ---------------------------------------------------------------------------

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        """The framework's checks, and the rules of write-only twins."""
        super().validate(diags, type_name, config)
        writeonly.validate(diags, self.fields, config)

    def check_config(self, diags: Diagnostics, config: dict[str, Any]) -> None:
        """Check the configuration with the block type's validators, skipping unknown values.

        Runs at plan time (from :meth:`plan`), not in ``validate()``: validating needs the
        pydantic models, and the process Terraform starts only to validate then never has to
        import them.
        """
        check_name(diags, config.get("name"))
        data, refs = {}, set()
        for spec in self.fields:
            value = writeonly.config_value(config, spec)
            if value is None:
                continue
            if not is_known(value):
                # Cross-field rules cannot be judged yet; apply-time validation sees it all.
                return
            if spec["kind"] == "ref":
                refs.add(spec["name"])
                check_ref(diags, spec, value)
                continue
            data[spec["name"]] = loads(value) if spec["kind"] == "json" else value
        self.check_model(diags, data, refs)

    def check_model(self, diags: Diagnostics, data: dict[str, Any], skipped: set[str]) -> None:
        """Run the block type's validators on ``data``, ignoring errors about ``skipped``."""
        from blocks import catalog
        from blocks.errors import ValidationError

        try:
            catalog.get(self.slug)(**self.to_model_input(data))
        except ValidationError as exc:
            wanted = [(p, m) for p, m in exc.errors
                      if p.split(".")[0] not in skipped and (p or not skipped)]
            if wanted:
                report_blocks_error(diags, ValidationError(exc.ref, wanted), self.field_names)

    def plan(self, ctx: PlanContext, prior: dict[str, Any] | None, planned: dict[str, Any]) -> Any:
        """Validate; fill defaults for omitted fields; ``version`` unknown when a field changes."""
        self.check_config(ctx.diagnostics, ctx.config)
        for spec in self.fields:
            if ctx.config.get(spec["name"]) is None and is_computed(spec):
                if spec.get("has_default"):
                    planned[spec["name"]] = spec["default"]
                else:
                    planned[spec["name"]] = Unknown if prior is None else prior.get(spec["name"])
        name = planned.get("name")
        planned["id"] = f"{self.slug}/{name}" if is_known(name) else Unknown
        if prior is None or any(planned[n] != prior.get(n) for n in self.field_names):
            planned["version"] = Unknown
        writeonly.plan(self.fields, prior, planned)
        return planned

    # -- CRUD -----------------------------------------------------------------------------

    @guarded
    def create(self, ctx: Any, planned: dict[str, Any]) -> dict[str, Any] | None:
        """Save a new block (refused when one exists already: import it instead)."""
        created: dict[str, Any] | None = self._save(ctx, planned, expected_version=0)
        return created

    @guarded
    def update(self, ctx: Any, current: dict[str, Any], planned: dict[str, Any]) -> Any:
        """Save a new version, unless someone else wrote since the last refresh."""
        return self._save(ctx, planned, expected_version=int(current["version"])) or current

    @guarded
    def read(self, ctx: Any, current: dict[str, Any]) -> dict[str, Any] | None:
        """Refresh from the registry; ``None`` (re-create) when the block is gone."""
        from blocks.errors import BlockNotFound

        try:
            block = self.provider.runtime.registry.load(f"{self.slug}/{current['name']}")
        except BlockNotFound:
            return None
        importing = current.get("version") is None
        state: dict[str, Any] = writeonly.finish(
            self.fields, self.state_of(block, current), self.provider.runtime.fingerprint,
            previous=None if importing else current)
        for spec in self.fields:
            name = spec["name"]
            if spec["sensitive"] and not importing and not same_secret(
                    current.get(name), state[name], as_bytes=spec.get("bytes", False)):
                state[name] = MASK
            elif spec.get("bytes") and current.get(name) is not None:
                state[name] = current[name]  # the same key, in the form the configuration uses
        return state

    @guarded
    def delete(self, ctx: Any, current: dict[str, Any]) -> None:
        """Delete the block and its versions (refused while other blocks reference it)."""
        from blocks.errors import BlockNotFound

        with contextlib.suppress(BlockNotFound):
            self.provider.runtime.registry.delete(f"{self.slug}/{current['name']}")

    def import_(self, ctx: Any, id: str) -> dict[str, Any] | None:
        """Import by name or ``slug/name``."""
        name = id.split("/", 1)[1] if id.startswith(f"{self.slug}/") else id
        state: dict[str, Any] = {a.name: None for a in self.get_schema().attributes}
        state["name"] = name
        found: dict[str, Any] | None = self.read(ctx, state)
        if found is None and not ctx.diagnostics.has_errors():
            ctx.diagnostics.add_error("Cannot import", f"no block {self.slug}/{name}")
        return found

    # -- helpers --------------------------------------------------------------------------

    @property
    def field_names(self) -> set[str]:
        """Names of the model-field attributes."""
        return {s["name"] for s in self.fields}

    def to_model_input(self, data: dict[str, Any]) -> dict[str, Any]:
        """Attribute values -> model constructor arguments (base64 secrets decoded)."""
        out = dict(data)
        for spec in self.fields:
            if spec.get("bytes") and isinstance(out.get(spec["name"]), str):
                out[spec["name"]] = _as_bytes(out[spec["name"]])
        return out

    def _save(self, ctx: Any, planned: dict[str, Any], expected_version: int) -> Any:
        from blocks import catalog
        from blocks.errors import ValidationError

        registry = self.provider.runtime.registry
        data: dict[str, Any] = {}
        written = writeonly.managed(self.fields, planned)
        for spec in self.fields:
            # Write-only values are only in the configuration (or in a secret block).
            value = writeonly.written_value(ctx.config, spec["name"], registry) if (
                spec["name"] in written) else planned.get(spec["name"])
            if value is None or not is_known(value):
                continue
            data[spec["name"]] = registry.load(value) if spec["kind"] == "ref" else value
        try:
            block = catalog.get(self.slug)(**self.to_model_input(data))
            registry.save(block, planned["name"], overwrite=expected_version != 0,
                                 expected_version=expected_version)
        except ValidationError as exc:
            report_blocks_error(ctx.diagnostics, exc, self.field_names)
            return None
        return writeonly.finish(self.fields, self.state_of(block, planned, keep_known=True),
                                self.provider.runtime.fingerprint)

    def state_of(self, block: Any, base: dict[str, Any], keep_known: bool = False) -> Any:
        """State from a saved or loaded block; ``keep_known`` keeps the planned values."""
        from blocks import codec

        stored = codec.to_display(block, show_secrets=True)
        state = {**base, "id": f"{self.slug}/{base['name']}", "version": block.block_version}
        for spec in self.fields:
            if keep_known and base.get(spec["name"]) is not None and is_known(
                    base[spec["name"]]):
                continue
            value = stored.get(spec["name"], stored.get(spec.get("field", spec["name"])))
            if spec["kind"] == "ref":
                value = value.get("$ref") if isinstance(value, dict) else None
            state[spec["name"]] = value
        return state


def _as_bytes(value: str) -> bytes:
    """A bytes field's value from configuration: PEM text as is, anything else as base64."""
    if value.lstrip().startswith("-----BEGIN"):
        return value.encode()
    return base64.b64decode(value, validate=True)


def same_secret(in_state: Any, stored: Any, as_bytes: bool = False) -> bool:
    """Constant-time comparison of a secret in state with the stored one."""
    if in_state is None or stored is None:
        return in_state is stored
    if as_bytes and isinstance(in_state, str) and isinstance(stored, str):
        try:
            return hmac.compare_digest(_as_bytes(in_state).strip(), _as_bytes(stored).strip())
        except ValueError:
            return False
    a = in_state if isinstance(in_state, str) else json.dumps(in_state, sort_keys=True)
    b = stored if isinstance(stored, str) else json.dumps(stored, sort_keys=True)
    return hmac.compare_digest(a.encode(), b.encode())


def check_name(diags: Diagnostics, name: Any, attribute: str = "name") -> None:
    """Report a block/pool name that breaks the naming rule (unknown names are skipped)."""
    if name is None or not is_known(name):
        return
    from blocks.core import validate_name
    from blocks.errors import InvalidName

    try:
        validate_name(name)
    except InvalidName as exc:
        diags.add_error(f"Invalid {attribute}", str(exc), path=[attribute])


def check_ref(diags: Diagnostics, spec: dict[str, Any], value: str) -> None:
    """Report a nested-block reference that is not the ``id`` of an allowed type."""
    slug = value.split("/", 1)[0] if "/" in value else ""
    if slug not in spec["ref_slugs"]:
        kinds = ", ".join(f"blocks_{s.replace('-', '_')}" for s in spec["ref_slugs"])
        diags.add_error(
            f"Invalid {spec['name']}",
            f"{spec['name']} takes the id of a {kinds} resource ('slug/name'), got {value!r}",
            path=[spec["name"]],
        )


def resource_class(slug: str, spec: dict[str, Any]) -> type[TypedBlockResource]:
    """Generate the resource class of one block type from its cached spec."""
    name = "".join(part.title() for part in slug.split("-")) + "Resource"
    return type(name, (TypedBlockResource,), {
        "slug": slug,
        "title": spec["title"],
        "description": spec["description"],
        "fields": tuple(spec["fields"]),
    })
