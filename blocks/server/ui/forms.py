"""A block type's form, read from its JSON Schema: one :class:`Spec` per field, for every type.

The schema is what every type publishes, built-in or plug-in (``Block.block_schema()``), so the
form needs no per-type code. Each node of the tree is one :class:`Spec`:

* ``string`` / ``number`` / ``integer`` / ``boolean``: an input (``enum``: a select);
* ``json``: free JSON (``JsonValue``, or a shape no other kind describes): a text area;
* ``object``: a nested model with fixed fields (a fieldset);
* ``dict``: ``additionalProperties`` rows of key and value;
* ``list``: rows of ``items``;
* ``union``: ``anyOf`` members, one chosen at a time (a member selector);
* ``ref``: a saved block of one of ``slugs`` (a picker), stored as ``{"$ref": "slug/name"}``,
  the form :meth:`blocks.registry.Registry.parse` resolves.

A nested block field (``S3Bucket.credentials``) is a ``union`` whose first member is the ``ref``
picker and whose other members embed a new block of each allowed type. Secrets are the leaves
the schema marks ``writeOnly`` (``SecretStr``, ``SecretBytes``, ``Secret[...]``) or that the
type's secret paths name (``SecretDict`` values).

Paths: a node's ``path`` is its JSON path in dots (``credentials.aws_access_key_id``,
``tags.0``), as :class:`~blocks.errors.ValidationError` names fields; form names write list
and dict rows with brackets (``tags[0]``, ``query[0].key``), see :mod:`.forms_parse`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from blocks import catalog
from blocks._compat import bytes_fields
from blocks.core import Block

SCALARS = ("string", "number", "integer", "boolean")
REF_KEY = "$ref"


@dataclass
class Spec:
    """One node of a type's form (see the module docstring for the kinds)."""

    kind: str
    title: str = ""
    description: str = ""
    secret: bool = False
    bytes: bool = False
    nullable: bool = False
    has_default: bool = False
    default: Any = None
    enum: list[Any] | None = None
    minimum: float | None = None
    maximum: float | None = None
    properties: list[Prop] = field(default_factory=list)
    item: Spec | None = None
    members: list[Member] = field(default_factory=list)
    slugs: list[str] = field(default_factory=list)
    block_slug: str | None = None
    """The block type an ``object`` node is (a new nested block embedded), if it is one."""


@dataclass
class Prop:
    """A property of an ``object`` node: its JSON name, whether it is required, its spec."""

    name: str
    required: bool
    spec: Spec


@dataclass
class Member:
    """One choice of a ``union`` node."""

    label: str
    spec: Spec


@dataclass(frozen=True)
class TypeForm:
    """The form of one block type: its slug, title, description and root ``object`` spec."""

    slug: str
    title: str
    description: str
    root: Spec
    aliases: dict[str, str]
    """JSON property name -> Python field name, for fields whose names differ."""


_cache: dict[tuple[str, str], TypeForm] = {}
_lock = threading.Lock()


def type_form(cls: type[Block]) -> TypeForm:
    """The form of ``cls`` (cached per type and schema checksum)."""
    schema = cls.block_schema()
    key = (schema["slug"], schema["checksum"])
    with _lock:
        found = _cache.get(key)
    if found is not None:
        return found
    built = _Builder(cls, schema).build()
    with _lock:
        _cache[key] = built
    return built


class _Builder:
    def __init__(self, cls: type[Block], schema: dict[str, Any]) -> None:
        self.cls = cls
        self.schema = schema
        self.json_schema: dict[str, Any] = schema["json_schema"]
        self.defs: dict[str, Any] = self.json_schema.get("$defs", {})
        self.secret_paths: list[str] = list(schema.get("secret_fields", []))
        self.refs: dict[str, list[str]] = dict(schema.get("block_references", {}))

    def build(self) -> TypeForm:
        aliases = {(f.alias or n): n for n, f in self.cls.model_fields.items()
                   if f.alias and f.alias != n}
        root = self.obj(self.json_schema, "", self.cls)
        root.block_slug = self.cls.block_type_slug
        return TypeForm(self.cls.block_type_slug, self.schema["title"],
                        self.schema["description"], root, aliases)

    def obj(self, node: dict[str, Any], path: str, model: type[Any] | None) -> Spec:
        required = set(node.get("required", []))
        as_bytes = set(bytes_fields(model)) if model is not None else set()
        spec = Spec("object", title=node.get("title", ""),
                    description=_text(node.get("description")))
        for name, prop in node.get("properties", {}).items():
            sub = f"{path}.{name}" if path else name
            field_name = name
            if model is not None and path == "":
                field_name = next((n for n, f in model.model_fields.items()
                                   if (f.alias or n) == name), name)
            slugs = self.refs.get(field_name) if path == "" else None
            child = self.block_field(prop, sub, slugs) if slugs else self.node(prop, sub)
            child.bytes = child.secret and name in as_bytes
            child.title = str(prop.get("title") or name.replace("_", " ").capitalize())
            spec.properties.append(Prop(name, name in required, child))
        return spec

    def node(self, prop: dict[str, Any], path: str) -> Spec:
        outer = prop
        prop = self.deref(prop)
        options = prop.get("anyOf")
        types = prop.get("type")
        if isinstance(types, list):  # {"type": ["string", "null"]}
            options = [{**prop, "type": t} for t in types]
        if options is not None:
            real = [o for o in options if o.get("type") != "null"]
            nullable = len(real) < len(options)
            if len(real) == 1:
                spec = self.node(real[0], path)
            else:
                spec = Spec("union", members=[
                    Member(_member_label(self.deref(o)), self.node(o, path)) for o in real])
            spec.nullable = spec.nullable or nullable
        else:
            spec = self.single(prop, path)
        self.annotate(spec, outer, prop, path)
        return spec

    def single(self, prop: dict[str, Any], path: str) -> Spec:
        kind = prop.get("type")
        if kind in SCALARS:
            spec = Spec(str(kind))
            if "enum" in prop:
                spec.enum = list(prop["enum"])
            elif "const" in prop:
                spec.enum = [prop["const"]]
            spec.minimum = prop.get("minimum", prop.get("exclusiveMinimum"))
            spec.maximum = prop.get("maximum", prop.get("exclusiveMaximum"))
            return spec
        if kind == "array" and isinstance(prop.get("items"), dict):
            return Spec("list", item=self.node(prop["items"], f"{path}.*"))
        if kind == "object" and prop.get("properties"):
            model = self.model_of(prop)
            spec = self.obj(prop, path, model)
            spec.block_slug = model.block_type_slug if model is not None else None
            return spec
        if kind == "object" and isinstance(prop.get("additionalProperties"), dict):
            return Spec("dict", item=self.node(prop["additionalProperties"], f"{path}.*"))
        return Spec("json")

    def block_field(self, prop: dict[str, Any], path: str, slugs: list[str]) -> Spec:
        """A nested block field: a saved block of ``slugs``, or a new one embedded."""
        inner = self.node(prop, path)
        embedded = inner.members if inner.kind == "union" else [Member("", inner)]
        members = [Member("A saved block", Spec("ref", slugs=list(slugs)))]
        for member in embedded:
            spec = member.spec
            slug = spec.block_slug or (slugs[0] if len(slugs) == 1 else None)
            spec.block_slug = slug
            label = catalog.get(slug).__name__ if slug else (member.label or spec.title)
            members.append(Member(f"A new {label}, stored inside this block", spec))
        out = Spec("union", members=members, nullable=inner.nullable, slugs=list(slugs))
        self.annotate(out, prop, self.deref(prop), path)
        return out

    def annotate(self, spec: Spec, outer: dict[str, Any], prop: dict[str, Any],
                 path: str) -> None:
        notes = {**_notes(prop), **_notes(outer)}
        spec.title = notes.get("title") or spec.title or path.rsplit(".", 1)[-1]
        spec.description = _text(notes.get("description")) or spec.description
        if "default" in notes:
            spec.has_default, spec.default = True, notes["default"]
        if spec.kind in (*SCALARS, "json"):
            spec.secret = spec.secret or bool(
                prop.get("writeOnly") or prop.get("format") == "password"
                or outer.get("writeOnly") or _covered(self.secret_paths, path))

    def deref(self, prop: dict[str, Any]) -> dict[str, Any]:
        ref = prop.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            target = dict(self.defs.get(name, {}))
            return {**target, **{k: v for k, v in prop.items() if k != "$ref"}, "x-def": name}
        return prop

    def model_of(self, prop: dict[str, Any]) -> type[Any] | None:
        """The block class an object schema is (by title), for its bytes fields and slug."""
        names = {prop.get("x-def"), prop.get("title")} - {None}
        for slug in {s for slugs in self.refs.values() for s in slugs}:
            cls = catalog.get(slug)
            if cls.__name__ in names:
                return cls
        return None


def _notes(prop: dict[str, Any]) -> dict[str, Any]:
    return {k: prop[k] for k in ("title", "description", "default") if k in prop}


def _text(value: Any) -> str:
    """A schema description for a form: its first paragraph (docstrings carry examples)."""
    return str(value or "").strip().split("\n\n")[0].replace("\n", " ")


def _member_label(option: dict[str, Any]) -> str:
    if option.get("writeOnly") or option.get("format") == "password":
        return "secret text"
    if option.get("title"):
        return str(option["title"])
    return {"string": "text", "boolean": "true or false", "integer": "whole number",
            "number": "number", "array": "list", "object": "JSON object"}.get(
        str(option.get("type")), "JSON value")


def _covered(secret_paths: list[str], path: str) -> bool:
    """Whether a secret path (``*`` for any key or item) names ``path`` (the schema marks
    the other secrets ``writeOnly``; a path naming a union holds for its secret member only)."""
    parts = path.split(".")
    for secret in secret_paths:
        pattern = secret.split(".")
        if len(pattern) == len(parts) and all(
                p in ("*", q) for p, q in zip(pattern, parts, strict=False)):
            return True
    return False
