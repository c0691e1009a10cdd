"""Typed ephemeral resources (``ephemeral "blocks_database_credentials"``, ...), generated.

One class per block type with its fields as read-only attributes, built from the same cached
field specs as the typed resources (so a plug-in type gets one too). Secret fields are
sensitive; nested-block fields hold the referenced block's ``id``.
"""

from __future__ import annotations

from typing import Any

from tf.schema import Attribute

from blocks_terraform.ephemeral_resources.base import EphemeralResource
from blocks_terraform.nested import NestedAttribute
from blocks_terraform.resources.typed_fields import tf_type

_RESOURCE_NOTES = (" Required.", " Default: ", " Optional.", " Sensitive:")


def _description(spec: dict[str, Any]) -> str:
    """The field's description without the notes that speak of configuring it."""
    text: str = spec["description"]
    cut = min((i for i in (text.find(n) for n in _RESOURCE_NOTES) if i >= 0), default=len(text))
    text = text[:cut].replace("A JSON document (use `jsonencode(...)`).",
                              "A JSON document (`jsondecode(...)` it).")
    if len(text) <= 10:  # a field whose own description was only its name ("Reading.")
        text = f"The block's `{spec['name']}` field. {text}".rstrip()
    return text + (" Sensitive." if spec["sensitive"] else "")


def read_only(spec: dict[str, Any]) -> Attribute:
    """The computed attribute of a field spec."""
    flags = {"description": _description(spec), "computed": True, "sensitive": spec["sensitive"]}
    if spec["kind"] == "object":
        return NestedAttribute(spec["name"], [read_only(s) for s in spec["attributes"]], **flags)
    return Attribute(spec["name"], tf_type(spec), **flags)


class TypedEphemeralResource(EphemeralResource):
    """Base of the generated typed ephemeral resources; subclasses set ``slug`` and ``fields``."""

    fields: tuple[dict[str, Any], ...] = ()

    @classmethod
    def attributes(cls) -> list[Attribute]:
        return [read_only(spec) for spec in cls.fields]

    def values(self, block: Any) -> dict[str, Any]:
        from blocks import codec

        stored = codec.to_display(block, show_secrets=True)
        out = {}
        for spec in self.fields:
            value = stored.get(spec["name"], stored.get(spec.get("field", spec["name"])))
            if spec["kind"] == "ref":
                value = value.get("$ref") if isinstance(value, dict) else None
            out[spec["name"]] = value
        return out


def ephemeral_class(slug: str, spec: dict[str, Any]) -> type[TypedEphemeralResource]:
    """Generate the ephemeral resource class of one block type from its cached spec."""
    name = "".join(part.title() for part in slug.split("-")) + "EphemeralResource"
    return type(name, (TypedEphemeralResource,), {
        "slug": slug,
        "description": f"Read a `{slug}` block ({spec['title']}).",
        "fields": tuple(spec["fields"]),
    })
