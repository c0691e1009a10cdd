"""A load as documents: what ``blocks server`` sends, and the ETag that revalidates it.

``documents`` opens a block as :meth:`Registry.load` does (same checks, same errors) and
returns the decrypted documents instead of the decoded block: the block's own and those of
the blocks it references, each with its id, name and version, so that a client decodes them
with the same :func:`blocks.codec.decode` and gets the same stamped block.

The ETag names what a load depends on: the block's id, name and version and those of every
referenced block (references follow the referenced block's current version). A version's
document never changes, so which blocks a version references is remembered per
``(block id, version)``; :func:`dependencies` then recomputes the ETag from the sealed heads
alone, without decrypting anything (what makes a ``304 Not Modified`` cheap). Anything it
cannot vouch for (a purged or missing version, a reference it has not seen opened) answers
``None`` and the caller does the full load.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from blocks import catalog
from blocks.core import split_ref

if TYPE_CHECKING:
    from blocks.registry import Registry, Stage
    from blocks.store.records import StoredVersion

MAX_EDGES = 50_000
"""Versions whose references one registry remembers (forgotten all at once past this)."""
_MAX_DEPENDENCIES = 4_096
Key = tuple[str, int]


@dataclass(frozen=True)
class Document:
    """One decrypted version: the block's id, type, name, version and document (JSON)."""

    block_id: str
    type_slug: str
    name: str
    version: int
    document: bytes


@dataclass
class Opened:
    """Collects what one load opened (the sink of ``Registry._open``)."""

    documents: list[Document] = field(default_factory=list)
    edges: dict[Key, list[str]] = field(default_factory=dict)

    def opened(self, row: StoredVersion, document: bytes) -> None:
        assert row.version is not None
        self.documents.append(
            Document(row.block_id, row.type_slug, row.name, row.version, document))
        self.edges.setdefault((row.block_id, row.version), [])

    def referenced(self, row: StoredVersion, target_id: str) -> None:
        assert row.version is not None
        self.edges.setdefault((row.block_id, row.version), []).append(target_id)


@dataclass(frozen=True)
class Loaded:
    """A load as documents: ``root`` first, then each referenced block once."""

    root: Document
    included: list[Document]
    etag: str


_edges: weakref.WeakKeyDictionary[Registry, dict[Key, list[str]]] = weakref.WeakKeyDictionary()
_edges_lock = threading.Lock()


def documents(
    registry: Registry,
    ref: str,
    *,
    version: int | None = None,
    stage: Stage | None = None,
    validate: bool = True,
) -> Loaded:
    """Open ``slug/name`` as ``registry.load`` does and return its documents.

    Raises:
        The errors of :meth:`Registry.load`.
    """
    slug, name = split_ref(ref)
    cls = catalog.get(slug)
    with registry._reading("read", ref, version=version, stage=stage) as record:
        row = registry._row(slug, name, version, stage)
        if record is not None:
            record.subject, record.version = row.block_id, row.version
        sink = Opened()
        registry._open(cls, row, set(), validate, sink)
    with _edges_lock:
        known = _edges.setdefault(registry, {})
        if len(known) + len(sink.edges) > MAX_EDGES:
            known.clear()
        known.update(sink.edges)
    root, *rest = sink.documents
    included: dict[str, Document] = {}
    for doc in rest:
        included.setdefault(doc.block_id, doc)
    return Loaded(root, list(included.values()), etag_of(sink.documents))


def dependencies(
    registry: Registry, ref: str, *, version: int | None = None, stage: Stage | None = None
) -> tuple[str, list[str]] | None:
    """``(etag, refs)`` of what loading ``ref`` would return now, from the sealed heads only
    (nothing is decrypted); ``refs`` are the referenced blocks' ``slug/name``. ``None`` when
    only a full load can tell.

    Raises:
        BlockNotFound, IntegrityError: as a load would for the block itself.
    """
    slug, name = split_ref(ref)
    row = registry._row(slug, name, version, stage)
    if row.wrapped_key is None or row.version is None:
        return None  # purged: the full load says so
    with _edges_lock:  # looked up, not copied: up to MAX_EDGES entries, on every 304
        known = _edges.get(registry) or {}
    rows = [row]
    stack: list[Key] = [(row.block_id, row.version)]
    while stack:
        with _edges_lock:
            found = known.get(stack.pop())
            targets = None if found is None else list(found)
        if targets is None or len(rows) > _MAX_DEPENDENCIES:
            return None
        for target_id in targets:
            target = registry.store.get_current_by_id(target_id)
            if target is None or target.version is None or target.wrapped_key is None:
                return None
            registry._check(target, f"the block {target_id} referenced by {ref}", None)
            rows.append(target)
            stack.append((target.block_id, target.version))
    refs = sorted({f"{r.type_slug}/{r.name}" for r in rows[1:]})
    return etag_of(rows), refs


def etag_of(rows: list[Document] | list[StoredVersion]) -> str:
    """A strong ETag over the ids, names and versions of a load's documents."""
    parts = sorted({f"{r.block_id}:{r.type_slug}/{r.name}:{r.version}" for r in rows})
    digest = hashlib.sha256("\n".join(["blocks-load-1", *parts]).encode()).hexdigest()
    return f'"{digest[:40]}"'
