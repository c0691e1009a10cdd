"""``blocks_block``: a block of any registered type, given as a type slug and a JSON document.

Prefer the typed resources (``blocks_s3_bucket``...): their attributes are checked one by one.
This one is for plug-in types a provider build does not know yet and for bulk migrations. The
document is validated against the type in ``terraform validate`` and at plan time (nested
``{"$ref": "slug/name"}`` references must then name stored blocks). ``name`` changes in place
(a rename keeps the block's id and history); ``type`` forces replacement. The whole document,
secrets included, is in state (sensitive).
"""

from __future__ import annotations

from typing import Any

from tf import types
from tf.schema import Attribute
from tf.types import Unknown
from tf.utils import Diagnostics

from blocks_terraform.framework import Json, PlanContext, Resource, guarded, is_known, loads
from blocks_terraform.resources.common import (
    REFERENCED,
    check_exists,
    check_name,
    identity,
    or_state,
    plan_identity,
    rename,
    same_secret,
    unchanged,
)
from blocks_terraform.runtime import report_blocks_error


class BlockResource(Resource):
    """The generic ``blocks_block`` resource."""

    @classmethod
    def get_name(cls) -> str:
        return "block"

    @staticmethod
    def block_ref(state: dict[str, Any]) -> str | None:
        """The block a state or plan names (``None`` while type or name is unknown)."""
        slug, name = state.get("type"), state.get("name")
        return f"{slug}/{name}" if isinstance(slug, str) and isinstance(name, str) else None

    @classmethod
    def get_schema(cls) -> Any:
        return cls.make_schema(
            [
                Attribute("id", types.String(), computed=True,
                          description="`<type>/<name>`; what `terraform import` accepts and "
                                      "what nested-block fields take. Known after apply when "
                                      "the block is created or renamed."),
                Attribute("type", types.String(), required=True, requires_replace=True,
                          description="Block type slug, e.g. `s3-bucket` (see `blocks types`). "
                                      "Changing it replaces the block."),
                Attribute("name", types.String(), required=True,
                          description="Block name (1-63 lowercase letters, digits, dashes). "
                                      "Changing it renames the block in place: same id and "
                                      "history, and blocks that reference it follow."),
                Attribute("data", Json(), required=True, sensitive=True,
                          description="The block's fields as a JSON document "
                                      "(`jsonencode({...})`); nested blocks as "
                                      "`{\"$ref\" = \"slug/name\"}`. Compared by meaning: "
                                      "fields left out take the type's defaults, and a plan "
                                      "that changes the document warns which top-level fields "
                                      "it changes (names only). Held in state (sensitive)."),
                Attribute("version", types.Number(), computed=True,
                          description="Current version of the block in the registry."),
                Attribute("placeholder", types.String(), computed=True,
                          description="`{{ blocks.<type>.<name> }}`, for work-pool templates: "
                                      "using `blocks_block.<label>.placeholder` makes "
                                      "Terraform create the block before the pool. Known "
                                      "after apply when the block is created or renamed."),
            ],
            description="A block of any registered type from a JSON document, validated "
                        "against the type's schema in `terraform validate` and at plan time."
                        + REFERENCED,
        )

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        """The type's rules on the values known at validate time."""
        super().validate(diags, type_name, config)
        if not diags.has_errors():
            self.check_config(diags, config)

    def check_config(self, diags: Diagnostics, config: dict[str, Any],
                     registry: Any = None) -> None:
        """Check the type exists and the document validates (nested references skipped).

        Args:
            registry: when given (at plan time), known ``$ref`` references must name stored
                blocks.
        """
        check_name(diags, config.get("name"))
        slug, raw = config.get("type"), config.get("data")
        if slug is None or not is_known(slug):
            return
        from blocks import catalog
        from blocks.errors import UnknownBlockType, ValidationError

        try:
            cls = catalog.get(slug)
        except UnknownBlockType as exc:
            diags.add_error("Unknown block type", str(exc), path=["type"])
            return
        if raw is None or not is_known(raw):
            return
        data = loads(raw)
        if not isinstance(data, dict):
            diags.add_error("Invalid data", "data must be a JSON object of the block's fields",
                            path=["data"])
            return
        refs = {k for k, v in data.items() if isinstance(v, dict) and "$ref" in v}
        for key in sorted(refs):
            target = data[key]["$ref"]
            if set(data[key]) != {"$ref"} or not isinstance(target, str) or not target:
                diags.add_error(f"Invalid value for data.{key}",
                                f"data.{key}: a reference is {{\"$ref\": \"type-slug/name\"}} "
                                "with nothing else", path=["data"])
            elif registry is not None:
                check_exists(diags, registry, target, ["data"], f"data.{key}")
        try:
            cls(**{k: v for k, v in data.items() if k not in refs})
        except ValidationError as exc:
            wanted = [(p, m) for p, m in exc.errors if p.split(".")[0] not in refs and p]
            if wanted:
                report_blocks_error(diags, ValidationError(exc.ref, wanted), {"data"},
                                    prefix="data")

    def plan(self, ctx: PlanContext, prior: dict[str, Any] | None, planned: dict[str, Any]) -> Any:
        """Validate; unknown version when the document changes."""
        self.check_config(ctx.diagnostics, ctx.config, self.provider.runtime.registry)
        plan_identity(planned.get("type"), planned, prior)
        if prior is None or planned.get("data") != prior.get("data"):
            planned["version"] = Unknown
        if prior is not None and planned.get("data") != prior.get("data") and prior.get(
                "type") == planned.get("type"):
            self._changed_fields(ctx, prior, planned)
        return planned

    @guarded
    def create(self, ctx: Any, planned: dict[str, Any]) -> Any:
        """Save a new block."""
        planned.update(identity(planned["type"], planned["name"]))
        block = self._build(ctx, planned)
        if block is None:
            return None
        runtime = self.provider.runtime
        return self._store(block, planned, expected_version=runtime.retirements.create_base(
            runtime.registry, planned["id"]))

    @guarded
    def update(self, ctx: Any, current: dict[str, Any], planned: dict[str, Any]) -> Any:
        """Rename in place if ``name`` changed, then save a new version if the document
        changed (compare-and-set on the refreshed version)."""
        block = self._build(ctx, planned)
        if block is None:
            return current
        current = rename(self.provider.runtime.registry, planned["type"], current, planned)
        return or_state(ctx, current, lambda: self._store(
            block, planned, expected_version=int(current["version"])))

    @guarded
    def read(self, ctx: Any, current: dict[str, Any]) -> dict[str, Any] | None:
        """Refresh; a document changed outside Terraform shows with its secrets masked."""
        from blocks import codec
        from blocks.errors import BlockNotFound

        ref = f"{current['type']}/{current['name']}"
        try:
            block = self.provider.runtime.registry.load(ref)
        except BlockNotFound:
            return None
        stored = codec.to_display(block, show_secrets=True)
        data = current.get("data")
        if data is not None and same_secret(self._meaning(ref, data), stored):
            stored = loads(data)  # the configured form: defaults left out, $ref as written
        elif current.get("version") is not None and not same_secret(data, stored):
            stored = codec.mask_document(stored, type(block).secret_paths())
        return {**current, **identity(current["type"], current["name"]), "data": stored,
                "version": block.block_version}

    def _meaning(self, ref: str, data: Any) -> Any:
        """``data`` as the registry would store it: the type's defaults filled in, references
        as ``{"$ref": "slug/name"}``; ``None`` when it does not validate."""
        from blocks import codec
        from blocks.errors import BlocksError

        document = loads(data)
        if not isinstance(document, dict):
            return None
        try:
            block = self.provider.runtime.registry.parse(ref.split("/")[0], document, ref=ref)
        except BlocksError:
            return None
        return codec.to_display(block, show_secrets=True)

    def _changed_fields(self, ctx: PlanContext, prior: dict[str, Any],
                        planned: dict[str, Any]) -> None:
        """Warn which top-level fields of ``data`` a plan changes (names only: values are
        sensitive)."""
        if not is_known(planned.get("type")) or not is_known(planned.get("data")):
            return
        ref = f"{planned['type']}/{prior['name']}"
        new, old = self._meaning(ref, planned["data"]), self._meaning(ref, prior["data"])
        new = new if new is not None else loads(planned["data"])
        old = old if old is not None else loads(prior["data"])
        if not isinstance(new, dict) or not isinstance(old, dict):
            return
        names = sorted(k for k in set(new) | set(old) if not same_secret(new.get(k), old.get(k)))
        if names:
            ctx.diagnostics.add_warning(
                f"{ref}: data changes {', '.join(names)}",
                f"The plan changes these top-level fields of {ref}'s data: "
                f"{', '.join(names)} (values are sensitive and not shown).")

    @guarded
    def delete(self, ctx: Any, current: dict[str, Any]) -> None:
        """Delete the block and its versions; a referenced one retires (``retire.py``)."""
        runtime = self.provider.runtime
        runtime.retirements.delete(ctx.diagnostics, runtime.registry,
                                   f"{current['type']}/{current['name']}")

    def import_(self, ctx: Any, id: str) -> dict[str, Any] | None:
        """Import by ``slug/name``."""
        slug, sep, name = id.partition("/")
        if not sep:
            ctx.diagnostics.add_error("Invalid import id", "use '<type-slug>/<name>'")
            return None
        check_name(ctx.diagnostics, name)
        if ctx.diagnostics.has_errors():
            return None
        state = {"id": id, "type": slug, "name": name, "data": None, "version": None,
                 "placeholder": None}
        found = self.read(ctx, state)
        if ctx.diagnostics.has_errors():
            return None
        if found is None:
            ctx.diagnostics.add_error("Cannot import", f"no block {id}")
        return found

    def _build(self, ctx: Any, planned: dict[str, Any]) -> Any:
        from blocks.errors import ValidationError

        registry = self.provider.runtime.registry
        ref = f"{planned['type']}/{planned['name']}"
        try:
            # parse resolves {"$ref": "slug/name"} at any depth and names a bad one's field.
            return registry.parse(planned["type"], planned["data"], ref=ref)
        except ValidationError as exc:
            report_blocks_error(ctx.diagnostics, exc, {"data"}, prefix="data")
            return None
    def _store(self, block: Any, planned: dict[str, Any], expected_version: int) -> Any:
        registry = self.provider.runtime.registry
        ref = f"{planned['type']}/{planned['name']}"
        stored = unchanged(registry, ref, block) if expected_version else None
        if stored is not None:
            version = stored.block_version
        else:
            version = registry.save(block, planned["name"], overwrite=expected_version != 0,
                                    expected_version=expected_version).version
        return {**planned, **identity(planned["type"], planned["name"]), "version": version}
