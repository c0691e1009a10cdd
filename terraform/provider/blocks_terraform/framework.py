"""A thin layer over the ``tf`` package for what it lacks, as measured with Terraform 1.0.3.

Each gap was reproduced against the real binary with a provider written the plain ``tf`` way;
``tests/terraform/test_tf_gaps.py`` keeps that experiment, so an upstream fix shows up:

* **No object type, no nested attributes.** ``tf.types`` has scalars, list, set, map and
  ``NormalizedJson``; ``tf.blocks`` has only set-nested blocks. Free-form values (dicts,
  templates) are JSON-encoded strings (:class:`Json`); small fixed groups are single nested
  blocks (:class:`SingleNestedBlock`) or nested attributes (:mod:`blocks_terraform.nested`,
  protocol 6 ``nested_type``), which can be optional *and* computed.
* **``plan()`` is not called on create.** ``tf`` plans a create itself (computed nulls become
  Unknown), so a resource cannot fill defaults or reject values at plan time. Our servicer
  calls :meth:`Resource.plan` for creates too, with ``ctx.creating`` set.
* **A change inside a nested block is not in ``changed_fields``.** Only attributes are
  compared, so a plan that marks computed values Unknown on change misses nested-block
  edits, and apply then returns values that differ from the plan ("Provider produced
  inconsistent result after apply"). We compare blocks too and honour
  :attr:`Resource.replace_blocks`.
* **No explicit schema version -> a warning on every plan** ("Using default upgrade"), since
  ``UpgradeResourceState`` treats ``None`` as older than anything. :class:`Resource` always
  declares :data:`SCHEMA_VERSION`.
* **Stored state is passed through as is**, so an attribute added to a schema makes every
  older state fail to load ("an object with N attributes is required"). Our
  ``UpgradeResourceState`` fills added attributes with null and drops removed ones.
* **``validate()`` receives Unknown values** (a reference to another resource's computed
  attribute, a variable during the first validate walk, even inside nested blocks).
  :func:`is_known` checks values recursively; validators skip what is not known yet. Terraform
  >= 1.6 also sends *refined* unknowns (``"v${x}"``: an unknown string known to start with
  ``v``, msgpack extension 12), which ``tf`` passes on as a raw ``msgpack.ExtType``: they are
  unknown too (and go back to Terraform untouched).
* **No write-only attributes** (tfplugin 6.9, Terraform >= 1.11): see :mod:`.protocol`, whose
  calls :class:`Servicer` adds.
* **No ephemeral resources** (tfplugin 6.7, Terraform >= 1.10): see :mod:`.ephemeral`; and a
  failed function call does not say which argument was wrong: see :mod:`.functions`.

Also: ``plan()`` receives the configuration (``ctx.config``), so "omitted" can mean "the
default" rather than "keep the prior value"; data-source results are encoded through their
schema (``tf`` sends them raw); exceptions in plans, CRUD and data sources become diagnostics
instead of plugin crashes; heavy imports happen once, under a lock, before the first call that
needs them (gRPC serves calls on threads). ``blocks_terraform.serving.serve`` installs our
servicer and a faster certificate cache into ``tf.runner``, which looks both up by name when it
starts.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from msgpack import ExtType  # type: ignore[import-untyped]
from tf import provider as tf_provider
from tf.gen import tfplugin_pb2 as pb
from tf.iface import Config, DataSource, Provider, State
from tf.iface import PlanContext as TfPlanContext
from tf.iface import Resource as TfResource
from tf.schema import Attribute, Block, NestedBlock, NestMode, Schema
from tf.types import NormalizedJson, Unknown
from tf.utils import Diagnostics, _to_attribute_path, read_dynamic_value, to_dynamic_value

from blocks_terraform import numbers
from blocks_terraform.ephemeral import EphemeralCalls
from blocks_terraform.functions import FunctionCalls
from blocks_terraform.interrupt import StopCalls
from blocks_terraform.json_check import json_problem
from blocks_terraform.protocol import WriteOnlyCalls
from blocks_terraform.replacement import ReplacementCalls

SCHEMA_VERSION = 0
"""Schema version of every resource; bump with an ``upgrade`` when state must change shape."""


def is_known(value: Any) -> bool:
    """Whether ``value`` (and everything inside it) is known at this point of the plan."""
    if value is Unknown or isinstance(value, ExtType):
        return False
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(is_known(v) for v in value)
    return True


class Json(NormalizedJson):
    """A JSON document held in a string attribute; equal documents never show a diff.

    The user's own encoding (``jsonencode(...)`` or a heredoc) is kept in state as long as it
    means the same document, so only real changes appear in a plan.
    """

    def decode(self, value: Any) -> Any:
        if value is None or value is Unknown:
            return value
        return json.loads(value)

    def encode(self, value: Any) -> Any:
        if value is None or value is Unknown:
            return value
        return json.dumps(value, sort_keys=True, separators=(",", ":"))


def loads(value: Any) -> Any:
    """A JSON attribute's value as data: raw configuration holds the text, decoded state the
    document already."""
    return json.loads(value) if isinstance(value, str) else value


class SingleNestedBlock(NestedBlock):
    """A nested block that appears at most once (``generate { ... }``); ``None`` when absent."""

    def __init__(self, type_name: str, block: Block) -> None:
        super().__init__(type_name, NestMode.Single, block)

    def encode(self, value: Any) -> Any:
        if value is None or value is Unknown:
            return value
        return tf_provider._encode_state_d(self._amap(), self._bmap(), value, None)

    def decode(self, value: Any) -> Any:
        if value is None or value is Unknown:
            return value
        return tf_provider._decode_state(Diagnostics(), self._amap(), self._bmap(), value)[1]

    def semantically_equal(self, a_decoded: Any, b_decoded: Any) -> bool:
        return bool(a_decoded == b_decoded)


@dataclass
class PlanContext(TfPlanContext):
    """``tf``'s plan context plus what a plan needs: the configuration and create-or-update.

    Attributes:
        config: the resource's configuration, decoded (``None`` where not set).
        creating: True when there is no prior state.
        requires_replace: attribute or block names whose change forces a replacement; a plan
            may add to it.
    """

    config: dict[str, Any] = field(default_factory=dict)
    creating: bool = False
    requires_replace: set[str] = field(default_factory=set)


class Resource(TfResource):
    """Base of our resources: explicit schema version, plan on create, config-aware plans.

    Subclasses build their schema with :meth:`make_schema` and may set
    :attr:`replace_blocks` (nested blocks whose change forces replacement).
    """

    replace_blocks: frozenset[str] = frozenset()

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    @staticmethod
    def make_schema(
        attributes: list[Attribute],
        *,
        description: str,
        block_types: list[NestedBlock] | None = None,
    ) -> Schema:
        """A schema with :data:`SCHEMA_VERSION`, so Terraform never asks for an upgrade; its
        number attributes refuse values beyond float range (:mod:`.numbers`)."""
        numbers.bounded(attributes, block_types or [])
        return Schema(
            attributes=attributes,
            block_types=block_types or [],
            version=SCHEMA_VERSION,
            description=description,
        )

    def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
        """Unknown attributes, read-only attributes set, and malformed JSON attributes.

        Checks that need Blocks itself run at plan time instead (see ``check_config`` in the
        resources), so the process Terraform starts only to validate stays light.
        """
        schema = self.get_schema()
        numbers.check_config(diags, schema.attributes, schema.block_types, config)
        super().validate(diags, type_name, config)
        for attribute in schema.attributes:
            value = config.get(attribute.name)
            if isinstance(attribute.type, Json) and isinstance(value, str):
                problem = json_problem(value)
                if problem is not None:
                    diags.add_error(f"Invalid JSON in {attribute.name}", problem,
                                    path=[attribute.name])

    def upgrade(self, ctx: Any, version: int, old: State) -> State:
        """State of older schema versions needs no change yet."""
        return old


class ProviderServicer(tf_provider.ProviderServicer):
    """``tf``'s gRPC servicer with the gaps described in the module docstring filled.

    Calls that reach resources or settings first run the provider's ``prepare()`` (if it has
    one): gRPC serves calls on a thread pool, and the first imports of a heavy package from
    several threads at once can see partially initialised modules. Schema calls never do.
    """

    PREPARED_CALLS = (
        "ReadResource", "PlanResourceChange", "ApplyResourceChange", "ImportResourceState",
        "ReadDataSource", "ValidateResourceConfig", "ValidateDataResourceConfig",
        "ValidateProviderConfig", "ConfigureProvider",
    )

    def __init__(self, app: Provider) -> None:
        super().__init__(app)
        prepare = getattr(app, "prepare", None)
        if prepare is None:
            return
        for name in self.PREPARED_CALLS:
            setattr(self, name, _prepared(prepare, getattr(self, name)))

    def PlanResourceChange(
        self, request: pb.PlanResourceChange.Request, context: Any
    ) -> pb.PlanResourceChange.Response:
        """Plan a create or an update, always through the resource's ``plan``."""
        type_name = request.type_name
        diags = Diagnostics()
        attrs = self._get_res_attrs(type_name)
        blocks = self._get_res_blocks(type_name)
        _, prior = tf_provider._decode_state(diags, attrs, blocks, request.prior_state)
        proposed_enc, proposed = tf_provider._decode_state(
            diags, attrs, blocks, request.proposed_new_state
        )
        _, config = tf_provider._decode_state(diags, attrs, blocks, request.config)
        if diags.has_errors() or proposed is None:
            # A destroy plan: nothing for the resource to decide.
            return pb.PlanResourceChange.Response(
                planned_state=request.proposed_new_state, diagnostics=diags.to_pb()
            )

        inst = self.app.new_resource(self._get_res_cls(type_name))
        for k in blocks:  # Terraform 1.0 proposes the prior block when the configuration drops it
            if config is not None and config.get(k) in (None, []):
                proposed[k] = config.get(k)
        if prior is None:
            planned = {
                k: (v if v is not None or k in blocks or not attrs[k].computed
                    else attrs[k].default)
                for k, v in proposed.items()
            }
            changed = {k for k, v in proposed.items() if v is not None}
        else:
            planned = deepcopy(proposed)
            changed = {k for k in attrs if k in proposed and not attrs[k].type.semantically_equal(
                prior.get(k), proposed.get(k))}
            changed |= {k for k in blocks if prior.get(k) != proposed.get(k)}

        replace = {k for k in changed if k in attrs and attrs[k].requires_replace}
        replace |= changed & getattr(inst, "replace_blocks", frozenset())
        ctx = PlanContext(
            diags, type_name, changed_fields=changed, config=config or {},
            creating=prior is None, requires_replace=replace,
        )
        try:
            planned = inst.plan(ctx, deepcopy(prior), planned)
        except Exception as exc:  # reported, never raised: a raise shows as a plugin crash
            report_exception(diags, exc)
        if diags.has_errors():
            return pb.PlanResourceChange.Response(diagnostics=diags.to_pb())
        return pb.PlanResourceChange.Response(
            planned_state=tf_provider._encode_state(attrs, blocks, planned, proposed_enc),
            requires_replace=[] if prior is None else [
                _to_attribute_path([k]) for k in sorted(ctx.requires_replace)
            ],
            diagnostics=diags.to_pb(),
        )

    def UpgradeResourceState(
        self, request: pb.UpgradeResourceState.Request, context: Any
    ) -> pb.UpgradeResourceState.Response:
        """Upgrade as ``tf`` does, then fit the state to the current attribute names."""
        response = super().UpgradeResourceState(request, context)
        if any(d.severity == pb.Diagnostic.ERROR for d in response.diagnostics):
            return response
        state = read_dynamic_value(response.upgraded_state) or {}
        schema = self._get_res_cls(request.type_name).get_schema()
        names = [a.name for a in schema.attributes] + [b.type_name for b in schema.block_types]
        return pb.UpgradeResourceState.Response(
            upgraded_state=to_dynamic_value({n: state.get(n) for n in names}),
            diagnostics=response.diagnostics,
        )

    def ReadDataSource(
        self, request: pb.ReadDataSource.Request, context: Any
    ) -> pb.ReadDataSource.Response:
        """Read a data source and encode its result through its schema."""
        klass = self._get_ds_cls(request.type_name)
        schema = klass.get_schema()
        attrs = {a.name: a for a in schema.attributes}
        blocks = {b.type_name: b for b in schema.block_types}
        diags = Diagnostics()
        _, config = tf_provider._decode_state(diags, attrs, blocks, request.config)
        state = None
        if not diags.has_errors():
            inst = self.app.new_data_source(klass)
            try:
                state = inst.read(tf_provider.ReadDataContext(diags, request.type_name), config)
            except Exception as exc:
                report_exception(diags, exc)
        return pb.ReadDataSource.Response(
            diagnostics=diags.to_pb(),
            state=tf_provider._encode_state(attrs, blocks, state, None)
            if state is not None and not diags.has_errors() else None,
        )


class Servicer(StopCalls, ReplacementCalls, EphemeralCalls, FunctionCalls, WriteOnlyCalls,
               ProviderServicer):
    """The servicer ``serving.serve`` installs: ours, plus interrupts (:mod:`.interrupt`), the
    replacement marker (:mod:`.replacement`), ephemeral resources, function errors that name the
    argument, and write-only attributes."""


def _prepared(prepare: Callable[[], None], call: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(request: Any, context: Any) -> Any:
        prepare()
        return call(request, context)

    return wrapper


def report_exception(diags: Diagnostics, exc: BaseException, path: list[Any] | None = None) -> None:
    """Turn an exception into an error diagnostic.

    Blocks errors carry messages written for users (they name the block and field, never a
    secret). Anything else is a bug; its message might carry data, so only its type is shown,
    as the ``blocks`` CLI does.
    """
    name = type(exc).__name__
    if _is_blocks_error(exc, "BlocksError"):
        diags.add_error(f"blocks: {name}", str(exc), path=path)
    else:
        diags.add_error(f"blocks: internal error ({name})",
                        "This is a bug in the Blocks provider; please report it.", path=path)


def _is_blocks_error(exc: BaseException, kind: str) -> bool:
    # By class name: this module must not import blocks (schema calls stay light).
    return any(cls.__name__ == kind for cls in type(exc).__mro__)


F = TypeVar("F", bound=Callable[..., Any])


def guarded(method: F) -> F:
    """Decorate a CRUD method so that exceptions become diagnostics instead of plugin crashes.

    On error, ``read`` and ``update`` return the current state (nothing changed), ``create``
    and ``delete`` return ``None``.
    """

    @functools.wraps(method)
    def wrapper(self: Any, ctx: Any, *args: Any) -> Any:
        try:
            return method(self, ctx, *args)
        except Exception as exc:
            if method.__name__ == "create" and args and _is_blocks_error(exc, "ConflictError"):
                already_exists(ctx.diagnostics, self, args[0])
                return None
            report_exception(ctx.diagnostics, exc)
            return args[0] if method.__name__ in {"update", "read"} and args else None

    return cast(F, wrapper)


def already_exists(diags: Diagnostics, resource: Any, planned: dict[str, Any]) -> None:
    """A create found the object in the registry: say how to import it into Terraform.

    Terraform does not tell a provider the resource's address, so the command names the
    resource type with a placeholder, and says where a module's prefix goes.
    """
    import_id = getattr(resource, "import_id", None)
    ref = import_id(planned) if import_id else (planned.get("id") or planned.get("name"))
    kind = f"blocks_{type(resource).get_name()}"
    diags.add_error(
        "blocks: already exists",
        f"{getattr(resource, 'noun', '')}{planned.get('id') or planned.get('name')} already "
        "exists in the registry, outside "
        "this Terraform state. To manage it with this resource, import it:\n"
        f"  terraform import {kind}.<NAME> {ref}\n"
        f"where {kind}.<NAME> is this resource's address (inside a module, prefix it with "
        f"the module path: module.<MODULE>.{kind}.<NAME>). On Terraform >= 1.5 an import "
        f"block does the same: import {{ to = {kind}.<NAME>, id = \"{ref}\" }}. Or choose "
        "another name.",
    )


__all__ = [
    "SCHEMA_VERSION",
    "Config",
    "DataSource",
    "Json",
    "PlanContext",
    "Resource",
    "SingleNestedBlock",
    "State",
    "guarded",
    "is_known",
    "loads",
    "read_dynamic_value",
    "report_exception",
]
