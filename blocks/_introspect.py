"""What ``help(S3Bucket)`` and ``inspect.signature(S3Bucket)`` show: the fields.

Block types defer building their validators until first use (``defer_build``), and pydantic
sets a model's ``__signature__`` only when it builds it, so until then ``inspect`` fell back to
``Block.__init__(**data)``. Each block class gets a lazy ``__signature__`` computed from its
fields, and a ``__doc__`` that appends a ``Fields:`` section (type, default, description; pydoc
reads ``__doc__`` directly, so it is built when the class is). The JSON Schema keeps the class's
own docstring as its description (see :func:`schema_description`).
"""

from __future__ import annotations

import inspect
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from blocks._help import DOC_SOURCE, methods_doc

_DOC_SOURCE = DOC_SOURCE


def _default_of(info: FieldInfo) -> Any:
    if info.is_required():
        return inspect.Parameter.empty
    if info.default_factory is not None:
        factory = info.default_factory
        return _Shown(f"{getattr(factory, '__name__', 'factory')}()")
    return info.get_default()


class _Shown:
    """A default shown as text (``AwsCredentials()``) instead of a repr of the factory."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def plain(annotation: Any) -> Any:
    """The annotation without ``Annotated`` metadata (tags, constraints), for people."""
    if get_origin(annotation) is Annotated:
        return plain(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        members: list[Any] = []
        for arg in get_args(annotation):
            for member in get_args(plain(arg)) if get_origin(plain(arg)) in (
                    Union, types.UnionType) else [plain(arg)]:
                if member not in members:
                    members.append(member)
        return Union[tuple(members)]  # noqa: UP007 - built from a tuple at run time
    return annotation


def _type_text(annotation: Any) -> str:
    annotation = plain(annotation)
    if isinstance(annotation, type):
        return annotation.__name__
    text = str(annotation).replace("typing.", "").replace("pydantic.types.", "")
    for prefix in ("blocks.types.aws.", "blocks.types.s3.", "blocks.types.database."):
        text = text.replace(prefix, "")
    return text


def field_signature(cls: type[BaseModel]) -> inspect.Signature:
    """Keyword-only parameters, one per field (published name), with types and defaults."""
    params = [
        inspect.Parameter(
            info.alias or name, inspect.Parameter.KEYWORD_ONLY,
            default=_default_of(info), annotation=plain(info.annotation),
        )
        for name, info in cls.model_fields.items()
    ]
    return inspect.Signature(params, return_annotation=None)


def field_doc(cls: type[BaseModel], source: str | None) -> str:
    """The class docstring followed by a ``Fields:`` section built from the schema."""
    lines = [inspect.cleandoc(source) if source else cls.__name__, "", "Fields:"]
    for name, info in cls.model_fields.items():
        default = _default_of(info)
        shown = "required" if default is inspect.Parameter.empty else f"default {default!r}"
        lines.append(f"    {info.alias or name} ({_type_text(info.annotation)}, {shown}):")
        lines.append(f"        {info.description or ''}".rstrip())
    return "\n".join(lines) + methods_doc(cls)


class LazySignature:
    """A class attribute computing ``field_signature`` on first access."""

    def __get__(self, obj: object, owner: type[BaseModel]) -> inspect.Signature:
        if obj is not None:
            raise AttributeError("__signature__")
        return field_signature(owner)


def install(cls: type[BaseModel]) -> None:
    """Give a new block class its lazy signature and field docs."""
    if "__signature__" not in cls.__dict__:
        cls.__signature__ = LazySignature()  # type: ignore[assignment]
    if _DOC_SOURCE not in cls.__dict__:
        source = cls.__dict__.get("__doc__")
        setattr(cls, _DOC_SOURCE, source)
        cls.__doc__ = field_doc(cls, source)


def schema_description(schema: dict[str, Any], cls: type[Any]) -> None:
    """``json_schema_extra`` hook: the schema's description is the docstring as written."""
    source = cls.__dict__.get(_DOC_SOURCE)
    if source is None and _DOC_SOURCE not in cls.__dict__:
        return
    if source:
        schema["description"] = inspect.cleandoc(source)
    else:
        schema.pop("description", None)
