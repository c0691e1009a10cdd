"""Mirrors: a block copied to another system (a Prefect server) and re-pushed on every save.

A mirror is opt-in per block (``block.save(name, mirror_to_prefect=True)`` or
``blocks mirror SLUG/NAME --to prefect``). :func:`after_save` runs after every save of the
registry: two indexed reads find the block's mirrors and the blocks nesting it, and only
when one is mirrored is the target (and its HTTP client) imported. A failed push leaves the
save in place, is recorded (``blocks mirror status``) and is retried by ``blocks mirror
push`` or the next save. A rotation re-pushes the same way (``Registry.move_stages``). A
copy embeds its nested blocks' values, so a change of a nested block (save, rollback,
rotation) re-pushes every mirrored block that nests it; ``blocks mirror status`` reads each
copy back and reports one that is not what Blocks would push now as ``stale``. Deleting a
mirrored block deletes its copies first (:func:`deleting`): a block never leaves a copy
behind that Blocks has forgotten, and a copy that cannot be deleted stops the delete.

Targets implement :class:`MirrorTarget`; ``tests/integrations/mirror_contract.py`` is the
shared contract test. Built in: ``prefect``. Others register under the entry-point group
``blocks.mirror_targets`` (``name = "package.module:factory"``, factory(registry) -> target).

This module is the configuration (add, remove, status, push what is stale); the pushes and
the registry's hooks are in :mod:`blocks.integrations.mirror_push`, the sealed rows in
:mod:`blocks.integrations.mirror_rows`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from blocks.core import split_ref
from blocks.errors import BlocksError, ConfigurationError, PrefectError
from blocks.integrations import mirror_rows
from blocks.integrations.mirror_push import ERROR_LIMIT, push_rows, raise_failures
from blocks.integrations.mirror_push import after_save as after_save
from blocks.integrations.mirror_push import deleting as deleting
from blocks.integrations.mirror_rows import MIRROR_TABLE as MIRROR_TABLE
from blocks.integrations.mirror_targets import BUILTIN_TARGETS as BUILTIN_TARGETS
from blocks.integrations.mirror_targets import ENTRY_POINT_GROUP as ENTRY_POINT_GROUP
from blocks.integrations.mirror_targets import MirrorStatus as MirrorStatus
from blocks.integrations.mirror_targets import MirrorTarget as MirrorTarget
from blocks.integrations.mirror_targets import target_factory as target_factory

if TYPE_CHECKING:
    from blocks.registry import Registry


def add_mirror(
    registry: Registry, ref: str, target: str = "prefect", *, target_name: str | None = None
) -> MirrorStatus:
    """Mirror ``slug/name`` to ``target`` from now on, and push it now.

    Raises:
        BlockNotFound: no such block.
        PrefectError: the first push failed (server down, credential refused, ...); the mirror
            is not configured (as before the call), so rerunning it once fixed is the retry.
    """
    factory = target_factory(target)
    summary = registry.summary(ref)
    _, name = split_ref(ref)
    before = [r for r in mirror_rows.rows(registry, summary.id) if r["target"] == target]
    mirror_rows.write_rows(registry, summary.id, target, [{"target_name": target_name or name}])
    failures = push_rows(registry, summary.id, factories={target: factory})
    if target in failures:
        mirror_rows.write_rows(registry, summary.id, target, before)
        raise PrefectError(
            f"{ref} (version {summary.current_version} in Blocks) is not mirrored to {target}: "
            f"{failures[target]}. Rerun 'blocks mirror {ref} --to {target}' once that is fixed"
        )
    return next(s for s in mirror_status(registry) if s.ref == ref and s.target == target)


def remove_mirror(registry: Registry, ref: str, *, delete_copy: bool = True) -> None:
    """Stop mirroring ``slug/name`` (on every target); deletes the copies unless told not to.

    Raises:
        BlockNotFound: no such block.
        ConfigurationError: the block is not mirrored.
    """
    summary = registry.summary(ref)
    rows = mirror_rows.rows(registry, summary.id)
    if not rows:
        raise ConfigurationError(f"{ref} is not mirrored; see 'blocks mirror status'")
    if delete_copy:
        block = registry.load(ref)
        for row in rows:
            target = target_factory(row["target"])(registry)
            try:
                target.remove(block, row["target_name"])
            finally:
                target.close()
    for row in rows:
        mirror_rows.write_rows(registry, summary.id, row["target"], [])


def mirror_status(registry: Registry, *, compare: bool = False) -> list[MirrorStatus]:
    """Every mirror with its state, by block reference.

    Args:
        compare: also read each copy from its target and compare it with what a push would
            write now (``blocks mirror status`` does): a copy deleted or edited there, or one
            holding a nested block's old values, is ``stale`` with ``drift`` saying why.
    """
    from sqlalchemy import select

    table = mirror_rows.mirror_table()
    by_id = {s.id: s for s in registry.list()}
    with registry.store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(table))]
    out = []
    for row in rows:
        summary = by_id.get(row["block_id"])
        if summary is None:
            continue
        out.append(MirrorStatus(
            ref=f"{summary.type_slug}/{summary.name}", target=row["target"],
            target_name=row["target_name"], target_ref=row["target_ref"],
            pushed_version=row["pushed_version"], current_version=summary.current_version,
            pushed_at=row["pushed_at"], last_error=row["last_error"],
        ))
    if compare:
        out = [_compared(registry, status) for status in out]
    return sorted(out, key=lambda s: (s.ref, s.target))


def _compared(registry: Registry, status: MirrorStatus) -> MirrorStatus:
    """``status`` with ``drift`` set from what its target holds now."""
    if status.last_error:
        return status
    block = registry.load(status.ref)
    target = target_factory(status.target)(registry)
    try:
        expected = getattr(target, "document", None)
        if expected is None:
            return status
        held = target.read(block, status.target_name)
        want = expected(block)
    except BlocksError as exc:
        drift = f"the copy could not be read: {str(exc)[:ERROR_LIMIT]}"
    else:
        if held is None:
            drift = f"there is no copy on {status.target}"
        elif held != want:
            drift = (f"the copy on {status.target} differs from version "
                     f"{status.current_version} (changed there, or a nested block changed)")
        else:
            return status
    finally:
        target.close()
    return replace(status, drift=drift)


def push_stale(registry: Registry) -> list[MirrorStatus]:
    """Push every mirror that is not current; the mirrors pushed.

    Raises:
        BlocksError: the first failure, after every mirror was tried.
    """
    stale = [s for s in mirror_status(registry, compare=True) if s.state != "current"]
    first: BlocksError | None = None
    for status in stale:
        try:
            raise_failures(registry, [registry.summary(status.ref).id])
        except BlocksError as exc:
            first = first or exc
    if first is not None:
        raise first
    return stale
