"""A type's form (:mod:`.forms`) with values and errors: the :class:`Field` tree a template draws.

Values come from a display document: the stored version with every secret as ``********``
(an edit), or what the user typed, the secrets left out (a refused save). A secret input is
always empty; ``stored`` says a value is kept when it is left empty. Errors are placed at the
field of their path (``credentials.aws_access_key_id``); one no field shows (a member tag of
a union, a path the form does not have) goes to the nearest field above, else to the form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from blocks.codec import MASK
from blocks.server.ui.forms import REF_KEY, Spec
from blocks.server.ui.forms_parse import option_text

EXTRA_ROWS = 2
"""Empty rows drawn below a list's or dict's values, so that rows can be added without
JavaScript (with it, "Add a row" adds more)."""
_ID = re.compile(r"[^A-Za-z0-9_-]")


@dataclass
class Option:
    value: str
    label: str
    selected: bool = False


@dataclass
class Field:
    """One drawn field: ``widget`` is what the template draws (see ``forms/fields.html``)."""

    widget: str
    name: str
    path: str
    id: str
    label: str
    description: str = ""
    required: bool = False
    value: str = ""
    checked: bool = False
    input_type: str = "text"
    step: str = ""
    minimum: str = ""
    maximum: str = ""
    options: list[Option] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    """object: its fields; list: one per row; dict: key and value per row, in pairs."""
    members: list[Field] = field(default_factory=list)
    """union: one fieldset per member (``label``), ``selected`` on the chosen one."""
    selected: bool = False
    row_template: Field | None = None
    row_token: str = ""
    errors: list[str] = field(default_factory=list)
    stored: bool = False
    secret_json: bool = False
    clearable: bool = False
    hint: str = ""
    origin: str = ""
    """A list or dict row drawn from the stored version: that row's index or key (posted as
    ``:from``)."""


@dataclass
class Form:
    """The fields of one type's form, and the errors no field shows."""

    fields: list[Field]
    general: list[str]


def render(root: Spec, document: Mapping[str, Any] | None, *,
           errors: Mapping[str, list[str]] | None = None,
           raw: Mapping[str, str] | None = None,
           choices: Mapping[str, int | None] | None = None,
           stored: frozenset[str] = frozenset(),
           saved: Mapping[str, list[str]] | None = None,
           origins: Mapping[str, str] | None = None) -> Form:
    """The fields of ``root`` filled from ``document`` (secrets never shown).

    Args:
        root: the type's root spec.
        document: values to show (``None``: a new block, defaults shown).
        errors: field path -> problems.
        raw: field path -> text to show instead of the value (input that did not parse).
        choices: union path -> chosen member (else guessed from the value).
        stored: paths of secrets that have a stored value (an edit: left empty, kept;
            an optional one gets a "clear" box).
        saved: type slug -> names of the saved blocks the user may pick (block references).
        origins: list or dict row path -> the stored row it came from (a refused edit's
            :attr:`~.forms_parse.Parsed.origins`); ``None``: ``document`` is the stored one.
    """
    drawer = _Drawer(raw or {}, choices or {}, stored, saved or {}, origins)
    fields = [drawer.prop(p.name, p.name, "f-" + _ID.sub("-", p.name), p.required, p.spec,
                          (document or {}).get(p.name, _ABSENT), live=True)
              for p in root.properties]
    general = drawer.place(errors or {})
    return Form(fields, general)


_ABSENT: Any = object()


class _Drawer:
    def __init__(self, raw: Mapping[str, str], choices: Mapping[str, int | None],
                 stored: frozenset[str], saved: Mapping[str, list[str]],
                 origins: Mapping[str, str] | None) -> None:
        self.raw = raw
        self.choices = choices
        self.stored = stored
        self.saved = saved
        self.origins = origins
        self.by_path: dict[str, Field] = {}
        self.tokens = 0

    def prop(self, name: str, path: str, html_id: str, required: bool, spec: Spec,
             value: Any, *, live: bool) -> Field:
        out = self.node(name, path, html_id, spec, value, required, live=live)
        out.label = spec.title or name
        out.description = spec.description
        out.required = required
        return out

    def node(self, name: str, path: str, html_id: str, spec: Spec, value: Any,
             required: bool, *, live: bool) -> Field:
        if value is _ABSENT and spec.has_default:
            value = spec.default  # left out means the default
        out = Field(widget="input", name=name, path=path, id=html_id, label=spec.title)
        if live:  # a member not chosen shows no errors
            self.by_path.setdefault(path, out)
        if spec.kind == "object":
            out.widget = "object"
            given = value if isinstance(value, Mapping) else {}
            for prop in spec.properties:
                sub = self.prop(f"{name}.{prop.name}" if name else prop.name,
                                f"{path}.{prop.name}" if path else prop.name,
                                f"{html_id}-{_ID.sub('-', prop.name)}", prop.required,
                                prop.spec, given.get(prop.name, _ABSENT), live=live)
                out.children.append(sub)
        elif spec.kind == "union":
            self.union(out, spec, value, required, live)
        elif spec.kind in ("list", "dict"):
            self.rows(out, spec, value, live)
        elif spec.kind == "ref":
            out.widget = "select"
            out.name = f"{name}.{REF_KEY}"
            out.value = value[REF_KEY] if isinstance(value, Mapping) else ""
            refs = [f"{slug}/{n}" for slug in spec.slugs for n in self.saved.get(slug, [])]
            if out.value and out.value not in refs:
                refs.insert(0, out.value)  # the stored reference, even if the list hides it
            out.options = [Option(r, r, r == out.value) for r in refs]
            out.label = "Which saved block"
            out.hint = ("No saved block of this type yet: create one first."
                        if not refs else "")
        else:
            self.scalar(out, spec, value, required)
        return out

    def union(self, out: Field, spec: Spec, value: Any, required: bool, live: bool) -> None:
        out.widget = "union"
        chosen = self.choices.get(out.path, -1) if out.path in self.choices else _guess(
            spec, value, required)
        if not required:
            out.options.append(Option("", "Not set (the default)", chosen is None))
        for index, member in enumerate(spec.members):
            out.options.append(Option(str(index), member.label, chosen == index))
            drawn = self.node(out.name, out.path, f"{out.id}-m{index}", member.spec,
                              value if chosen == index else _ABSENT, True,
                              live=live and chosen == index)
            if member.spec.kind == "object":
                drawn.label = member.label
            elif member.spec.kind != "ref":  # one input: named after the field, as typed
                drawn.label = f"{out.label} ({member.label})"
            drawn.selected = chosen == index
            out.members.append(drawn)

    def rows(self, out: Field, spec: Spec, value: Any, live: bool) -> None:
        assert spec.item is not None
        out.widget = spec.kind
        if spec.kind == "list":
            items = list(enumerate(value)) if isinstance(value, list) else []
        else:
            items = list(enumerate(value.items())) if isinstance(value, Mapping) else []
        count = len(items)
        for row in range(count + EXTRA_ROWS):
            item = items[row][1] if row < count else _ABSENT
            out.children.append(self.row(out, spec, str(row), item, row < count, live))
        self.tokens += 1
        out.row_token = f"__ROW{self.tokens}__"
        out.row_template = self.row(out, spec, out.row_token, _ABSENT, False, False)

    def row(self, out: Field, spec: Spec, row: str, item: Any, real: bool,
            live: bool) -> Field:
        assert spec.item is not None
        name, html_id = f"{out.name}[{row}]", f"{out.id}-r{row}"
        if spec.kind == "list":
            path = f"{out.path}.{row}" if real else f"{out.path}.~{row}"
            drawn = self.node(name, path, html_id, spec.item, item, False, live=live)
            drawn.label = f"{out.label}, row {int(row) + 1}" if row.isdigit() else out.label
            if real:
                drawn.origin = row if self.origins is None else self.origins.get(path, "")
            return drawn
        key, val = item if isinstance(item, tuple) else ("", _ABSENT)
        path = f"{out.path}.{key}" if real else f"{out.path}.~{row}"
        pair = Field(widget="pair", name=name, path=path, id=html_id, label=out.label)
        if real:  # the stored key it was drawn from: renamed, it keeps its stored secret
            pair.origin = str(key) if self.origins is None else self.origins.get(path, "")
        pair.children.append(Field(widget="input", name=f"{name}.key", path=f"{path}.~key",
                                   id=f"{html_id}-key", label="Key", value=str(key)))
        drawn = self.node(f"{name}.value", path, f"{html_id}-value", spec.item, val, False,
                          live=live)
        drawn.label = "Value"
        pair.children.append(drawn)
        return pair

    def scalar(self, out: Field, spec: Spec, value: Any, required: bool) -> None:
        if value is _ABSENT or value is None:
            value = None
        if spec.secret:
            out.input_type = "password"
            out.stored = out.path in self.stored
            out.secret_json = spec.kind == "json"
            out.clearable = out.stored and not required
            out.hint = ("A value is stored: leave empty to keep it." if out.stored else "")
            return  # a secret is never drawn, not even masked
        text = self.raw.get(out.path)
        if spec.enum is not None or (spec.kind == "boolean" and spec.nullable):
            out.widget = "select"
            choices = spec.enum if spec.enum is not None else [True, False]
            current = None if value is None else option_text(value)
            if not required or spec.nullable or current is None:
                out.options.append(Option("", "Not set (the default)", current is None))
            out.options += [Option(option_text(c), option_text(c), option_text(c) == current)
                            for c in choices]
            return
        if spec.kind == "boolean":
            out.widget = "checkbox"
            out.checked = value is True
            return
        if spec.kind == "json":
            out.widget = "textarea"
            out.value = text if text is not None else (
                "" if value is None else json.dumps(value, indent=2, ensure_ascii=False))
            out.hint = 'JSON, e.g. {"a": 1}, [1, 2], 3 or "text" (text in quotes).'
            return
        if spec.kind in ("integer", "number"):
            out.input_type = "number"
            out.step = "1" if spec.kind == "integer" else "any"
            out.minimum = "" if spec.minimum is None else str(spec.minimum)
            out.maximum = "" if spec.maximum is None else str(spec.maximum)
        out.value = text if text is not None else ("" if value is None or value == MASK
                                                   else str(value))

    def place(self, errors: Mapping[str, list[str]]) -> list[str]:
        general: list[str] = []
        for path, problems in errors.items():
            target = self.target(path)
            if target is None:
                general += [f"{path}: {p}" if path else p for p in problems]
            else:
                target.errors += problems
        return general

    def target(self, path: str) -> Field | None:
        if path in self.by_path:
            return self.by_path[path]
        parts = path.split(".")
        for skip in range(len(parts)):  # a union member's tag ("str", "ConnectionComponents")
            candidate = ".".join(parts[:skip] + parts[skip + 1:])
            if candidate and candidate in self.by_path:
                return self.by_path[candidate]
        for end in range(len(parts) - 1, 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in self.by_path:
                return self.by_path[candidate]
        return None


def masked_paths(document: Any, path: str = "") -> frozenset[str]:
    """Paths of a display document whose value is ``********`` (a stored secret)."""
    found: set[str] = set()
    stack = [(path, document)]
    while stack:
        where, value = stack.pop()
        if value == MASK:
            found.add(where)
        elif isinstance(value, Mapping) and REF_KEY not in value:
            stack += [(f"{where}.{k}" if where else str(k), v) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(f"{where}.{i}" if where else str(i), v) for i, v in enumerate(value)]
    return frozenset(found)


_KINDS_OF: dict[type, tuple[str, ...]] = {
    bool: ("boolean",), str: ("string",), int: ("integer", "number"), float: ("number",),
    list: ("list",)}


def _guess(spec: Spec, value: Any, required: bool) -> int | None:
    """Which member of a union ``value`` is (``None``: unset)."""
    if value is _ABSENT or value is None:
        if not required:
            return None
        return 0
    for index, member in enumerate(spec.members):
        kind = member.spec.kind
        if isinstance(value, Mapping) and REF_KEY in value:
            if kind == "ref":
                return index
        elif isinstance(value, Mapping) and kind == "object":
            names = {p.name for p in member.spec.properties}
            needed = {p.name for p in member.spec.properties if p.required}
            if set(value) <= names and needed <= set(value):
                return index
        elif kind in _KINDS_OF.get(type(value), ()):
            return index
    return next((i for i, m in enumerate(spec.members) if m.spec.kind == "json"), 0)
