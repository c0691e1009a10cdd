"""Ephemeral resources (tfplugin 6.7, Terraform >= 1.10) in our layer over ``tf``, which has none.

An *ephemeral resource* (``ephemeral "blocks_secret" "x" {...}``) is read by Terraform whenever
it needs the value -- during plan and again during apply -- and its result never enters plan
or state. Terraform lets such values flow only into places that are not stored either:
provider configuration, write-only attributes (>= 1.11), ephemeral variables and outputs.

``tf`` 1.2's generated code predates the protocol calls, so this module adds them:

* the messages, declared at run time with the field numbers of ``tfplugin6.proto`` (6.7 and
  later) in a descriptor file of their own that builds on ``tf``'s (:func:`messages`);
* ``ValidateEphemeralResourceConfig``, ``OpenEphemeralResource``, ``RenewEphemeralResource``
  and ``CloseEphemeralResource`` on the servicer (:class:`EphemeralCalls`), registered with
  the gRPC server next to ``tf``'s handlers (:func:`install`);
* ``ephemeral_resource_schemas`` (field 8) in ``GetProviderSchema`` and
  ``ephemeral_resources`` (field 6) in ``GetMetadata``. Older Terraform does not know these
  fields and skips them, as protobuf does with any unknown field: the schema loads as before.

The provider lists its ephemeral resource classes in ``get_ephemeral_resources()``; each has
``get_name``, ``get_schema``, ``validate(diags, type_name, config)`` and
``open(diags, config) -> result`` (see :mod:`blocks_terraform.ephemeral_resources`). Results
are read from the registry on every open, nothing is held between calls, so there is nothing
to renew or close. ``tests/terraform/test_ephemeral.py`` checks that ``tf`` still lacks the calls.
"""

from __future__ import annotations

import functools
from typing import Any

from tf import provider as tf_provider
from tf.gen import tfplugin_pb2 as pb
from tf.utils import Diagnostics

EPHEMERAL_SINCE = "1.10"
"""The first Terraform version with ephemeral resources."""

SERVICE = "tfplugin6.Provider"
CALLS = ("ValidateEphemeralResourceConfig", "OpenEphemeralResource", "RenewEphemeralResource",
         "CloseEphemeralResource")
PACKAGE = "blocks_terraform.tfplugin6_ephemeral"


@functools.cache
def messages() -> dict[str, Any]:
    """Message classes of the ephemeral calls, by name (``OpenEphemeralResource.Request`` is
    ``OpenEphemeralResourceRequest``); only the fields this provider reads or writes."""
    from google.protobuf import (  # type: ignore[import-untyped]
        descriptor_pb2,
        descriptor_pool,
        message_factory,
    )

    F = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="blocks_terraform/tfplugin6_ephemeral.proto", package=PACKAGE, syntax="proto3",
        dependency=[pb.DESCRIPTOR.name],
    )
    dynamic, diagnostic, schema = (".tfplugin6.DynamicValue", ".tfplugin6.Diagnostic",
                                   ".tfplugin6.Schema")

    def message(name: str, *fields: tuple[str, int, int, str, bool]) -> Any:
        msg = proto.message_type.add(name=name)
        for field_name, number, kind, type_name, repeated in fields:
            msg.field.add(name=field_name, number=number, type=kind,
                          label=F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL,
                          **({"type_name": type_name} if type_name else {}))
        return msg

    diagnostics = ("diagnostics", 1, F.TYPE_MESSAGE, diagnostic, True)
    type_name = ("type_name", 1, F.TYPE_STRING, "", False)
    config = ("config", 2, F.TYPE_MESSAGE, dynamic, False)
    private = ("private", 2, F.TYPE_BYTES, "", False)
    message("ValidateEphemeralResourceConfigRequest", type_name, config)
    message("ValidateEphemeralResourceConfigResponse", diagnostics)
    message("OpenEphemeralResourceRequest", type_name, config)
    message("OpenEphemeralResourceResponse", diagnostics,
            ("result", 3, F.TYPE_MESSAGE, dynamic, False))
    message("RenewEphemeralResourceRequest", type_name, private)
    message("RenewEphemeralResourceResponse", diagnostics)
    message("CloseEphemeralResourceRequest", type_name, private)
    message("CloseEphemeralResourceResponse", diagnostics)
    message("EphemeralMetadata", type_name)
    message("GetMetadataResponseExtra",
            ("ephemeral_resources", 6, F.TYPE_MESSAGE, f".{PACKAGE}.EphemeralMetadata", True))
    extra = message("GetProviderSchemaResponseExtra", (
        "ephemeral_resource_schemas", 8, F.TYPE_MESSAGE,
        f".{PACKAGE}.GetProviderSchemaResponseExtra.EphemeralResourceSchemasEntry", True))
    entry = extra.nested_type.add(name="EphemeralResourceSchemasEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    entry.field.add(name="value", number=2, type=F.TYPE_MESSAGE, type_name=schema,
                    label=F.LABEL_OPTIONAL)
    # The default pool holds tf's file, so the messages above share tf's Diagnostic, Schema
    # and DynamicValue classes.
    pool = descriptor_pool.Default()
    try:
        pool.FindFileByName(proto.name)
    except KeyError:
        pool.Add(proto)
    return {
        m.name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.{m.name}"))
        for m in proto.message_type
    }


class EphemeralCalls:
    """Servicer calls for ephemeral resources, mixed in front of ``tf``'s servicer (see
    ``framework.Servicer``)."""

    _ephemeral_map: dict[str, Any] | None = None

    def _ephemeral_classes(self) -> dict[str, Any]:
        if self._ephemeral_map is None:
            app = self.app  # type: ignore[attr-defined]
            listed: list[Any] = getattr(app, "get_ephemeral_resources", lambda: [])()
            self._ephemeral_map = {app.get_model_prefix() + c.get_name(): c for c in listed}
        return self._ephemeral_map

    def GetProviderSchema(self, request: Any, context: Any) -> Any:
        response = super().GetProviderSchema(request, context)  # type: ignore[misc]
        schemas = {name: cls.get_schema().to_pb()
                   for name, cls in self._ephemeral_classes().items()}
        if schemas:
            extra = messages()["GetProviderSchemaResponseExtra"](
                ephemeral_resource_schemas=schemas)
            response.MergeFromString(extra.SerializeToString())
        return response

    def GetMetadata(self, request: Any, context: Any) -> Any:
        response = super().GetMetadata(request, context)  # type: ignore[misc]
        names = list(self._ephemeral_classes())
        if names:
            msgs = messages()
            extra = msgs["GetMetadataResponseExtra"](
                ephemeral_resources=[msgs["EphemeralMetadata"](type_name=n) for n in names])
            response.MergeFromString(extra.SerializeToString())
        return response

    def _decoded(self, diags: Diagnostics, request: Any) -> tuple[Any, dict[str, Any], Any]:
        cls = self._ephemeral_classes()[request.type_name]
        schema = cls.get_schema()
        attrs = {a.name: a for a in schema.attributes}
        _, config = tf_provider._decode_state(diags, attrs, {}, request.config)
        return cls, attrs, config or {}

    def ValidateEphemeralResourceConfig(self, request: Any, context: Any) -> Any:
        diags = Diagnostics()
        cls, _, config = self._decoded(diags, request)
        if not diags.has_errors():
            cls(self.app).validate(diags, request.type_name, config)  # type: ignore[attr-defined]
        return messages()["ValidateEphemeralResourceConfigResponse"](diagnostics=diags.to_pb())

    def OpenEphemeralResource(self, request: Any, context: Any) -> Any:
        """Read the value: ``open`` reports its own errors; the result is encoded through the
        schema, every attribute present (Terraform requires the whole object)."""
        diags = Diagnostics()
        cls, attrs, config = self._decoded(diags, request)
        response = messages()["OpenEphemeralResourceResponse"]()
        result = None
        if not diags.has_errors():
            prepare = getattr(self.app, "prepare", None)  # type: ignore[attr-defined]
            if prepare is not None:
                prepare()
            result = cls(self.app).open(diags, config)  # type: ignore[attr-defined]
        if result is not None and not diags.has_errors():
            full = {name: result.get(name) for name in attrs}
            response.result.CopyFrom(tf_provider._encode_state(attrs, {}, full, None))
        response.diagnostics.extend(diags.to_pb())
        return response

    def RenewEphemeralResource(self, request: Any, context: Any) -> Any:
        """Nothing to renew: an open never asks for renewal (no ``renew_at``)."""
        return messages()["RenewEphemeralResourceResponse"]()

    def CloseEphemeralResource(self, request: Any, context: Any) -> Any:
        """Nothing to close: an open holds nothing (no lease, no connection)."""
        return messages()["CloseEphemeralResourceResponse"]()


def install() -> None:
    """Make ``tf``'s server registration add the ephemeral calls to the gRPC server.

    ``tf.runner`` registers the servicer through ``add_ProviderServicer_to_server``, looked up
    on the generated module when the provider starts; ours registers ``tf``'s handlers, then
    the ephemeral calls under the same service name.
    """
    import grpc
    from tf.gen import tfplugin_pb2_grpc as rpc

    original = rpc.add_ProviderServicer_to_server
    if getattr(original, "adds_ephemeral_calls", False):
        return
    msgs = messages()

    def add_servicer_to_server(servicer: Any, server: Any) -> None:
        original(servicer, server)
        handlers = {
            name: grpc.unary_unary_rpc_method_handler(
                getattr(servicer, name),
                request_deserializer=msgs[f"{name}Request"].FromString,
                response_serializer=msgs[f"{name}Response"].SerializeToString,
            )
            for name in CALLS
        }
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE,
                                                                               handlers),))

    add_servicer_to_server.adds_ephemeral_calls = True  # type: ignore[attr-defined]
    rpc.add_ProviderServicer_to_server = add_servicer_to_server
