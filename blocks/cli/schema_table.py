"""``blocks types SLUG`` for people: one row per field (name, type, required, secret, default,
description), read from the type's published JSON Schema. ``--json`` prints the schema itself.
"""

from __future__ import annotations

import json
from typing import Any

from blocks.cli.output import print_table

HEADERS = ("FIELD", "TYPE", "REQUIRED", "SECRET", "DEFAULT", "DESCRIPTION")


def field_rows(schema: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    """One row per top-level field of a ``block_schema()``."""
    json_schema = schema["json_schema"]
    defs = json_schema.get("$defs", {})
    required = set(json_schema.get("required", []))
    secrets = schema["secret_fields"]
    references = schema.get("block_references", {})
    rows = []
    for name, prop in json_schema.get("properties", {}).items():
        if name in references:
            kind = "block " + " | ".join(references[name])
        else:
            kind = type_name(prop, defs)
        secret = ("yes" if name in secrets or f"{name}.*" in secrets
                  else "inside" if any(s.startswith(name + ".") for s in secrets) else "")
        default = "" if name in required or "default" not in prop else _short(prop["default"])
        rows.append((name, kind, "yes" if name in required else "", secret, default,
                     prop.get("description", "")))
    return rows


def type_name(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    """A short readable type: ``string``, ``list of string``, ``map of integer``, ..."""
    if "$ref" in prop:
        target = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
        if "enum" in target:
            return "one of " + ", ".join(str(v) for v in target["enum"])
        return "object" if target.get("type") == "object" or "properties" in target else (
            type_name(target, defs) if target else "any")
    if "enum" in prop:
        return "one of " + ", ".join(str(v) for v in prop["enum"])
    if "const" in prop:
        return f"always {prop['const']}"
    for key in ("anyOf", "oneOf"):
        if key in prop:
            names = [type_name(p, defs) for p in prop[key] if p.get("type") != "null"]
            return " | ".join(dict.fromkeys(names)) or "null"
    kind = prop.get("type")
    if isinstance(kind, list):
        return " | ".join(k for k in kind if k != "null")
    if kind == "array":
        return _of("list", type_name(prop.get("items", {}), defs))
    if kind == "object":
        extra = prop.get("additionalProperties")
        return _of("map", type_name(extra, defs)) if isinstance(extra, dict) else "object"
    if kind == "string" and prop.get("format") in ("password", "uri", "date-time", "path"):
        return "string" if prop["format"] == "password" else f"string ({prop['format']})"
    return str(kind) if kind else "any"


def _of(container: str, item: str) -> str:
    return container if item == "any" else f"{container} of {item}"


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 30 else text[:27] + "..."


def print_type(schema: dict[str, Any]) -> None:
    """The type's header lines and its field table, on stdout."""
    print(f"{schema['slug']}  ({schema['title']}, schema version {schema['version']})")
    if schema.get("description"):
        print(schema["description"])
    print()
    print_table(HEADERS, field_rows(schema))
    if any("." in s for s in schema["secret_fields"]):
        print()
        print("secret paths: " + ", ".join(schema["secret_fields"]))
    print()
    print(f"JSON Schema: blocks types {schema['slug']} --json")
