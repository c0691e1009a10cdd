"""The graph of references between saved blocks: no cycles, and a bounded depth.

A block that references itself, directly or through others (``a -> b -> a``), could be saved but
never loaded (its document needs itself first) nor deleted (each block is referenced by the
other). A chain of references deeper than :data:`MAX_REFERENCE_DEPTH` would load through that
many nested decodes. Both are refused when the referencing version is saved, with the chain
named; the load side bounds the depth too (:func:`blocks.codec.decode`), for chains that predate
this check.

The walk reads the current references (table ``block_ref``) before the save's transaction: two
writers racing to close a cycle from both ends can both pass it, and the load-side checks then
report the cycle instead of recursing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from blocks.errors import ValidationError
from blocks.store.writer import ref_message

if TYPE_CHECKING:
    from blocks.store.sql import SqlStore

MAX_REFERENCE_DEPTH = 32
"""Longest chain of block references a saved block may start (``a -> b`` is 1)."""


def check_references(store: SqlStore, slug: str, name: str, refs: Mapping[str, str]) -> None:
    """Refuse a version of ``slug/name`` whose references ``refs`` (field path -> block id)
    would close a cycle or start a chain deeper than :data:`MAX_REFERENCE_DEPTH`.

    Raises:
        ValidationError: at the referencing field, naming the chain (``holder/a -> holder/b ->
            holder/a``) or its depth.
    """
    if not refs:
        return
    from sqlalchemy import select

    from blocks.store.tables import BlockRefRow, BlockRow

    block = BlockRow.__table__  # type: ignore[attr-defined]
    ref_table = BlockRefRow.__table__  # type: ignore[attr-defined]
    with store.engine.connect() as conn:
        own = conn.execute(
            select(block.c.id).where(block.c.type_slug == slug, block.c.name == name)
        ).scalar()
        edges: dict[str, list[str]] = {}
        frontier = set(refs.values())
        # Breadth-first, one query per level; a chain past the bound is refused anyway, so
        # reading one level more than the bound is enough to see it.
        for _level in range(MAX_REFERENCE_DEPTH + 1):
            frontier -= edges.keys()
            if not frontier:
                break
            for source in frontier:
                edges[source] = []
            rows = conn.execute(
                select(ref_table.c.block_id, ref_table.c.ref_block_id, ref_table.c.path,
                       ref_table.c.mac_term, ref_table.c.mac)
                .where(ref_table.c.block_id.in_(frontier))
                .order_by(ref_table.c.block_id, ref_table.c.path)
            ).all()
            for source, target, path, term, mac in rows:
                _check_row(store, source, path, target, term, mac)
                edges[source].append(target)
            frontier = {row[1] for row in rows}
        problem = _first_problem(own, refs, edges)
        if problem is None:
            return
        path, chain, depth = problem
        names = {
            block_id: f"{type_slug}/{block_name}"
            for block_id, type_slug, block_name in conn.execute(
                select(block.c.id, block.c.type_slug, block.c.name)
                .where(block.c.id.in_(set(chain)))
            )
        }
    ref = f"{slug}/{name}"
    if depth is None:
        shown = " -> ".join([ref, *(names.get(b, b) for b in chain)])
        message = f"reference cycle: {shown}; a block cannot reference itself, even indirectly"
    else:
        message = (
            f"references nest {depth} levels deep (through {names.get(chain[0], chain[0])}); "
            f"at most {MAX_REFERENCE_DEPTH} are allowed: embed some blocks instead of "
            "referencing them"
        )
    raise ValidationError(ref, [(path, message)])


def _check_row(store: SqlStore, source: str, path: str, target: str, term: Any, mac: Any) -> None:
    """A reference row must authenticate before the walk follows it."""
    if store.sealer is not None:
        store.sealer.check(term, mac, ref_message(source, path, target),
                           f"the reference of the block with id {source} (field {path})")


def _first_problem(
    own: str | None, refs: Mapping[str, str], edges: Mapping[str, list[str]]
) -> tuple[str, list[str], int | None] | None:
    """``(field path, chain of block ids, depth)`` of the first cycle (depth ``None``) or
    too-deep chain reached through ``refs``, else ``None``. Iterative: no recursion limit."""
    depth: dict[str, int] = {}  # block id -> longest chain below it (0: references nothing)
    for path, start in sorted(refs.items()):
        if start == own:
            return path, [start], None
        stack: list[tuple[str, int]] = [(start, 0)]
        on_stack = {start}
        while stack:
            node, index = stack[-1]
            children = edges.get(node, [])
            if node in depth:
                stack.pop()
                on_stack.discard(node)
                continue
            if index < len(children):
                stack[-1] = (node, index + 1)
                child = children[index]
                if child == own or child in on_stack:
                    chain = [n for n, _ in stack] + [child]
                    return path, chain, None
                if child not in depth:
                    stack.append((child, 0))
                    on_stack.add(child)
                continue
            depth[node] = 1 + max((depth[c] for c in children), default=-1)
            stack.pop()
            on_stack.discard(node)
        total = 1 + depth[start]
        if total > MAX_REFERENCE_DEPTH:
            return path, [start], total
    return None
