"""Mirror pushes: a block's current version to each of its targets, and the registry hooks
that run them (:func:`after_save` after every save, rollback or rotation; :func:`deleting`
around a delete). A failed push is recorded on its mirror row and raised as one error naming
what was saved and what failed.

Split from :mod:`blocks.integrations.mirrors`, which documents mirrors and re-exports these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from blocks.errors import BlocksError, PrefectError
from blocks.integrations import mirror_rows
from blocks.integrations.mirror_rows import MIRROR_TABLE
from blocks.integrations.mirror_targets import MirrorTarget, target_factory

if TYPE_CHECKING:
    from blocks.registry import Registry

ERROR_LIMIT = 500
"""The longest target error kept (recorded, or quoted in a message)."""


def after_save(registry: Registry, block_id: str) -> None:
    """Called when a block's current version changes (save, rollback, rotation): re-push the
    block if it is mirrored, and every mirrored block that nests it (directly or through other
    blocks), since their copies embed its values. Two indexed reads when neither is mirrored.

    Raises:
        PrefectError (or the target's error): a push failed; the save stays, the failure is
            recorded and ``blocks mirror push`` retries.
    """
    # The read connection of the load path: the SQLAlchemy engine would take the write lock.
    mirrored = [block_id] if registry.store.row_exists(MIRROR_TABLE, "block_id", block_id) else []
    if registry.store.row_exists("block_ref", "ref_block_id", block_id):
        mirrored += _mirrored_referrers(registry, block_id)
    if mirrored:
        raise_failures(registry, mirrored, changed=block_id)


def _mirrored_referrers(registry: Registry, block_id: str) -> list[str]:
    """Ids of the mirrored blocks whose current version nests ``block_id``, at any depth."""
    from sqlalchemy import column, select, table

    refs = table("block_ref", column("block_id"), column("ref_block_id"))
    mirrors = mirror_rows.mirror_table()
    seen, frontier = {block_id}, [block_id]
    with registry.store.engine.connect() as conn:
        while frontier:
            found = conn.execute(select(refs.c.block_id).where(
                refs.c.ref_block_id.in_(frontier))).scalars()
            frontier = sorted(set(found) - seen)
            seen.update(frontier)
        parents = sorted(seen - {block_id})
        if not parents:
            return []
        return sorted(set(conn.execute(select(mirrors.c.block_id).where(
            mirrors.c.block_id.in_(parents))).scalars()))


@contextmanager
def deleting(registry: Registry, slug: str, name: str) -> Iterator[None]:
    """Around :meth:`Registry.delete`: a mirrored block's copies go first (one indexed read
    when it is not mirrored), so a deleted block leaves no copy behind and no copy outlives
    its record here.

    Raises:
        PrefectError (or the target's error): a copy could not be deleted; nothing is deleted
            in Blocks, the copies already removed are pushed back, and a rerun retries.
        BlocksError: the delete itself failed (a referenced block); the copies are pushed back.
    """
    summary = registry.store.summary(slug, name)
    # The sealed mirror census (one read when nothing is mirrored) catches a mirror row
    # deleted outside Blocks, which would otherwise leave its copy behind silently.
    if summary is None or not any(row[0] == summary.id
                                  for row in mirror_rows.checked_census(registry)):
        yield
        return
    ref = f"{slug}/{name}"
    block = registry.load(ref)
    removed = False
    try:
        for row in mirror_rows.rows(registry, summary.id):
            target = target_factory(row["target"])(registry)
            try:
                target.remove(block, row["target_name"])
            except BlocksError as exc:
                raise PrefectError(
                    f"{ref} is mirrored to {row['target']} and its copy there could not be "
                    f"deleted, so nothing was deleted: {str(exc)[:ERROR_LIMIT]}. Rerun the "
                    f"delete once that is fixed, or stop mirroring first and keep the copy "
                    f"('blocks mirror {ref} --rm --keep')"
                ) from None
            finally:
                target.close()
            removed = True
        yield
    except BaseException:
        if removed:  # the block stays: so do its copies
            push_rows(registry, summary.id)
        raise


def raise_failures(
    registry: Registry, block_ids: list[str], *, changed: str | None = None
) -> None:
    """Push each block to its mirrors; raise one error naming what was saved and what failed.

    ``changed``: the block whose save (or rollback, or rotation) led to these pushes; it is
    saved whatever happens here, and the message says so first.
    """
    failed: list[str] = []
    first: tuple[str, str] | None = None
    for block_id in block_ids:
        failures = push_rows(registry, block_id)
        if failures:
            failed.append(mirror_rows.ref_of(registry, block_id)[0])
            first = first or next(iter(failures.items()))
    if first is None:
        return
    target, message = first
    changed = changed or block_ids[0]
    saved, version = mirror_rows.ref_of(registry, changed)
    parents = [ref for ref in failed if ref != saved]
    nesting = ", ".join(parents) + (" (which nest it)" if len(parents) > 1 else
                                    " (which nests it)")
    what = " and ".join((["it"] if saved in failed else []) + ([nesting] if parents else []))
    raise PrefectError(
        f"{saved} is saved in Blocks (version {version}), but mirroring {what} to {target} "
        f"failed: {message}. The copy on {target} is stale until 'blocks mirror push' "
        "succeeds; 'blocks mirror push' retries"
    )


def push_rows(
    registry: Registry, block_id: str, *,
    factories: dict[str, Callable[[Registry], MirrorTarget]] | None = None,
) -> dict[str, str]:
    """Push the block's current version to each of its mirrors; ``{target: error}`` of the
    pushes that failed (each recorded on its mirror)."""
    rows = mirror_rows.rows(registry, block_id)
    row_of = registry.store.get_current_by_id(block_id) if rows else None
    if row_of is None:
        return {}
    block = registry.load(f"{row_of.type_slug}/{row_of.name}")
    failures: dict[str, str] = {}
    for row in rows:
        factory = (factories or {}).get(row["target"]) or target_factory(row["target"])
        target = factory(registry)
        try:
            where = target.push(block, row["target_name"])
        except BlocksError as exc:
            failures[row["target"]] = str(exc)[:ERROR_LIMIT]
            mirror_rows.record(registry, block_id, row["target"], error=failures[row["target"]])
        else:
            mirror_rows.record(registry, block_id, row["target"], target_ref=where,
                    version=block.block_version)
        finally:
            target.close()
    return failures
