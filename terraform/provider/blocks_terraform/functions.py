"""Provider-defined functions (Terraform >= 1.8): ``provider::blocks::placeholder`` and ``ref``.

Both are pure: they compute text from their arguments, need no provider configuration and no
registry, so Terraform may call them at any point (``validate`` included). They are for blocks
managed *outside* the configuration; for a block declared in the same configuration use the
resource's ``placeholder`` / ``id`` attribute, which also makes Terraform create the block
first. Older Terraform ignores the functions in the schema; the attributes work everywhere.

``tf`` serves ``GetFunctions`` and ``CallFunction`` but reports a failed call without saying
which argument was wrong; :class:`FunctionCalls` adds the argument's position, so Terraform
shows ``Invalid value for "name" parameter: ...``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from tf import types
from tf.function import CallContext, FunctionSignature, Parameter, Return
from tf.gen import tfplugin_pb2 as pb
from tf.utils import Diagnostics, read_dynamic_value, to_dynamic_value

from blocks_terraform import schema_cache

FUNCTIONS_SINCE = "1.8"
"""The first Terraform version with provider-defined functions."""

NAME_RULE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
"""The block-name rule of ``blocks.core.validate_name`` (a test checks the two agree); kept here
so that a function call does not import Blocks."""


class ArgumentError(ValueError):
    """A function argument is not acceptable: ``index`` is its position."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


def check_slug(index: int, slug: str) -> None:
    """``slug`` is a known block type (built in or a plug-in's)."""
    known = sorted(schema_cache.load()["types"])
    if slug not in known:
        raise ArgumentError(index, f"unknown block type {slug!r}; the types are: "
                                   f"{', '.join(known)}")


def check_name(index: int, name: str) -> None:
    """``name`` follows the block-name rule."""
    if not NAME_RULE.match(name):
        raise ArgumentError(index, f"invalid block name {name!r}: use 1-63 lowercase letters, "
                                   "digits and dashes, starting and ending with a letter or "
                                   "digit")


_SLUG = Parameter("type", types.String(),
                  description="Block type slug, e.g. `secret`, `aws-credentials`.")
_NAME = Parameter("name", types.String(),
                  description="Block name: 1-63 lowercase letters, digits and dashes.")


class BlockFunction:
    """Base of the functions: ``(type, name)`` checked, then :meth:`result`."""

    name: ClassVar[str]
    summary: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, provider: Any = None) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return cls.name

    @classmethod
    def get_signature(cls) -> FunctionSignature:
        return FunctionSignature(parameters=[_SLUG, _NAME], return_type=Return(types.String()),
                                 summary=cls.summary, description=cls.description)

    def call(self, ctx: CallContext, arguments: list[Any]) -> Any:
        slug, name = arguments
        check_slug(0, slug)
        check_name(1, name)
        return self.result(slug, name)

    def result(self, slug: str, name: str) -> str:
        raise NotImplementedError


class PlaceholderFunction(BlockFunction):
    """``provider::blocks::placeholder("secret", "db-pass")`` -> ``{{ blocks.secret.db-pass }}``."""

    name = "placeholder"
    summary = "The placeholder text of a block, for work-pool templates and job variables"
    description = (
        "Returns `{{ blocks.<type>.<name> }}`, the text work-pool base job templates and job "
        "variables use to stand for a block, resolved when a flow run starts. For a block "
        "managed outside this configuration; for one declared here, use the resource's "
        "`placeholder` attribute so that Terraform creates the block first. Terraform >= "
        f"{FUNCTIONS_SINCE}."
    )

    def result(self, slug: str, name: str) -> str:
        return f"{{{{ blocks.{slug}.{name} }}}}"


class RefFunction(BlockFunction):
    """``provider::blocks::ref("aws-credentials", "prod")`` -> ``aws-credentials/prod``."""

    name = "ref"
    summary = "The id of a block, for nested-block attributes of typed resources"
    description = (
        "Returns `<type>/<name>`, the id that nested-block attributes of typed resources take "
        "(e.g. `credentials` of `blocks_s3_bucket`) and `terraform import` accepts. For a block "
        "managed outside this configuration; for one declared here, use the resource's `id` "
        "attribute so that Terraform creates the block first. Terraform >= "
        f"{FUNCTIONS_SINCE}."
    )

    def result(self, slug: str, name: str) -> str:
        return f"{slug}/{name}"


FUNCTIONS: tuple[type[BlockFunction], ...] = (PlaceholderFunction, RefFunction)


class FunctionCalls:
    """``CallFunction`` with the failing argument's position in the error; mixed in front of
    ``tf``'s servicer (see ``framework.Servicer``)."""

    def CallFunction(self, request: Any, context: Any) -> Any:
        cls = self._load_func_cls_map().get(request.name)  # type: ignore[attr-defined]
        if not (isinstance(cls, type) and issubclass(cls, BlockFunction)) or len(
                request.arguments) != len(cls.get_signature().parameters):
            return super().CallFunction(request, context)  # type: ignore[misc]
        parameters = cls.get_signature().parameters
        arguments = [p.type.decode(read_dynamic_value(a))
                     for p, a in zip(parameters, request.arguments, strict=True)]
        try:
            function = self.app.new_function(cls)  # type: ignore[attr-defined]
            result = function.call(CallContext(Diagnostics(), request.name), arguments)
        except ArgumentError as exc:
            return pb.CallFunction.Response(error=pb.FunctionError(
                text=str(exc), function_argument=exc.index))
        except Exception as exc:  # a bug: its message might carry data, so only its type
            return pb.CallFunction.Response(error=pb.FunctionError(
                text=f"blocks: internal error ({type(exc).__name__}); please report it"))
        return pb.CallFunction.Response(result=to_dynamic_value(result))
