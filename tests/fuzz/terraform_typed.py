"""Fuzz target: configurations of the typed resources, work pools and queues, with values of the
types Terraform sends (numbers as int64, float64 or decimal text, as cty encodes them; strings;
bools), through ``validate``, the plan-time decode and ``check_config``. Anything but a
diagnostic escaping is a finding.

Shared by the hypothesis test (``test_decoders.py``) and atheris (``atheris_main.py``
``terraform-typed``): both feed bytes, which :class:`Draw` turns into values deterministically.
"""

from __future__ import annotations

import struct
from typing import Any

from tf import types
from tf.schema import Attribute

STRINGS = ["p", "process", "docker", "kubernetes", "secret/x", "", "0", "-1", "1e400",
           "https://example.com", "a" * 300, "{}", "postgresql+psycopg"]


class Draw:
    """Values drawn from a byte string, read round and round (each pass shifted by one), so
    every resource gets varied values however short the input."""

    def __init__(self, data: bytes) -> None:
        self.data = data or b"\0"
        self.at = 0

    def take(self, n: int) -> bytes:
        size = len(self.data)
        out = bytes(self.data[(i + i // size) % size] for i in range(self.at, self.at + n))
        self.at += n
        return out

    def byte(self) -> int:
        return self.take(1)[0]

    def number(self) -> Any:
        kind = self.byte() % 7
        if kind == 0:
            return struct.unpack("<q", self.take(8))[0]
        if kind == 1:
            return struct.unpack("<d", self.take(8))[0]  # inf, nan and subnormals included
        if kind == 2:  # cty's text for a number that is neither int64 nor exactly float64
            digits = "".join(str(b % 10) for b in self.take(self.byte() % 40))
            text = ("-" if self.byte() & 1 else "") + "1" + digits * (1 + self.byte() % 20)
            point = self.byte() % (len(text) + 1)
            return text if point in (0, len(text)) else text[:point] + "." + text[point:]
        if kind == 3:
            return 10 ** (self.byte() * 2) * (-1 if self.byte() & 1 else 1)
        if kind == 4:
            return None
        if kind == 5:
            return self.take(max(1, self.byte() % 12)).decode("latin-1")  # garbage text
        return self.byte() - 64

    def string(self) -> Any:
        kind = self.byte() % 4
        if kind == 0:
            return None
        if kind == 1:
            return self.take(self.byte() % 24).decode("utf-8", errors="replace")
        return STRINGS[self.byte() % len(STRINGS)]

    def value(self, attribute: Attribute) -> Any:
        kind = attribute.type
        if isinstance(kind, types.Number):
            return self.number()
        if isinstance(kind, types.Bool):
            return None if self.byte() % 3 == 0 else bool(self.byte() & 1)
        if isinstance(kind, types.String):
            return self.string()
        return None


def resource_names(provider: Any) -> list[str]:
    """Every typed resource (not ``blocks_block``/``blocks_secret``), the pool and the queue."""
    return sorted(c.get_name() for c in provider.get_resources()
                  if c.get_name() not in ("block", "secret"))


def terraform_typed_config(data: bytes, provider: Any) -> None:
    """One fuzzed configuration per resource type: only diagnostics may come out."""
    from tf import provider as tf_provider
    from tf.utils import Diagnostics

    draw = Draw(data)
    classes = {c.get_name(): c for c in provider.get_resources()}
    for name in resource_names(provider):
        resource = provider.new_resource(classes[name])
        schema = resource.get_schema()
        config: dict[str, Any] = {a.name: None if a.computed and not a.optional
                                  else draw.value(a) for a in schema.attributes}
        config.update({b.type_name: None for b in schema.block_types})
        config["name"] = "fuzz" if draw.byte() % 4 else config.get("name")
        raw = dict(config)
        diags = Diagnostics()
        resource.validate(diags, f"blocks_{name}", config)
        # the plan path decodes the same values through the schema's types
        tf_provider._decode_state(Diagnostics(), {a.name: a for a in schema.attributes},
                                  {b.type_name: b for b in schema.block_types}, raw)
        if not diags.has_errors() and hasattr(resource, "check_config"):
            resource.check_config(diags, config)
