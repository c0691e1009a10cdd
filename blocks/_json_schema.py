"""The JSON Schema of block types: what standard validators (and Prefect's server) accept.

Pydantic writes a union chosen by a callable ``Discriminator`` (``S3Bucket.credentials``: AWS or
MinIO credentials, or a stored reference) as ``oneOf`` with no ``discriminator`` keyword. Its
branches overlap (an AWS credentials document is valid under the "aws" and the "ref" branch), so
``oneOf`` - exactly one branch - rejects every valid document. The branches are alternatives, so
``anyOf`` says what the type accepts; nested ``anyOf`` branches are flattened and repeated ones
dropped.
"""

from __future__ import annotations

import json
from typing import Any

from blocks import _introspect


def json_schema_extra(schema: dict[str, Any], cls: type[Any]) -> None:
    """``json_schema_extra`` hook of ``Block``: the docstring, then unions as ``anyOf``."""
    _introspect.schema_description(schema, cls)
    for value in schema.get("properties", {}).values():
        overlapping_unions_as_any_of(value)


def overlapping_unions_as_any_of(node: Any) -> None:
    """Rewrite, in place, each ``oneOf`` without a ``discriminator`` under ``node`` as ``anyOf``."""
    if isinstance(node, list):
        for item in node:
            overlapping_unions_as_any_of(item)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():
        overlapping_unions_as_any_of(value)
    if "oneOf" in node and "discriminator" not in node and "anyOf" not in node:
        node["anyOf"] = _flattened(node.pop("oneOf"))


def _flattened(branches: list[Any]) -> list[Any]:
    out: list[Any] = []
    seen: set[str] = set()
    for branch in branches:
        inner = branch["anyOf"] if isinstance(branch, dict) and set(branch) == {"anyOf"} else [
            branch]
        for item in inner:
            key = json.dumps(item, sort_keys=True)
            if key not in seen:
                seen.add(key)
                out.append(item)
    return out
