"""Plugin-protocol (tfplugin6) fields newer than the code ``tf`` generated, and write-only support.

``tf`` 1.2's generated code predates tfplugin 6.9 (Terraform 1.11), which adds
*write-only attributes*: an attribute's value is sent in configuration only (plan, apply and
validate requests), and must be null in every plan, state and import the provider returns.
Terraform marks a write-only attribute by ``Schema.Attribute.write_only`` (field 11) and says
it can handle them by ``ClientCapabilities.write_only_attributes_allowed`` (field 2 of the
message in field 3 of ``ValidateResourceConfig.Request``). Older Terraform sends no
capabilities and ignores field 11, so it would treat a write-only attribute as a normal one
and keep its value in state: validation refuses such configuration instead, naming the
Terraform version that is needed (as terraform-plugin-framework does).

The missing fields are declared here in a descriptor pool of their own, with the field numbers
of ``tfplugin6.proto``. Protobuf keeps fields a message class does not know as unknown fields
and serialises them again, so the extra messages read and write the same bytes as ``tf``'s
classes. ``tests/terraform/test_tf_gaps.py`` checks that ``tf``'s code still lacks them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from tf import iface as tf_iface
from tf import provider as tf_provider
from tf.gen import tfplugin_pb2 as pb
from tf.schema import Attribute
from tf.utils import Diagnostics, read_dynamic_value, to_dynamic_value

WRITE_ONLY_SINCE = "1.11"
"""The first Terraform version that supports write-only attributes."""

WRITE_ONLY_TRUE = b"\x58\x01"
"""``Schema.Attribute.write_only = true`` on the wire (field 11, varint 1): what
``AttributeExtra(write_only=True)`` serialises to, kept as bytes so that answering
``GetProviderSchema`` does not build the descriptor pool (a test checks the two agree)."""


@functools.cache
def _messages() -> dict[str, Any]:
    from google.protobuf import (  # type: ignore[import-untyped]
        descriptor_pb2,
        descriptor_pool,
        message_factory,
    )

    F = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="blocks_terraform/tfplugin6_extra.proto", package="blocks_terraform.tfplugin6",
        syntax="proto3",
    )

    def message(name: str, *fields: tuple[str, int, int, str]) -> None:
        msg = proto.message_type.add(name=name)
        for field_name, number, kind, type_name in fields:
            msg.field.add(name=field_name, number=number, type=kind, label=F.LABEL_OPTIONAL,
                          **({"type_name": type_name} if type_name else {}))

    message("ClientCapabilities", ("deferral_allowed", 1, F.TYPE_BOOL, ""),
            ("write_only_attributes_allowed", 2, F.TYPE_BOOL, ""))
    caps = ".blocks_terraform.tfplugin6.ClientCapabilities"
    # Only the fields tf's classes lack; the rest of each message stays with tf.
    message("AttributeExtra", ("write_only", 11, F.TYPE_BOOL, ""))
    message("ValidateResourceConfigRequestExtra",
            ("client_capabilities", 3, F.TYPE_MESSAGE, caps))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return {
        name: message_factory.GetMessageClass(
            pool.FindMessageTypeByName(f"blocks_terraform.tfplugin6.{name}"))
        for name in ("AttributeExtra", "ValidateResourceConfigRequestExtra")
    }


class WriteOnlyAttribute(Attribute):
    """An optional, sensitive attribute whose value Terraform >= 1.11 keeps out of plan and state.

    The provider reads it from the configuration (``ctx.config`` in ``create``/``update``); the
    framework returns it as null everywhere else.
    """

    def __init__(self, name: str, type: Any, description: str) -> None:
        super().__init__(name, type, description=description, optional=True, sensitive=True)

    def to_pb(self) -> Any:
        attribute = super().to_pb()
        attribute.MergeFromString(WRITE_ONLY_TRUE)
        return attribute


def write_only_names(attributes: dict[str, Attribute]) -> list[str]:
    """Names of the write-only attributes among ``attributes``."""
    return [name for name, a in attributes.items() if isinstance(a, WriteOnlyAttribute)]


def write_only_allowed(request: Any) -> bool:
    """Whether the Terraform that sent this ``ValidateResourceConfig`` request supports
    write-only attributes (Terraform >= 1.11 says so in its client capabilities)."""
    extra = _messages()["ValidateResourceConfigRequestExtra"].FromString(
        request.SerializeToString())
    return bool(extra.client_capabilities.write_only_attributes_allowed)


def check_write_only_allowed(diags: Any, names: list[str], config: dict[str, Any] | None,
                             allowed: bool) -> None:
    """Refuse write-only values sent by a Terraform that would keep them in state."""
    if allowed or not config:
        return
    for name in names:
        if config.get(name) is not None:
            diags.add_error(
                f"{name} needs Terraform >= {WRITE_ONLY_SINCE}",
                f"{name} is a write-only attribute: Terraform {WRITE_ONLY_SINCE} and later keep "
                "its value out of plan and state. This Terraform does not support write-only "
                "attributes and would store the value in state. Upgrade Terraform, or set the "
                f"attribute without the _wo suffix ({name.removesuffix('_wo')}), which is held in "
                "state (sensitive).",
                path=[name],
            )


def without_write_only(names: list[str], state: dict[str, Any] | None) -> dict[str, Any] | None:
    """``state`` with every write-only attribute null, as Terraform requires of providers."""
    if state is None or not names:
        return state
    return {**state, **{name: None for name in names if name in state}}


@dataclass
class CreateContext(tf_iface.CreateContext):
    """``tf``'s create context plus the configuration, where write-only values are."""

    config: dict[str, Any] = field(default_factory=dict)


@dataclass
class UpdateContext(tf_iface.UpdateContext):
    """``tf``'s update context plus the configuration, where write-only values are."""

    config: dict[str, Any] = field(default_factory=dict)


class WriteOnlyCalls:
    """Servicer calls that add write-only attributes to ``tf``'s: refuse them on Terraform that
    lacks them, hand the configuration to ``create``/``update``, and return them null.

    Mixed in front of ``tf``'s servicer (see ``framework.ProviderServicer``).
    """

    def _write_only(self, type_name: str) -> list[str]:
        return write_only_names(self._get_res_attrs(type_name))  # type: ignore[attr-defined]

    def ValidateResourceConfig(self, request: Any, context: Any) -> Any:
        response = super().ValidateResourceConfig(request, context)  # type: ignore[misc]
        names = self._write_only(request.type_name)
        if names:
            diags = Diagnostics()
            check_write_only_allowed(diags, names, read_dynamic_value(request.config),
                                     write_only_allowed(request))
            response.diagnostics.extend(diags.to_pb())
        return response

    def PlanResourceChange(self, request: Any, context: Any) -> Any:
        response = super().PlanResourceChange(request, context)  # type: ignore[misc]
        _null_write_only(response.planned_state, self._write_only(request.type_name))
        return response

    def ReadResource(self, request: Any, context: Any) -> Any:
        response = super().ReadResource(request, context)  # type: ignore[misc]
        _null_write_only(response.new_state, self._write_only(request.type_name))
        return response

    def ImportResourceState(self, request: Any, context: Any) -> Any:
        response = super().ImportResourceState(request, context)  # type: ignore[misc]
        names = self._write_only(request.type_name)
        for imported in response.imported_resources:
            _null_write_only(imported.state, names)
        return response

    def ApplyResourceChange(self, request: Any, context: Any) -> Any:
        """``tf``'s apply, with the configuration in the create and update contexts."""
        diags = Diagnostics()
        type_name = request.type_name
        attrs = self._get_res_attrs(type_name)  # type: ignore[attr-defined]
        blocks = self._get_res_blocks(type_name)  # type: ignore[attr-defined]
        _, prior = tf_provider._decode_state(diags, attrs, blocks, request.prior_state)
        planned_enc, planned = tf_provider._decode_state(diags, attrs, blocks,
                                                         request.planned_state)
        _, config = tf_provider._decode_state(diags, attrs, blocks, request.config)
        if diags.has_errors():
            return pb.ApplyResourceChange.Response(diagnostics=diags.to_pb())
        inst = self.app.new_resource(self._get_res_cls(type_name))  # type: ignore[attr-defined]
        if prior is None and planned is not None:
            new = inst.create(CreateContext(diags, type_name, config or {}), planned)
        elif planned is None:
            new = inst.delete(tf_iface.DeleteContext(diags, type_name), prior)
        else:
            new = inst.update(UpdateContext(diags, type_name, config or {}), prior, planned)
        new = without_write_only(self._write_only(type_name), new)
        return pb.ApplyResourceChange.Response(
            new_state=tf_provider._encode_state(attrs, blocks, new, old=planned_enc),
            diagnostics=diags.to_pb(),
        )


def _null_write_only(value: Any, names: list[str]) -> None:
    """Set the write-only attributes of an encoded state (a ``DynamicValue``) to null."""
    if not names or not (value.msgpack or value.json):
        return
    state = read_dynamic_value(value)
    if isinstance(state, dict) and any(state.get(n) is not None for n in names):
        value.CopyFrom(to_dynamic_value(without_write_only(names, state)))
