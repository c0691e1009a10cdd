"""Posted form data -> the block's JSON document, typed by the type's form (:mod:`.forms`).

Form names follow the JSON path: ``bucket_name``, ``credentials.aws_access_key_id``; a list's
rows are ``tags[0]``, ``tags[1]`` (objects: ``rules[0].port``) and a dict's rows
``query[0].key`` / ``query[0].value``. Controls that are not values end in ``:``:
``credentials:member`` (which member of a union is chosen: its index, ``""`` for unset),
``value:json`` (a secret's text is JSON), ``password:clear`` (unset a stored secret),
``rules[1]:from`` (the stored row a list row was drawn from), ``query[1]:from`` (the stored
key a dict row was drawn from).

An empty input means "unset": the key is left out, so the field takes its default (a required
field is then refused by the registry, at its path). Rows left empty are dropped. A secret left
empty on an edit keeps the value stored at the same path (``stored``: the version the form
showed), which never goes to the browser; a list row's stored path is the row it was drawn
from, so removing a row does not hand its secret to the next one, and a dict row's is the key
it was drawn from, so renaming a key keeps its secret. A dict row whose secret is left empty
and that has no stored value (a row added) is an error at its path, never an empty secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from blocks import codec
from blocks.errors import ValidationError
from blocks.server.ui.forms import REF_KEY, Spec

_ROW = re.compile(r"^\[(\d+)\]")
_UNSET = object()
MAX_ROWS = 500
"""Most rows one list or dict of a form may post (a bound on work per request)."""
Src = tuple[str, ...] | None
"""Where a value is in the stored document: its keys and indexes (a dict key may hold a dot);
``None``: it has no stored value (a row added, or a new block)."""


@dataclass
class Parsed:
    """The document a form describes, and what to show again if it is refused."""

    document: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)
    """Field path (dots) -> problems found before the registry saw the document."""
    raw: dict[str, str] = field(default_factory=dict)
    """Field path -> text that could not be read (not secrets), to show it again."""
    choices: dict[str, int | None] = field(default_factory=dict)
    """Union path -> chosen member (``None``: unset)."""
    kept: list[str] = field(default_factory=list)
    """Secret paths whose stored value was kept."""
    typed_secrets: list[str] = field(default_factory=list)
    """Secret paths given a new value (not shown again when the form is refused)."""
    origins: dict[str, str] = field(default_factory=dict)
    """List or dict row path -> the index or key of the stored row it was drawn from (drawn
    again)."""
    stored: list[str] = field(default_factory=list)
    """Secret paths that have a stored value, kept or not (drawn again as stored: left
    empty, the next save keeps it)."""


def parse(root: Spec, form: Mapping[str, str], stored: Mapping[str, Any] | None = None
          ) -> Parsed:
    """The document of ``form`` (one value per name) for the type whose form is ``root``.

    Args:
        root: the type's root spec (:func:`blocks.server.ui.forms.type_form`).
        form: the posted fields, one value per name.
        stored: on an edit, the shown version's document with secrets in clear and nested
            saved blocks as ``{"$ref": "slug/name"}``; secrets left empty keep its values.
    """
    reader = _Reader(form, stored, Parsed({}))
    value = reader.obj(root, "", "", (), force=True)
    reader.out.document = value if isinstance(value, dict) else {}
    return reader.out


class _Reader:
    def __init__(self, form: Mapping[str, str], stored: Mapping[str, Any] | None,
                 out: Parsed) -> None:
        self.form = form
        self.stored = stored
        self.out = out

    def error(self, path: str, message: str) -> None:
        self.out.errors.setdefault(path, []).append(message)

    def value(self, spec: Spec, name: str, path: str, src: Src) -> Any:
        """The value at ``name`` (``_UNSET`` when left empty); ``src`` is where the same
        value is in the stored document (``None``: it has none, e.g. a row added)."""
        if spec.kind == "object":
            return self.obj(spec, name, path, src, force=False)
        if spec.kind == "union":
            return self.union(spec, name, path, src)
        if spec.kind == "list":
            return self.list(spec, name, path, src)
        if spec.kind == "dict":
            return self.dict(spec, name, path, src)
        if spec.kind == "ref":
            return self.ref(spec, name, path)
        return self.scalar(spec, name, path, src)

    def obj(self, spec: Spec, name: str, path: str, src: Src, *, force: bool) -> Any:
        out: dict[str, Any] = {}
        meaningful = False
        for prop in spec.properties:
            sub_name = f"{name}.{prop.name}" if name else prop.name
            sub_path = f"{path}.{prop.name}" if path else prop.name
            item = self.value(prop.spec, sub_name, sub_path, _join(src, prop.name))
            if item is _UNSET:
                continue
            out[prop.name] = item
            # A checkbox always posts; at its default it does not make a row "filled in".
            if not (prop.spec.kind == "boolean" and item == prop.spec.default):
                meaningful = True
        return out if (meaningful or force) else _UNSET

    def union(self, spec: Spec, name: str, path: str, src: Src) -> Any:
        chosen = self.form.get(f"{name}:member", "")
        if chosen == "":
            self.out.choices[path] = None
            return _UNSET
        try:
            index = int(chosen)
            member = spec.members[index]
        except (ValueError, IndexError):
            self.error(path, "choose one of the listed kinds")
            return _UNSET
        self.out.choices[path] = index
        if member.spec.kind == "object":
            return self.obj(member.spec, name, path, src, force=True)
        value = self.value(member.spec, name, path, src)
        if value is _UNSET and member.spec.kind not in ("ref",):
            self.error(path, "enter a value, or choose another kind")
        return value

    def rows(self, name: str) -> list[int]:
        found: set[int] = set()
        prefix = len(name)
        for key in self.form:
            if key.startswith(name) and (match := _ROW.match(key[prefix:])):
                found.add(int(match.group(1)))
        if len(found) > MAX_ROWS:
            raise ValidationError("", [(name, f"more than {MAX_ROWS} rows")])
        return sorted(found)

    def list(self, spec: Spec, name: str, path: str, src: Src) -> Any:
        assert spec.item is not None
        out: list[Any] = []
        for row in self.rows(name):
            # A row drawn from the stored version says which stored row it is: rows removed
            # or added above it must not move a stored secret to another row.
            origin = self.form.get(f"{name}[{row}]:from", "")
            row_src = _join(src, origin) if origin.isdigit() else None
            row_path = f"{path}.{len(out)}"
            item = self.value(spec.item, f"{name}[{row}]", row_path, row_src)
            if item is not _UNSET:
                out.append(item)
                if origin.isdigit():
                    self.out.origins[row_path] = origin
        return out if out else _UNSET

    def dict(self, spec: Spec, name: str, path: str, src: Src) -> Any:
        assert spec.item is not None
        out: dict[str, Any] = {}
        stored = _at(self.stored, src) if self.stored is not None and src is not None \
            else _UNSET
        for row in self.rows(name):
            key = self.form.get(f"{name}[{row}].key", "")
            # A row drawn from the stored version names its stored key: renamed, it keeps
            # its stored secret (a row added has none, even if it takes a removed row's key).
            origin = self.form.get(f"{name}[{row}]:from", "")
            drawn = isinstance(stored, Mapping) and origin in stored
            value_name = f"{name}[{row}].value"
            value = self.value(spec.item, value_name, f"{path}.{key}",
                               _join(src, origin) if drawn else None)
            if not key:
                if value is not _UNSET:
                    self.error(f"{path}.{row}", "give this row a key, or empty it")
                continue
            if key in out:
                self.error(f"{path}.{key}", f"the key {key!r} is given twice")
            if drawn:
                self.out.origins[f"{path}.{key}"] = origin
            if (value is _UNSET and spec.item.secret
                    and self.form.get(f"{value_name}:clear") != "true"):
                self.error(f"{path}.{key}", "type this entry's secret value (only an entry "
                           "already saved keeps its stored value when left empty)")
            out[key] = None if value is _UNSET else value
        return out if out else _UNSET

    def ref(self, spec: Spec, name: str, path: str) -> Any:
        chosen = self.form.get(f"{name}.{REF_KEY}", "")
        if not chosen:
            self.error(path, "choose a saved block")
            return _UNSET
        if chosen.partition("/")[0] not in spec.slugs:
            self.error(path, f"must be a saved block of type {', '.join(spec.slugs)}")
            return _UNSET
        return {REF_KEY: chosen}

    def scalar(self, spec: Spec, name: str, path: str, src: Src) -> Any:
        if spec.secret:
            return self.secret(spec, name, path, src)
        text = self.form.get(name)
        if spec.kind == "boolean" and not spec.nullable and not spec.enum:
            return text == "true"
        if text is None or text == "":
            return _UNSET
        return self.typed(spec, text, path)

    def typed(self, spec: Spec, text: str, path: str) -> Any:
        if spec.enum is not None:
            for option in spec.enum:
                if text == option_text(option):
                    return option
            self.error(path, "choose one of the listed values")
            return _UNSET
        if spec.kind == "boolean":
            if text in ("true", "false"):
                return text == "true"
            self.error(path, "choose true or false")
            return _UNSET
        if spec.kind in ("integer", "number"):
            try:
                return int(text) if spec.kind == "integer" else _number(text)
            except ValueError:
                self.out.raw[path] = text
                whole = "a whole number" if spec.kind == "integer" else "a number"
                self.error(path, f"must be {whole}, e.g. 42")
                return _UNSET
        if spec.kind == "json":
            try:
                return codec.parse_json(text, source="this value")
            except ValidationError as exc:
                self.out.raw[path] = text
                self.error(path, exc.errors[0][1] if exc.errors else "is not valid JSON")
                return _UNSET
        return text

    def secret(self, spec: Spec, name: str, path: str, src: Src) -> Any:
        stored = self.stored_secret(spec, src)
        if stored is not _UNSET:
            self.out.stored.append(path)
        text = self.form.get(name, "")
        if text:
            self.out.typed_secrets.append(path)
            if spec.kind == "json" and self.form.get(f"{name}:json") == "true":
                try:
                    return codec.parse_json(text, source="this secret")
                except ValidationError:
                    self.error(path, "is not valid JSON (untick 'JSON' to save it as text)")
                    return _UNSET
            if spec.kind in ("integer", "number", "boolean") or spec.enum is not None:
                value = self.typed(spec, text, path)
                self.out.raw.pop(path, None)  # a secret is never shown again
                return value
            return text
        if self.form.get(f"{name}:clear") == "true" or stored is _UNSET:
            return _UNSET
        self.out.kept.append(path)
        return {"base64": stored} if spec.bytes else stored

    def stored_secret(self, spec: Spec, src: Src) -> Any:
        """The stored value of a secret at ``src`` (``_UNSET``: it has none)."""
        if self.stored is None or src is None:
            return _UNSET
        stored = _at(self.stored, src)
        if stored is _UNSET or stored is None or stored == codec.MASK:
            return _UNSET
        if spec.kind == "string" and not isinstance(stored, str):
            return _UNSET  # another union member was stored at this path
        return stored


def _join(src: Src, part: str) -> Src:
    return None if src is None else (*src, part)


def _at(document: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = document
    for part in path:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _UNSET
    return value


def _number(text: str) -> int | float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() \
        else value


def option_text(value: Any) -> str:
    """How an enum value is written in a select's ``value``."""
    return value if isinstance(value, str) else json.dumps(value)
