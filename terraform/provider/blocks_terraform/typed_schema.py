"""Map a block type's JSON Schema (from its pydantic model) to Terraform attribute specs.

A *field spec* is a plain dict, so that the specs can be cached as JSON and the provider can
answer ``GetProviderSchema`` without importing pydantic or the block types:

``{"name", "kind", "element", "required", "sensitive", "default", "description", "enum",
"ref_slugs", "integer"}`` where ``kind`` is one of

* ``string``, ``number``, ``bool``: a scalar attribute;
* ``list``: a list of ``element`` scalars;
* ``object``: a nested model with fixed fields (``aws_client_parameters``), a nested
  attribute whose ``attributes`` are field specs of its own; any field left out means that
  field's default, so a partly set object converges;
* ``json``: anything else (free-form dicts, mixed unions), as a JSON string;
* ``ref``: a nested block field; the attribute takes the referenced resource's ``id``
  (``slug/name``).

Fields that have a non-null default are optional and computed: omitting them means the
default, which the plan shows. Fields whose default is null (references included) are
optional only: omitting one unsets it.
"""

from __future__ import annotations

import json
from typing import Any

_SCALARS = {"string": "string", "integer": "number", "number": "number", "boolean": "bool"}


def field_specs(
    block_schema: dict[str, Any], aliases: dict[str, str] | None = None,
    defaults: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Field specs for one block type, in the model's field order.

    Args:
        block_schema: the output of ``Block.block_schema()``.
        aliases: JSON Schema property name (a field's alias) -> Python field name, for types
            whose fields have aliases (secret paths and references use field names).
        defaults: JSON defaults of fields whose default comes from a factory (JSON Schema
            leaves them out), by field name.

    Returns:
        One spec per top-level field.
    """
    json_schema = block_schema["json_schema"]
    defs = json_schema.get("$defs", {})
    required = set(json_schema.get("required", []))
    secret_paths = block_schema.get("secret_fields", [])
    refs = block_schema.get("block_references", {})
    specs = []
    for name, prop in json_schema.get("properties", {}).items():
        field = (aliases or {}).get(name, name)
        spec = _spec(name, prop, defs, secret_paths, [name, field])
        spec["field"] = field
        if field in refs:
            # A reference holds an id; no default (omitted = the model's own default).
            spec.update(kind="ref", element=None, ref_slugs=refs[field], enum=None,
                        attributes=None, default=None, has_default=True)
        elif not spec["has_default"] and field in (defaults or {}):
            spec.update(default=(defaults or {})[field], has_default=True)
        spec["required"] = name in required
        # A nested block field holds an id; the nested block's secrets stay in that resource.
        spec["sensitive"] = field not in refs and _secret(secret_paths, [name, field])
        spec["description"] = _describe(spec, prop)
        specs.append(spec)
    return specs


def _secret(secret_paths: list[str], keys: list[str]) -> bool:
    return any(p == key or p.startswith(key + ".") for p in secret_paths for key in keys)


def _object_specs(
    option: dict[str, Any], defs: dict[str, Any], secret_paths: list[str], prefix: str
) -> list[dict[str, Any]]:
    """Specs of a nested model's fields (secret paths relative to the parent field)."""
    required = set(option.get("required", []))
    out = []
    for name, prop in option["properties"].items():
        spec = _spec(name, prop, defs, secret_paths, [f"{prefix}.{name}"])
        spec.update(field=name, required=name in required,
                    sensitive=_secret(secret_paths, [f"{prefix}.{name}"]))
        spec["description"] = _describe(spec, prop)
        out.append(spec)
    return out


def _spec(
    name: str, prop: dict[str, Any], defs: dict[str, Any], secret_paths: list[str],
    keys: list[str],
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name,
        "kind": "json",
        "element": None,
        "default": prop.get("default"),
        "has_default": "default" in prop,
        "bytes": False,
        "enum": None,
        "ref_slugs": None,
        "integer": False,
        "attributes": None,
    }
    options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
    if len(options) != 1:
        return spec
    option = _deref(options[0], defs)
    kind = _SCALARS.get(option.get("type", ""))
    if kind is not None:
        spec["kind"] = kind
        spec["integer"] = option.get("type") == "integer"
        if "enum" in option:
            spec["enum"] = list(option["enum"])
        elif "const" in option:
            spec["enum"] = [option["const"]]
    elif option.get("type") == "array":
        element = _SCALARS.get(_deref(option.get("items", {}), defs).get("type", ""))
        if element is not None:
            spec.update(kind="list", element=element)
    elif option.get("type") == "object" and option.get("properties") and (
            option.get("additionalProperties") is False or "$ref" in options[0]):
        # A nested model: fixed fields, so a nested attribute rather than a JSON string.
        spec.update(kind="object", attributes=_object_specs(option, defs, secret_paths, keys[-1]))
    return spec


def _deref(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return dict(defs.get(ref.removeprefix("#/$defs/"), {}))
    return schema


def _describe(spec: dict[str, Any], prop: dict[str, Any]) -> str:
    text = (prop.get("description") or prop.get("title") or spec["name"]).strip()
    if not text.endswith("."):
        text += "."
    notes = []
    if spec["kind"] == "ref":
        kinds = ", ".join(f"`blocks_{s.replace('-', '_')}`" for s in spec["ref_slugs"])
        notes.append(f"The `id` of a {kinds} resource (`slug/name`).")
    if spec["kind"] == "json":
        notes.append("A JSON document (use `jsonencode(...)`).")
    if spec["kind"] == "object":
        notes.append("An object; attributes left out take their defaults.")
    if spec["enum"]:
        notes.append("One of: " + ", ".join(f"`{v}`" for v in spec["enum"]) + ".")
    if spec["required"]:
        notes.append("Required.")
    elif spec["kind"] == "object" and spec["default"] is not None:
        notes.append("Default: every attribute at its default.")
    elif spec["default"] is not None:
        notes.append(f"Default: `{_show(spec['default'])}`.")
    else:
        notes.append("Optional.")
    if spec["sensitive"]:
        notes.append("Sensitive: held in state when set in configuration; "
                     f"`{spec['name']}_wo` keeps it out of state on Terraform >= 1.11 "
                     "(see guides/secrets-and-state.md).")
    return " ".join([text, *notes])


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def settings_specs(fields: dict[str, Any]) -> list[dict[str, Any]]:
    """Provider attribute specs from ``Settings.model_fields`` (all optional strings/numbers).

    Args:
        fields: ``Settings.model_fields``.

    Returns:
        One spec per setting; secrets and the database URL (it may hold a password) are
        sensitive. Each description names every environment variable the setting is read
        from (``BLOCKS_*`` and the un-prefixed forms some accept) and its default.
    """
    out = []
    for name, info in fields.items():
        annotation = str(info.annotation)
        kind = "number" if "float" in annotation or "int" in annotation else "string"
        sensitive = "Secret" in annotation or name == "database_url"
        text = (info.description or name).rstrip(".") + "."
        if "Default:" not in text:
            default = info.get_default(call_default_factory=True)
            text += f" Default: `{_show(default)}`." if default is not None else " Default: none."
        variables = ", ".join(f"`{v}`" for v in environment_variables(name, info))
        out.append({
            "name": name,
            "kind": kind,
            "sensitive": sensitive,
            "environment": environment_variables(name, info),
            "description": f"{text} Read from {variables} when not set here, as the `blocks` "
                           "CLI does.",
        })
    return out


def environment_variables(name: str, info: Any) -> list[str]:
    """The environment variables a ``Settings`` field is read from, in precedence order."""
    alias = info.validation_alias
    choices = getattr(alias, "choices", None)
    if choices:
        return [str(c) for c in choices]
    if isinstance(alias, str):
        return [alias]
    return [f"BLOCKS_{name.upper()}"]
