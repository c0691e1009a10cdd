"""``help(S3Bucket)`` on a screen or two: the docstring, the fields and one line per method.

pydoc lists every attribute ``dir(cls)`` names, with each docstring in full: for a block type
that is pydantic's whole ``BaseModel`` machinery, the recipe API inherited from ``Block`` and
each I/O method's async twin (822 lines for ``S3Bucket``). So a block type's class docstring
(built when the class is, see :mod:`blocks._introspect`) ends with a ``Methods:`` section, one
signature and summary line per method of the type, and the ``Block`` methods by name; and the
metaclass's ``__dir__`` leaves the public attributes out, so pydoc shows that docstring, the
signature and the base classes only. ``help(S3Bucket.read_path)``, ``help(Block)`` and
``dir(bucket)`` (an instance) are unchanged; docs/python-api.md has the full reference.
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

from pydantic._internal._model_construction import ModelMetaclass

DOC_SOURCE = "_block_doc_source"
"""The class attribute holding a block type's docstring as written (set by ``_introspect``)."""
BLOCK_METHODS = (
    "save, load, load_from_ref, delete, history, rollback, rename, block_schema, "
    "secret_paths, get_block_placeholder; async: asave, aload, aload_from_ref, adelete, "
    "ahistory, arollback; properties: block_ref, block_id, block_name, block_version, "
    "block_is_modified, rotation"
)
_WIDTH = 96


class BlockType(ModelMetaclass):
    """The metaclass of :class:`~blocks.core.Block`: a block type's ``dir()`` keeps only its
    private names and its slug, so pydoc renders its docstring (which lists the fields and
    methods) instead of every inherited member. ``Block`` itself keeps the full ``dir()``."""

    def __dir__(cls) -> list[str]:
        names = super().__dir__()
        if DOC_SOURCE not in cls.__dict__:
            return list(names)
        return sorted(n for n in names if (n.startswith("_") and not n.endswith("__"))
                      or n in ("block_type_slug", "block_schema_version"))


def own_methods(cls: type[Any]) -> list[tuple[str, Any]]:
    """The public methods a block type defines (not ``Block``'s, not pydantic's, no async
    twins whose sync method is listed), in definition order."""
    # The block classes of the MRO, ``Block`` first: the classes whose metaclass is this one.
    block_classes = [k for k in reversed(cls.__mro__) if isinstance(k, BlockType)]
    found: dict[str, Any] = {}
    for klass in block_classes[1:]:  # not ``Block`` itself
        for name, value in vars(klass).items():
            if name.startswith("_") or name.startswith("model_"):
                continue
            function = getattr(value, "__func__", value)
            if inspect.isfunction(function) or isinstance(value, property):
                found[name] = value
    return [(n, v) for n, v in found.items()
            if not (n.startswith("a") and n[1:] in found)]


def _signature(name: str, value: Any) -> str:
    if isinstance(value, property):
        return f"{name} (property)"
    function = getattr(value, "__func__", value)
    try:
        params = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return f"{name}(...)"
    if params and params[0].name in ("self", "cls"):
        params = params[1:]
    shown = []
    for p in params:
        stars: dict[Any, str] = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}
        text = stars.get(p.kind, "") + p.name
        if p.default is not p.empty:
            text += f"={p.default!r}" if len(repr(p.default)) <= 20 else "=..."
        shown.append(text)
    return f"{name}({', '.join(shown)})"


def _summary(value: Any) -> str:
    doc = inspect.getdoc(getattr(value, "fget", None) or value) or ""
    first = doc.strip().split("\n\n")[0].replace("\n", " ")
    return first if len(first) <= _WIDTH - 8 else first[: _WIDTH - 11].rstrip() + "..."


def methods_doc(cls: type[Any]) -> str:
    """The ``Methods:`` section of a block type's docstring."""
    lines = []
    methods = own_methods(cls)
    if methods:
        lines += ["", "Methods:"]
        for name, value in methods:
            lines.append(f"    {_signature(name, value)}")
            summary = _summary(value)
            if summary:
                lines.append(f"        {summary}")
        twins = [n for n, _ in methods if f"a{n}" in vars(cls) or any(
            f"a{n}" in vars(k) for k in cls.__mro__)]
        if twins:
            lines += textwrap.wrap(
                f"Each of {', '.join(twins[:3])}{', ...' if len(twins) > 3 else ''} has an async "
                f"twin named with an ``a`` prefix (``a{twins[0]}``).",
                _WIDTH, initial_indent="    ", subsequent_indent="    ")
    lines += ["", "Block methods (help(Block.save) and the others for details):"]
    lines += textwrap.wrap(BLOCK_METHODS, _WIDTH, initial_indent="    ",
                           subsequent_indent="    ")
    return "\n" + "\n".join(lines)
