"""What the block pages show, computed from the registry: field rows with secrets masked,
references in and out, and the masked field-by-field diff of two versions.

Values are shown only to a principal with ``read`` (the API's rule for a load); a secret is
``********`` unless revealed, one field at a time (:func:`revealed_value`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from blocks.codec import MASK, canonical_json, to_display
from blocks.core import REF_KEY, Block
from blocks.errors import InvalidArgument
from blocks.store.writer import ref_message

if TYPE_CHECKING:
    from blocks.registry import Registry
    from blocks.server.security import Principal

MISSING = object()


@dataclass(frozen=True)
class Field:
    """One leaf of a block's document: its dotted path and how to show it."""

    path: str
    text: str
    secret: bool = False
    ref: str | None = None  # a nested saved block: "slug/name"
    empty: bool = False


@dataclass(frozen=True)
class Change:
    """One row of a diff: the field, its masked text in each version, and whether it changed
    (secrets are compared by value, shown masked)."""

    path: str
    old: str
    new: str
    changed: bool
    secret: bool


def _leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and REF_KEY not in value and value:
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}.{index}" if path else str(index))
    else:
        yield path, value


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return canonical_json(value).decode()


def fields(block: Block) -> list[Field]:
    """The block's leaves, secrets masked, nested saved blocks as references."""
    out = []
    for path, value in _leaves(to_display(block), ""):
        if isinstance(value, dict) and REF_KEY in value:
            out.append(Field(path, str(value[REF_KEY]), ref=str(value[REF_KEY])))
        else:
            out.append(Field(path, _text(value), secret=value == MASK, empty=value is None))
    return out


def visible_fields(block: Block, principal: Principal) -> list[Field]:
    """:func:`fields`, a referenced block the principal may not see (no ``read-metadata``)
    shown without its name."""
    return [f if f.ref is None or principal.allows("read-metadata", "blocks", f.ref)
            else Field(f.path, "a block you may not see") for f in fields(block)]


def references_in(registry: Registry, block_id: str) -> list[tuple[str, str]]:
    """``("slug/name", field path)`` of the live blocks whose reference rows name
    ``block_id``; each row's seal is checked (an altered row is an ``IntegrityError``)."""
    store, sealer = registry.store, registry.sealer
    rows = store._fetchall(
        "SELECT b.type_slug, b.name, r.path, r.block_id, r.mac_term, r.mac FROM block_ref r "
        "JOIN block b ON b.id = r.block_id LEFT JOIN block_deletion d ON d.block_id = b.id "
        "WHERE r.ref_block_id = ? AND d.block_id IS NULL ORDER BY b.type_slug, b.name, r.path",
        (block_id,))
    out = []
    for slug, name, path, source, term, mac in rows:
        sealer.check(term, mac, ref_message(source, path, block_id),
                     f"the reference from {slug}/{name} (field {path})")
        out.append((f"{slug}/{name}", str(path)))
    return out


def visible_references_in(registry: Registry, principal: Principal, block_id: str
                          ) -> tuple[list[tuple[str, str]], int]:
    """:func:`references_in` the principal may see, and how many others there are."""
    found = references_in(registry, block_id)
    shown = [r for r in found if principal.allows("read-metadata", "blocks", r[0])]
    return shown, len(found) - len(shown)


def revealed_value(block: Block, path: str) -> str:
    """The clear text of the secret at ``path`` (a path :func:`fields` marked secret).

    Raises:
        InvalidArgument: no secret field has that path.
    """
    masked = dict(_leaves(to_display(block), ""))
    if masked.get(path, MISSING) != MASK:
        raise InvalidArgument(f"field {path[:200]!r}: no secret field has that path; "
                              "reload the block's page")
    shown = dict(_leaves(to_display(block, show_secrets=True), ""))
    return _text(shown.get(path))


def diff(old: Block, new: Block) -> list[Change]:
    """The field-by-field diff of two versions, secrets masked (but compared by value)."""
    old_masked = dict(_leaves(to_display(old), ""))
    new_masked = dict(_leaves(to_display(new), ""))
    old_clear = dict(_leaves(to_display(old, show_secrets=True), ""))
    new_clear = dict(_leaves(to_display(new, show_secrets=True), ""))
    paths = list(old_masked) + [p for p in new_masked if p not in old_masked]
    out = []
    for path in paths:
        a, b = old_masked.get(path, MISSING), new_masked.get(path, MISSING)
        secret = a == MASK or b == MASK
        changed = old_clear.get(path, MISSING) != new_clear.get(path, MISSING)
        out.append(Change(path, _shown(a), _shown(b), changed, secret))
    return out


def _shown(value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    if isinstance(value, dict) and REF_KEY in value:
        return f"→ {value[REF_KEY]}"
    return _text(value)
