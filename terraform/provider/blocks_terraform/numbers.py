"""Number attributes as Python numbers, or a diagnostic naming the attribute.

Terraform sends a number that is neither an int64 nor exactly a float64 as its decimal text
(cty's msgpack encoding): ``1.5`` arrives as ``"1.5"``, ``1e400`` as a 401-digit string.
``tf.types.Number`` passes that string on, so ``priority < 1`` raised ``TypeError`` inside the
plugin. :class:`Number` turns the text into an ``int`` (integral, within int64) or a ``float``
and refuses what a float cannot hold; :func:`bounded` puts it into every schema (called by
``framework.Resource.make_schema``) and :func:`check_config` applies it to the raw
configuration ``validate`` receives.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from tf import types
from tf.schema import Attribute, NestedBlock
from tf.types import Unknown
from tf.utils import Diagnostics

from blocks_terraform.nested import Object

INT64_MAX = 2**63 - 1
RANGE = "integers up to 9223372036854775807 in size, other numbers up to about 1.8e308"


class Number(types.Number):
    """A number attribute (``path``: its name, ``generate.length`` inside a block)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def decode(self, value: Any) -> Any:
        if value is None or value is Unknown or isinstance(value, bool):
            return value
        if isinstance(value, int):
            if abs(value) > INT64_MAX:
                raise ValueError(self._too_big())
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(self._too_big())
            return value
        if not isinstance(value, str) or len(value) > 2000:
            raise ValueError(self._too_big() if isinstance(value, str) else
                             f"{self.path} must be a number")
        try:
            exact = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{self.path} must be a number") from None
        if not exact.is_finite():
            raise ValueError(self._too_big())
        if exact == exact.to_integral_value() and abs(exact) <= INT64_MAX:
            return int(exact)
        as_float = float(exact)
        if not math.isfinite(as_float):
            raise ValueError(self._too_big())
        return as_float

    def _too_big(self) -> str:
        return f"{self.path} is beyond the range of numbers Blocks accepts ({RANGE})"


def bounded(attributes: list[Attribute], blocks: list[NestedBlock], prefix: str = "") -> None:
    """Give every number attribute (nested ones included) the :class:`Number` type, in place."""
    for attribute in attributes:
        path = prefix + attribute.name
        if type(attribute.type) is types.Number:
            attribute.type = Number(path)
        elif isinstance(attribute.type, Object):
            bounded(attribute.type.attributes, [], path + ".")
    for block in blocks:
        bounded(block.block.attributes, block.block.block_types, prefix + block.type_name + ".")


def check_config(diags: Diagnostics, attributes: list[Attribute], blocks: list[NestedBlock],
                 config: Any, where: list[Any] | None = None) -> None:
    """Decode the number attributes of a raw configuration in place; a number out of range
    becomes an error naming the attribute, and Unknown, so later checks skip it."""
    if not isinstance(config, dict):
        return
    where = where or []
    for attribute in attributes:
        value = config.get(attribute.name)
        if value is None or value is Unknown:
            continue
        path = [*where, attribute.name]
        if isinstance(attribute.type, Number):
            try:
                config[attribute.name] = attribute.type.decode(value)
            except ValueError as exc:
                diags.add_error(f"Invalid number in {attribute.type.path}", str(exc), path=path)
                config[attribute.name] = Unknown
        elif isinstance(attribute.type, Object):
            items = value.values() if attribute.type.nesting == "map" and isinstance(
                value, dict) else [value]
            for item in items:
                check_config(diags, attribute.type.attributes, [], item, path)
    for block in blocks:
        value = config.get(block.type_name)
        for item in value if isinstance(value, list | tuple) else [value]:
            check_config(diags, block.block.attributes, block.block.block_types, item,
                         [*where, block.type_name])
