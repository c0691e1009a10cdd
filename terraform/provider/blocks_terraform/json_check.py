"""Checks of JSON attribute text that keep garbage out without importing Blocks.

Validation runs in a process Terraform may start only to validate; it must stay light, so this
mirrors (and a test compares it with) what :func:`blocks.codec.parse_json` refuses: invalid
JSON, ``NaN``/``Infinity`` and numbers out of range, integers too long to print, and nesting
deeper than :data:`MAX_DEPTH`.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64
"""Deepest nesting of objects and lists (``blocks.codec.MAX_DEPTH``)."""


class _NonFinite(ValueError):
    pass


def _refuse(_name: str) -> Any:
    raise _NonFinite


def json_problem(text: str) -> str | None:
    """Why ``text`` is not an acceptable JSON document, or ``None``. Never quotes the text."""
    try:
        value = json.loads(text, parse_constant=_refuse)
    except json.JSONDecodeError as exc:
        return f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
    except _NonFinite:
        return "NaN and Infinity are not allowed in JSON"
    except RecursionError:
        return f"nested more than {MAX_DEPTH} levels deep"
    except ValueError:
        return "an integer has too many digits"
    stack: list[tuple[int, Any]] = [(0, value)]
    while stack:
        depth, item = stack.pop()
        # depth counts the objects and lists around item: the 65th one nested is refused
        if depth >= MAX_DEPTH and isinstance(item, dict | list):
            return f"nested more than {MAX_DEPTH} levels deep"
        if isinstance(item, float) and not math.isfinite(item):
            return "a number is out of range (infinite)"
        if isinstance(item, dict):
            stack.extend((depth + 1, v) for v in item.values())
        elif isinstance(item, list):
            stack.extend((depth + 1, v) for v in item)
    return None
