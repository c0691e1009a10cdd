"""``{{ placeholder }}`` syntax of base job templates: parsing and walking. No I/O.

Two kinds of placeholder may appear in any string of a template:

* ``{{ name }}`` -- a job variable, declared in ``variables.properties``;
* ``{{ blocks.<slug>.<name> }}`` -- a saved block (``blocks.secret.db-password``), optionally
  followed by a dot path into its fields (``{{ blocks.aws-credentials.prod.region_name }}``);
* ``{{ prefect.blocks.<slug>.<name> }}``, ``{{ prefect.variables.<name> }}`` -- Prefect's own
  placeholders, resolved by a Prefect worker: Blocks passes them through untouched.

A string that is exactly one placeholder is replaced by the value itself (any JSON type); a
placeholder inside a longer string is replaced by the value's text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

PLACEHOLDER_RE = re.compile(r"\{\{\s*(.*?)\s*\}\}")
VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
BLOCK_RE = re.compile(
    r"^blocks\.(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)"
    r"\.(?P<name>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
    r"(?P<path>(?:\.[A-Za-z0-9_-]+)*)$"
)
BLOCK_PREFIX = "blocks."
PREFECT_RE = re.compile(r"^prefect\.(blocks|variables)\.[A-Za-z0-9_.-]+$")

Kind = Literal["variable", "block", "prefect", "invalid"]


@dataclass(frozen=True)
class Placeholder:
    """One ``{{ ... }}`` occurrence.

    Attributes:
        text: the placeholder as written, braces included.
        expr: the text between the braces, stripped.
        kind: ``variable``, ``block``, ``prefect`` (Prefect's own, left for its worker), or
            ``invalid`` (none of these).
    """

    text: str
    expr: str
    kind: Kind

    @property
    def block_ref(self) -> str:
        """``slug/name`` of a block placeholder."""
        match = BLOCK_RE.match(self.expr)
        assert match is not None, "block_ref of a non-block placeholder"
        return f"{match['slug']}/{match['name']}"

    @property
    def field_path(self) -> tuple[str, ...]:
        """Field path after the block name (empty for the whole block)."""
        match = BLOCK_RE.match(self.expr)
        assert match is not None, "field_path of a non-block placeholder"
        return tuple(p for p in match["path"].split(".") if p)


def parse(text: str) -> list[Placeholder]:
    """Every placeholder in ``text``, in order."""
    return [_classify(m.group(0), m.group(1)) for m in PLACEHOLDER_RE.finditer(text)]


def whole(text: str) -> Placeholder | None:
    """The placeholder if ``text`` is exactly one placeholder (surrounding spaces allowed)."""
    match = PLACEHOLDER_RE.fullmatch(text.strip())
    return _classify(match.group(0), match.group(1)) if match else None


def _classify(text: str, expr: str) -> Placeholder:
    if expr.startswith(BLOCK_PREFIX):
        kind: Kind = "block" if BLOCK_RE.match(expr) else "invalid"
    elif PREFECT_RE.match(expr):
        kind = "prefect"
    else:
        kind = "variable" if VARIABLE_RE.match(expr) else "invalid"
    return Placeholder(text=text, expr=expr, kind=kind)


def join_path(parent: str, key: str | int) -> str:
    """Dot path of a child: ``a.b`` + ``c`` -> ``a.b.c``; list items as ``a.b[0]``."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Placeholder]]:
    """``(dot path, placeholder)`` for every placeholder in the strings of a JSON document."""
    if isinstance(value, str):
        for placeholder in parse(value):
            yield path, placeholder
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, join_path(path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, join_path(path, index))
