"""The "copy as" panel: a saved block as Python, ``blocks save`` JSON and Terraform HCL.

Built from the block's display document (secrets as ``********``, nested saved blocks as
``{"$ref": "slug/name"}``), so no secret value can reach the text: each secret becomes a name
the reader fills in -- ``os.environ["CREDENTIALS_AWS_SECRET_ACCESS_KEY"]`` in Python,
``"${CREDENTIALS_AWS_SECRET_ACCESS_KEY}"`` in the JSON (for ``envsubst``), and in Terraform a
``var.`` reference with its ``variable`` block (``sensitive = true``). Fields at their
defaults are left out.

Terraform: a typed resource ``blocks_<slug>`` (one per block type, plug-ins included), whose
attributes follow the provider's mapping (scalars, lists of scalars, nested models as objects,
a nested block as the referenced block's id, anything else as ``jsonencode(...)``). A block
that embeds an unsaved nested block cannot be written as a typed resource (those fields take
an id), so it is written as the generic ``blocks_block`` with ``data = jsonencode({...})``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import blocks
from blocks import catalog
from blocks.codec import MASK, to_display
from blocks.core import Block
from blocks.server.ui.forms import REF_KEY, SCALARS, Spec, TypeForm, type_form

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")


@dataclass(frozen=True)
class _Secret:
    path: str

    @property
    def env(self) -> str:
        return _NOT_WORD.sub("_", self.path).strip("_").upper()


@dataclass(frozen=True)
class _Load:
    slug: str
    name: str


@dataclass(frozen=True)
class _New:
    cls: type[Block]
    fields: dict[str, Any]


@dataclass(frozen=True)
class CopyAs:
    """The three texts of the panel."""

    python: str
    json: str
    json_command: str
    terraform: str


def copy_as(block: Block, display: Mapping[str, Any], ref: str) -> CopyAs:
    """The panel's texts for the block ``ref`` (``slug/name``) whose display document (secrets
    masked, references by name) is ``display``."""
    cls = type(block)
    form = type_form(cls)
    slug, _, name = ref.partition("/")
    fields = _fields(form.root, display, "", _defaults(cls))
    document = _plain(fields)
    text = json.dumps(document, indent=2, ensure_ascii=False)
    command = f"envsubst < {slug}-{name}.json | blocks save {ref} --file - --overwrite"
    return CopyAs(_python(cls, form, fields, name), text, command,
                  _terraform(form, fields, slug, name))


# -- the values, secrets replaced and defaults left out -----------------------------------------


def _defaults(cls: type[Block]) -> dict[str, Any]:
    """JSON defaults of the fields, factory ones included (``aws_client_parameters``)."""
    out: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        value = info.get_default(call_default_factory=True)
        key = info.alias or name
        if isinstance(value, Block):
            out[key] = to_display(value)
        elif hasattr(value, "model_dump"):
            out[key] = value.model_dump(mode="json", by_alias=True)
        else:
            try:
                out[key] = json.loads(json.dumps(value))
            except (TypeError, ValueError):
                continue
    return out


def _fields(spec: Spec, value: Mapping[str, Any], path: str,
            defaults: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for prop in spec.properties:
        if prop.name not in value:
            continue
        item = value[prop.name]
        default = defaults.get(prop.name, prop.spec.default)
        if not prop.required and (prop.name in defaults or prop.spec.has_default) \
                and item == default:
            continue
        if item is None and not prop.required:
            continue
        sub = f"{path}.{prop.name}" if path else prop.name
        shown = _value(prop.spec, item, sub)
        if shown == {} and not prop.required and prop.spec.kind == "object":
            continue  # a nested model with every field at its default
        out[prop.name] = shown
    return out


def _value(spec: Spec, value: Any, path: str) -> Any:
    if value == MASK:
        return _Secret(path)
    if isinstance(value, Mapping) and REF_KEY in value:
        slug, _, name = str(value[REF_KEY]).partition("/")
        return _Load(slug, name)
    if spec.kind == "union" and isinstance(value, Mapping):
        member = next((m.spec for m in spec.members if m.spec.kind == "object"
                       and set(value) <= {p.name for p in m.spec.properties}), None)
        if member is not None:
            return _value(member, value, path)
    if spec.kind == "object" and isinstance(value, Mapping):
        if spec.block_slug is not None and path:
            cls = catalog.get(spec.block_slug)
            return _New(cls, _fields(spec, value, path, _defaults(cls)))
        return _fields(spec, value, path, {})
    if isinstance(value, Mapping):
        return {k: _value(spec.item or Spec("json"), v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_value(spec.item or Spec("json"), v, f"{path}.{i}") for i, v in enumerate(value)]
    return value


def _plain(value: Any) -> Any:
    """The values as a ``blocks save`` document: secrets as ``${NAME}``, references by name."""
    if isinstance(value, _Secret):
        return "${" + value.env + "}"
    if isinstance(value, _Load):
        return {REF_KEY: f"{value.slug}/{value.name}"}
    if isinstance(value, _New):
        return _plain(value.fields)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _secrets(value: Any) -> list[_Secret]:
    if isinstance(value, _Secret):
        return [value]
    if isinstance(value, _New):
        return _secrets(value.fields)
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _secrets(v)]
    if isinstance(value, list):
        return [s for v in value for s in _secrets(v)]
    return []


# -- Python -------------------------------------------------------------------------------------


def _python(cls: type[Block], form: TypeForm, fields: dict[str, Any], name: str) -> str:
    classes: set[type[Block]] = {cls}
    body = _py_call(cls, fields, classes, 0, form.aliases)
    lines = []
    if _secrets(fields):
        lines += ["import os", ""]
    lines += _imports(classes)
    lines += ["", f"{body}.save({json.dumps(name)}, overwrite=True)"]
    return "\n".join(lines) + "\n"


def _imports(classes: set[type[Block]]) -> list[str]:
    by_module: dict[str, set[str]] = {}
    for cls in classes:
        module = "blocks" if cls.__name__ in blocks.__all__ else cls.__module__
        by_module.setdefault(module, set()).add(cls.__name__)
    return [f"from {module} import {', '.join(sorted(names))}"
            for module, names in sorted(by_module.items())]


def _py_call(cls: type[Block], fields: Mapping[str, Any], classes: set[type[Block]],
             depth: int, aliases: Mapping[str, str]) -> str:
    if not fields:
        return f"{cls.__name__}()"
    pad = "    " * (depth + 1)
    args = [f"{pad}{aliases.get(k, k)}={_py(v, classes, depth + 1)}," for k, v in fields.items()]
    return f"{cls.__name__}(\n" + "\n".join(args) + "\n" + "    " * depth + ")"


def _py(value: Any, classes: set[type[Block]], depth: int) -> str:
    if isinstance(value, _Secret):
        return f"os.environ[{json.dumps(value.env)}]"
    if isinstance(value, _Load):
        target = catalog.get(value.slug)
        classes.add(target)
        return f"{target.__name__}.load({json.dumps(value.name)})"
    if isinstance(value, _New):
        classes.add(value.cls)
        aliases = {(f.alias or n): n for n, f in value.cls.model_fields.items()}
        return _py_call(value.cls, value.fields, classes, depth, aliases)
    if isinstance(value, Mapping):
        items = ", ".join(f"{json.dumps(k)}: {_py(v, classes, depth)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_py(v, classes, depth) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


# -- Terraform ----------------------------------------------------------------------------------


def _terraform(form: TypeForm, fields: dict[str, Any], slug: str, name: str) -> str:
    label = _NOT_WORD.sub("_", name).strip("_") or "block"
    if not _IDENT.match(label):
        label = f"b_{label}"
    secrets = _secrets(fields)
    variables = [
        f'variable "{label}_{s.env.lower()}" {{\n  type      = string\n'
        f'  sensitive = true\n}}\n' for s in secrets]
    embedded = any(isinstance(v, _New) for v in fields.values())
    hcl = _Hcl(label)
    if slug == "secret":
        body = [("name", hcl.value(name))]
        body += [("value", hcl.value(v)) for v in fields.values()]
        resource = "blocks_secret"
    elif embedded:
        resource = "blocks_block"
        body = [("type", hcl.value(slug)), ("name", hcl.value(name)),
                ("data", f"jsonencode({hcl.value(fields, 1)})")]
    else:
        resource = f"blocks_{slug.replace('-', '_')}"
        body = [("name", hcl.value(name))]
        props = {p.name: p.spec for p in form.root.properties}
        for key, value in fields.items():
            body.append((_hcl_key(key), hcl.attribute(props[key], value)))
    width = max(len(k) for k, _ in body)
    lines = [f"  {k.ljust(width)} = {v}" for k, v in body]
    return "\n".join([*variables, f'resource "{resource}" "{label}" {{', *lines, "}"]) + "\n"


class _Hcl:
    def __init__(self, label: str) -> None:
        self.label = label

    def attribute(self, spec: Spec, value: Any) -> str:
        """An attribute of a typed resource, as the provider types it."""
        if isinstance(value, _Load):
            return (f"{self.value(f'{value.slug}/{value.name}')} # or "
                    f"blocks_{value.slug.replace('-', '_')}.<label>.id")
        if spec.kind in SCALARS or isinstance(value, _Secret):
            return self.value(value)
        if spec.kind == "object":
            return self.value(value, 1)
        if spec.kind == "list" and spec.item is not None and spec.item.kind in SCALARS:
            return self.value(value)
        return f"jsonencode({self.value(value, 1)})"

    def value(self, value: Any, depth: int = 1) -> str:
        if isinstance(value, _Secret):
            return f"var.{self.label}_{value.env.lower()}"
        if isinstance(value, _Load):
            return "{ " + f'"{REF_KEY}" = ' + self.value(f"{value.slug}/{value.name}") + " }"
        if isinstance(value, _New):
            return self.value(value.fields, depth)
        if isinstance(value, Mapping):
            if not value:
                return "{}"
            pad = "  " * (depth + 1)
            width = max(len(_hcl_key(str(k))) for k in value)
            rows = [f"{pad}{_hcl_key(str(k)).ljust(width)} = {self.value(v, depth + 1)}"
                    for k, v in value.items()]
            return "{\n" + "\n".join(rows) + "\n" + "  " * depth + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self.value(v, depth) for v in value) + "]"
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return "null"
        if isinstance(value, str):
            return _hcl_string(value)
        return json.dumps(value)


def _hcl_key(key: str) -> str:
    return key if _IDENT.match(key) else _hcl_string(key)


def _hcl_string(text: str) -> str:
    escaped = json.dumps(text, ensure_ascii=False)[1:-1]
    # Terraform reads ${ and %{ in a string as a template; doubled, they are literal.
    return '"' + escaped.replace("${", "$${").replace("%{", "%%{") + '"'
