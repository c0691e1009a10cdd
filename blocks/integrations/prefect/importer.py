"""``blocks import prefect``: block documents of a Prefect server copied into Blocks, typed.

Three phases, so that nothing is half-written: every document is read (with secrets) first;
then each is converted and validated (nested documents inline); only then are blocks saved, in
dependency order (a nested document is saved first and the parent refers to it). A document
identical to the block already in Blocks is left alone, so a rerun changes nothing. Documents
of a type Blocks has no counterpart for are listed, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from blocks import catalog, codec
from blocks.errors import BlockNotFound, BlocksError, UnknownBlockType
from blocks.integrations.prefect.documents import all_documents

if TYPE_CHECKING:
    from blocks.core import Block
    from blocks.integrations.prefect.client import PrefectClient
    from blocks.registry import Registry

Outcome = Literal["create", "update", "unchanged", "unsupported", "failed"]
REF_KEY = "$ref"


@dataclass
class Item:
    """One Prefect document and what importing does with it."""

    prefect_slug: str
    name: str
    outcome: Outcome
    blocks_ref: str | None = None
    detail: str = ""
    depends_on: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    """The plan (``--dry-run``) or the outcome of an import."""

    server: str
    items: list[Item] = field(default_factory=list)
    applied: bool = False

    @property
    def changed(self) -> list[Item]:
        """Items created or updated."""
        return [i for i in self.items if i.outcome in ("create", "update")]

    def counts(self) -> dict[str, int]:
        """Items per outcome."""
        outcomes = ("create", "update", "unchanged", "unsupported", "failed")
        return {o: sum(i.outcome == o for i in self.items) for o in outcomes}

    def as_json(self) -> dict[str, Any]:
        """The result as JSON."""
        return {"server": self.server, "applied": self.applied, "counts": self.counts(),
                "items": [{"prefect": f"{i.prefect_slug}/{i.name}", "outcome": i.outcome,
                           "blocks": i.blocks_ref, "detail": i.detail} for i in self.items]}

    def render(self) -> str:
        """A plan-like text."""
        symbol = {"create": "+", "update": "~", "unchanged": "=", "unsupported": "?",
                  "failed": "!"}
        lines = [f"Prefect server {self.server}"]
        for item in self.items:
            target = f" -> {item.blocks_ref}" if item.blocks_ref else ""
            detail = f" ({item.detail})" if item.detail else ""
            lines.append(f"  {symbol[item.outcome]} {item.prefect_slug}/{item.name}{target}: "
                         f"{item.outcome}{detail}")
        c = self.counts()
        verb = "Imported" if self.applied else "Plan"
        lines.append(f"{verb}: {c['create']} to create, {c['update']} to update, "
                     f"{c['unchanged']} unchanged, {c['unsupported']} unsupported, "
                     f"{c['failed']} failed.")
        return "\n".join(lines)


# -- Prefect document -> Blocks document --------------------------------------------------------


def _aws(data: dict[str, Any]) -> dict[str, Any]:
    from blocks.types.aws import AwsCredentials

    out = dict(data)
    if "assume_role_kwargs" not in AwsCredentials.model_fields and "assume_role_arn" in out:
        # A Blocks without Prefect's role fields: map the ones it has, refuse the rest.
        out["role_arn"] = out.pop("assume_role_arn")
        kwargs = dict(out.pop("assume_role_kwargs", None) or {})
        for key, name in (("RoleSessionName", "role_session_name"), ("ExternalId", "external_id")):
            if key in kwargs:
                out[name] = kwargs.pop(key)
        if kwargs:
            out["assume_role_kwargs"] = kwargs
    return out


def _generic(data: dict[str, Any]) -> dict[str, Any]:
    return data


CONVERTERS = {"aws-credentials": _aws}
"""Prefect type slug -> conversion of its data; other types map field for field (Blocks' types
use Prefect's field names)."""


def blocks_slug(prefect_slug: str) -> str | None:
    """The Blocks type a Prefect type imports as (``None``: no counterpart)."""
    if prefect_slug.startswith("blocks-"):
        prefect_slug = prefect_slug.removeprefix("blocks-")  # mirrored from Blocks
    try:
        catalog.get(prefect_slug)
    except UnknownBlockType:
        return None
    return prefect_slug


# -- the import ---------------------------------------------------------------------------------


def import_blocks(
    client: PrefectClient,
    registry: Registry,
    *,
    dry_run: bool = False,
    type_slug: str | None = None,
    name: str | None = None,
) -> ImportResult:
    """Copy block documents from Prefect into ``registry``.

    Args:
        dry_run: plan only.
        type_slug: only documents of this Prefect type (their nested documents come along).
        name: only documents of this name (their nested documents come along).

    Raises:
        PrefectError: the server is unreachable or refused; nothing was written.
    """
    docs = {d["id"]: d for d in all_documents(client)}
    result = ImportResult(server=client.api_url)
    chosen = [d for d in docs.values()
              if (type_slug is None or d["block_type"]["slug"] == type_slug)
              and (name is None or d["name"] == name)]
    order = _dependency_order(chosen, docs)
    names: dict[str, str] = {}  # prefect document id -> Blocks ref
    for doc in order:
        item, block = _convert(doc, docs, registry, names)
        result.items.append(item)
        if block is None or item.blocks_ref is None:
            continue
        names[doc["id"]] = item.blocks_ref
        if item.outcome in ("create", "update") and not dry_run:
            _save(registry, block, item, doc, names)
    result.applied = not dry_run
    return result


def _dependency_order(
    chosen: list[dict[str, Any]], docs: Mapping[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(doc: dict[str, Any]) -> None:
        if doc["id"] in seen:
            return
        seen.add(doc["id"])
        for ref in (doc.get("block_document_references") or {}).values():
            child = docs.get(ref.get("block_document", {}).get("id", ""))
            if child is not None:
                visit(child)
        ordered.append(doc)

    for doc in sorted(chosen, key=lambda d: (d["block_type"]["slug"], d["name"])):
        visit(doc)
    return ordered


def _name_of(doc: Mapping[str, Any], parent: str | None = None) -> str:
    if not doc.get("is_anonymous"):
        return str(doc["name"])
    return f"{parent or 'anonymous'}-{str(doc['id'])[:8]}"


def _convert(
    doc: dict[str, Any], docs: Mapping[str, dict[str, Any]], registry: Registry,
    names: Mapping[str, str],
) -> tuple[Item, Block | None]:
    prefect_slug = doc["block_type"]["slug"]
    slug = blocks_slug(prefect_slug)
    name = _name_of(doc)
    refs = doc.get("block_document_references") or {}
    item = Item(prefect_slug, name, "unsupported",
                depends_on=[r["block_document"]["id"] for r in refs.values()])
    if slug is None:
        item.detail = f"Blocks has no type for Prefect type {prefect_slug!r}; not imported"
        return item, None
    missing = [f for f, r in refs.items() if r["block_document"]["id"] not in names]
    if missing:
        item.outcome = "failed"
        item.detail = f"nested document(s) {', '.join(missing)} could not be imported"
        return item, None
    item.blocks_ref = f"{slug}/{name}"
    data = CONVERTERS.get(prefect_slug, _generic)(dict(doc.get("data") or {}))
    for field_name, ref in refs.items():
        child = docs[ref["block_document"]["id"]]
        child_slug = blocks_slug(child["block_type"]["slug"]) or ""
        data[field_name] = CONVERTERS.get(child["block_type"]["slug"], _generic)(
            dict(child.get("data") or {})) if child_slug else data.get(field_name)
    try:
        block = registry.parse(slug, data, ref=item.blocks_ref)
    except BlocksError as exc:
        item.outcome, item.detail = "failed", str(exc)
        return item, None
    try:
        existing = registry.load(item.blocks_ref)
    except BlockNotFound:
        item.outcome = "create"
        return item, block
    except BlocksError as exc:
        item.outcome, item.detail = "failed", str(exc)
        return item, None
    same = codec.reveal(existing)[0] == codec.reveal(block)[0]
    item.outcome = "unchanged" if same else "update"
    return item, block


def _save(
    registry: Registry, block: Block, item: Item, doc: Mapping[str, Any],
    names: Mapping[str, str],
) -> None:
    assert item.blocks_ref is not None
    refs = doc.get("block_document_references") or {}
    if refs:
        # Save the parent with references to the blocks its nested documents became.
        data = codec.reveal(block)[0]
        for field_name, ref in refs.items():
            data[field_name] = {REF_KEY: names[ref["block_document"]["id"]]}
        block = registry.parse(type(block).block_type_slug, data, ref=item.blocks_ref)
    _, name = item.blocks_ref.split("/", 1)
    try:
        registry.save(block, name, overwrite=True, note="imported from Prefect")
    except BlocksError as exc:
        item.outcome, item.detail = "failed", str(exc)
