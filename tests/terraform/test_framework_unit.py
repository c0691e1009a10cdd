"""The framework pieces added for issue 8, without Terraform: nested attributes and refined
unknown values."""

from __future__ import annotations

import msgpack
from tf import utils as tf_utils
from tf.schema import Attribute
from tf.types import Bool, String, Unknown

from blocks_terraform import framework, serving
from blocks_terraform.framework import Json
from blocks_terraform.nested import NestedAttribute, Object


def test_refined_unknowns_decode_as_unknown() -> None:
    # What Terraform >= 1.6 sends for "a string known to start with lake-": extension 12.
    refined = msgpack.packb({"name": msgpack.ExtType(12, msgpack.packb({2: "lake-"}))})
    original = tf_utils._msgpack_ext_hook
    try:
        tf_utils._msgpack_ext_hook = serving._msgpack_ext_hook
        decoded = tf_utils.read_dynamic_value(tf_utils.pb.DynamicValue(msgpack=refined))
    finally:
        tf_utils._msgpack_ext_hook = original
    assert decoded == {"name": Unknown}
    assert not framework.is_known(decoded)
    other = serving._msgpack_ext_hook(5, b"x")
    assert isinstance(other, msgpack.ExtType) and other.code == 5


def test_objects_encode_each_attribute_through_its_type() -> None:
    obj = Object([Attribute("endpoint_url", String()), Attribute("verify", Bool()),
                  Attribute("config", Json())])
    value = {"endpoint_url": "http://127.0.0.1:9000", "verify": True, "config": {"b": 1}}
    encoded = obj.encode(value)
    assert encoded["config"] == '{"b":1}'
    assert obj.decode(encoded) == value
    assert obj.semantically_equal(value, obj.decode({**encoded, "config": '{ "b" : 1 }'}))
    assert obj.encode(None) is None and obj.decode(Unknown) is Unknown
    assert obj.encode({"endpoint_url": Unknown})["endpoint_url"] is Unknown


def test_nested_attribute_schema_is_a_nested_type() -> None:
    rows = NestedAttribute("blocks", [Attribute("id", String(), computed=True)],
                           nesting="map", computed=True, description="By name.")
    proto = rows.to_pb()
    assert proto.nested_type.nesting == proto.nested_type.MAP and not proto.type
    assert [a.name for a in proto.nested_type.attributes] == ["id"]
    assert rows.type.decode({"a": {"id": "x"}}) == {"a": {"id": "x"}}
