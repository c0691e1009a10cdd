"""What ``help(S3Bucket)`` and ``inspect.signature(S3Bucket)`` show: the fields.

Block types defer building their validators until first use (``defer_build``), and pydantic
sets a model's ``__signature__`` only when it builds it, so until then ``inspect`` fell back to
``Block.__init__(**data)``. Each block class gets a lazy ``__signature__`` computed from its
fields, and a ``__doc__`` that appends one line per field (type, default, description). The JSON
Schema keeps the class's own docstring as its description (see :func:`schema_description`).
"""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

_DOC_SOURCE = "_block_doc_source"


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


def _type_text(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("pydantic.types.", "")


def field_signature(cls: type[BaseModel]) -> inspect.Signature:
    """Keyword-only parameters, one per field (published name), with types and defaults."""
    params = [
        inspect.Parameter(
            info.alias or name, inspect.Parameter.KEYWORD_ONLY,
            default=_default_of(info), annotation=info.annotation,
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
    return "\n".join(lines)


class LazySignature:
    """A class attribute computing ``field_signature`` on first access."""

    def __get__(self, obj: object, owner: type[BaseModel]) -> inspect.Signature:
        if obj is not None:
            raise AttributeError("__signature__")
        return field_signature(owner)


class LazyDoc:
    """A class ``__doc__`` computing ``field_doc`` on first access (``type`` calls it)."""

    def __init__(self, source: str | None) -> None:
        self.source = source

    def __get__(self, obj: object, owner: type[BaseModel]) -> str:
        return field_doc(owner, self.source)


def install(cls: type[BaseModel]) -> None:
    """Give a new block class its lazy signature and field docs."""
    if "__signature__" not in cls.__dict__:
        cls.__signature__ = LazySignature()  # type: ignore[assignment]
    source = cls.__dict__.get("__doc__")
    if not isinstance(source, LazyDoc):
        setattr(cls, _DOC_SOURCE, source)
        cls.__doc__ = LazyDoc(source)  # type: ignore[assignment]


def schema_description(schema: dict[str, Any], cls: type[Any]) -> None:
    """``json_schema_extra`` hook: the schema's description is the docstring as written."""
    source = cls.__dict__.get(_DOC_SOURCE)
    if source is None and _DOC_SOURCE not in cls.__dict__:
        return
    if source:
        schema["description"] = inspect.cleandoc(source)
    else:
        schema.pop("description", None)
