"""A typed resource's field specs (:mod:`blocks_terraform.typed_schema`) as Terraform
attributes, and attribute values as the block model's input."""

from __future__ import annotations

from typing import Any

from tf import types
from tf.schema import Attribute

from blocks_terraform.framework import Json, loads
from blocks_terraform.nested import NestedAttribute
from blocks_terraform.resources.common import decode_bytes

_TYPES = {"string": types.String, "number": types.Number, "bool": types.Bool}


def tf_type(spec: dict[str, Any]) -> Any:
    """The ``tf`` type of a (non-object) field spec."""
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
    flags = {"description": spec["description"], "required": spec["required"],
             "optional": not spec["required"], "computed": is_computed(spec),
             "sensitive": spec["sensitive"]}
    if spec["kind"] == "object":
        return NestedAttribute(spec["name"], [field_attribute(s) for s in spec["attributes"]],
                               **flags)
    return Attribute(spec["name"], tf_type(spec), **flags)


def fill(spec: dict[str, Any], value: Any) -> Any:
    """An object field's value with every attribute left out at its default."""
    if spec["kind"] != "object" or not isinstance(value, dict):
        return value
    out = {}
    for inner in spec["attributes"]:
        item = value.get(inner["name"])
        if item is None and is_computed(inner):
            item = inner["default"] if inner.get("has_default") else None
        out[inner["name"]] = fill(inner, item)
    return out


def model_value(spec: dict[str, Any], value: Any) -> Any:
    """An attribute value (raw configuration or decoded state) as model input."""
    if spec["kind"] == "json":
        return loads(value)
    if spec["kind"] == "object" and isinstance(value, dict):
        inner = {s["name"]: s for s in spec["attributes"]}
        return {k: model_value(inner[k], v) for k, v in value.items()
                if v is not None and k in inner}
    if spec.get("bytes") and isinstance(value, str):
        return _config_bytes(spec["name"], value)
    return value


def _config_bytes(name: str, value: str) -> bytes:
    """:func:`decode_bytes` of a configured value; text that is neither is the field's error."""
    try:
        return decode_bytes(value)
    except ValueError:  # binascii.Error: not base64 (the value is never quoted)
        from blocks.errors import ValidationError

        raise ValidationError("", [(name, "must be PEM text or the base64 of it")]) from None
