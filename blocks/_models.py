"""Pydantic plumbing shared by the block types: errors without input values, secret paths.

No I/O, no knowledge of :class:`~blocks.core.Block`; ``blocks.core`` re-exports what other
modules import from it.
"""

from __future__ import annotations

import types
from collections.abc import Hashable, Mapping, Sequence
from typing import Annotated, Any, Self, Union, get_args, get_origin

import pydantic
from pydantic import BaseModel, ConfigDict, SecretBytes, SecretStr
from pydantic_core import InitErrorDetails, PydanticCustomError

HIDDEN_INPUT = "********"


def pydantic_errors(exc: pydantic.ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    """(dot path, message) pairs from a pydantic error, without the offending input values."""
    out = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        path = ".".join(str(p) for p in err["loc"])
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        out.append((path, err["msg"]))
    return out


def without_inputs(exc: pydantic.ValidationError) -> pydantic.ValidationError:
    """The same pydantic error with every ``input`` replaced by ``********``.

    pydantic puts the offending value (for a model-level error, the whole input, secrets
    included) into ``errors()`` and ``json()`` even with ``hide_input_in_errors``.
    """
    details = [
        InitErrorDetails(
            type=PydanticCustomError(err["type"], err["msg"]), loc=err["loc"], input=HIDDEN_INPUT
        )
        for err in exc.errors(include_input=False, include_url=False, include_context=False)
    ]
    return pydantic.ValidationError.from_exception_data(exc.title, details, hide_input=True)


def _frozen(value: Any) -> Hashable:
    """A hashable stand-in for a field value: containers become tuples/frozensets, models
    their fields, secrets their value (a hash shows nothing of it)."""
    if isinstance(value, BaseModel):
        return (type(value), _frozen(value.__dict__))
    if isinstance(value, Mapping):
        return frozenset((key, _frozen(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, set | frozenset):
        return frozenset(_frozen(item) for item in value)
    if isinstance(value, pydantic.Secret | SecretStr | SecretBytes):
        return (type(value), _frozen(value.get_secret_value()))
    if isinstance(value, Hashable):
        return value
    return repr(value)


class InputSafeModel(BaseModel):
    """A pydantic model whose validation errors never carry the input values.

    Every block type derives from it through :class:`~blocks.core.Block`; nested models of the
    built-in types (``AwsClientParameters``) derive from it directly.
    """

    model_config = ConfigDict(hide_input_in_errors=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise without_inputs(exc) from None

    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        # From the field values (secrets included, never shown), so models that are equal hash
        # equal: prefect-aws caches clients by credentials block. Like Prefect's blocks, the
        # hash follows assignments: do not change a block while it is a dict key.
        return hash((type(self), _frozen(self.__dict__)))

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            super().__setattr__(name, value)
        except pydantic.ValidationError as exc:
            raise without_inputs(exc) from None

    @classmethod
    def model_validate(cls, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(*args, **kwargs)
        except pydantic.ValidationError as exc:
            raise without_inputs(exc) from None

    @classmethod
    def model_validate_json(cls, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate_json(*args, **kwargs)
        except pydantic.ValidationError as exc:
            raise without_inputs(exc) from None

    @classmethod
    def model_validate_strings(cls, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate_strings(*args, **kwargs)
        except pydantic.ValidationError as exc:
            raise without_inputs(exc) from None


def is_secret_type(tp: Any) -> bool:
    """Whether ``tp`` is ``SecretStr``, ``SecretBytes`` or ``pydantic.Secret[...]``."""
    origin = get_origin(tp) or tp
    return isinstance(origin, type) and issubclass(
        origin, SecretStr | SecretBytes | pydantic.Secret
    )


def annotation_secret_paths(tp: Any, prefix: str, seen: set[type]) -> list[str]:
    """Dot paths of the secrets a value of type ``tp`` at ``prefix`` holds."""
    if is_secret_type(tp):
        return [prefix]
    origin = get_origin(tp)
    if origin is Annotated:
        return annotation_secret_paths(get_args(tp)[0], prefix, seen)
    if origin in (Union, types.UnionType):
        found: list[str] = []
        for arg in get_args(tp):
            found += [p for p in annotation_secret_paths(arg, prefix, seen) if p not in found]
        return found
    if origin in (dict, Mapping) and len(get_args(tp)) == 2:
        return annotation_secret_paths(get_args(tp)[1], f"{prefix}.*", seen)
    if origin in (list, tuple, set, frozenset, Sequence):
        out: list[str] = []
        for arg in get_args(tp):
            if arg is not Ellipsis:
                out += annotation_secret_paths(arg, f"{prefix}.*", seen)
        return out
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return model_secret_paths(tp, prefix, seen)
    return []


def model_secret_paths(model: type[BaseModel], prefix: str, seen: set[type]) -> list[str]:
    """Dot paths of the secrets of ``model``'s fields (``*`` for any key or item)."""
    if model in seen:
        return []
    seen = seen | {model}
    paths: list[str] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        path = f"{prefix}.{key}" if prefix else key
        paths += annotation_secret_paths(field.annotation, path, seen)
    return paths
