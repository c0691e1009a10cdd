"""Nested attributes (protocol 6 ``nested_type``), which ``tf`` lacks.

``tf`` has only scalar, list, set and map types and set-nested blocks. A fixed group of fields
(``aws_client_parameters``) and the rows of a list data source (``blocks_blocks``) are objects:
as JSON strings, a partly set object never equals the stored one, and as blocks an omitted one
must plan as absent. A nested attribute can be optional *and* computed, so an omitted or partly
set object plans the filled-in value and converges after one apply:

    aws_client_parameters = { endpoint_url = "http://127.0.0.1:9000" }

:class:`Object` is the value type (it encodes and compares each inner attribute through that
attribute's own type); :class:`NestedAttribute` puts it in the schema. ``nesting`` is
``single`` (one object) or ``map`` (objects by key, for ``for_each``).
"""

from __future__ import annotations

import json
from typing import Any

from tf.gen import tfplugin_pb2 as pb
from tf.schema import Attribute
from tf.types import TfType, Unknown

_NESTING = {"single": pb.Schema.Object.NestingMode.SINGLE, "map": pb.Schema.Object.NestingMode.MAP}


class Object(TfType):
    """An object with fixed attributes (``single``), or a map of such objects (``map``)."""

    def __init__(self, attributes: list[Attribute], nesting: str = "single") -> None:
        self.attributes = attributes
        self.nesting = nesting

    def _each(self, value: Any, code: str) -> Any:
        if value is None or value is Unknown:
            return value
        if self.nesting == "map":
            return {k: self._one(v, code) for k, v in value.items()}
        return self._one(value, code)

    def _one(self, value: Any, code: str) -> Any:
        if value is None or value is Unknown:
            return value
        out = {}
        for attribute in self.attributes:
            inner = value.get(attribute.name)
            out[attribute.name] = (inner if inner is None or inner is Unknown
                                   else getattr(attribute.type, code)(inner))
        return out

    def encode(self, value: Any) -> Any:
        return self._each(value, "encode")

    def decode(self, value: Any) -> Any:
        return self._each(value, "decode")

    def semantically_equal(self, a_decoded: Any, b_decoded: Any) -> bool:
        if self.nesting == "map":
            if not isinstance(a_decoded, dict) or not isinstance(b_decoded, dict):
                return bool(a_decoded == b_decoded)
            return a_decoded.keys() == b_decoded.keys() and all(
                self._same(a_decoded[k], b_decoded[k]) for k in a_decoded)
        return self._same(a_decoded, b_decoded)

    def _same(self, a: Any, b: Any) -> bool:
        if not isinstance(a, dict) or not isinstance(b, dict):
            return bool(a == b)
        return all(attribute.type.semantically_equal(a.get(attribute.name), b.get(attribute.name))
                   for attribute in self.attributes)

    def tf_type(self) -> bytes:
        """The cty type, for documentation (the schema uses ``nested_type`` instead)."""
        inner = {a.name: json.loads(a.type.tf_type()) for a in self.attributes}
        obj: Any = ["object", inner]
        return json.dumps(["map", obj] if self.nesting == "map" else obj).encode()


class NestedAttribute(Attribute):
    """An attribute whose value is an :class:`Object` (a protocol 6 nested attribute)."""

    def __init__(self, name: str, attributes: list[Attribute], *, nesting: str = "single",
                 **kwargs: Any) -> None:
        super().__init__(name, Object(attributes, nesting), **kwargs)

    @property
    def inner(self) -> list[Attribute]:
        """The attributes of the object."""
        return list(self.type.attributes)

    def to_pb(self) -> pb.Schema.Attribute:
        return pb.Schema.Attribute(
            name=self.name,
            nested_type=pb.Schema.Object(
                attributes=[a.to_pb() for a in self.inner],
                nesting=_NESTING[self.type.nesting],
            ),
            description=self.description,
            description_kind=pb.StringKind.MARKDOWN,
            required=self.required or None,
            optional=self.optional or None,
            computed=self.computed or None,
            sensitive=self.sensitive,
            deprecated=self.deprecated,
        )
