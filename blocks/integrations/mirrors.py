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
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from blocks.core import split_ref
from blocks.errors import BlocksError, ConfigurationError, IntegrityError, PrefectError
from blocks.integrations.mirror_targets import BUILTIN_TARGETS as BUILTIN_TARGETS
from blocks.integrations.mirror_targets import ENTRY_POINT_GROUP as ENTRY_POINT_GROUP
from blocks.integrations.mirror_targets import MirrorStatus as MirrorStatus
from blocks.integrations.mirror_targets import MirrorTarget as MirrorTarget
from blocks.integrations.mirror_targets import target_factory as target_factory
from blocks.store import census
from blocks.store.sealing import mirror_message

if TYPE_CHECKING:
    from sqlalchemy import Table

    from blocks.registry import Registry

_ERROR_LIMIT = 500
MIRROR_TABLE = "block_mirror"


def _table() -> Table:
    from sqlalchemy import Column, DateTime, Integer, LargeBinary, MetaData, String, Table, Text

    global _TABLE
    if _TABLE is None:
        _TABLE = Table(
            MIRROR_TABLE, MetaData(),
            Column("block_id", String(36), primary_key=True),
            Column("target", String(32), primary_key=True),
            Column("target_name", String(128), nullable=False),
            Column("target_ref", String(200)),
            Column("pushed_version", Integer),
            Column("pushed_at", DateTime(timezone=True)),
            Column("last_error", Text),
            Column("mac_term", Integer),
            Column("mac", LargeBinary),
        )
    return _TABLE


_TABLE: Table | None = None


# -- configuration ----------------------------------------------------------------------------


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
    before = [r for r in _rows(registry, summary.id) if r["target"] == target]
    _write_rows(registry, summary.id, target, [{"target_name": target_name or name}])
    failures = _push_rows(registry, summary.id, factories={target: factory})
    if target in failures:
        _write_rows(registry, summary.id, target, before)
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
    rows = _rows(registry, summary.id)
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
        _write_rows(registry, summary.id, row["target"], [])


def mirror_status(registry: Registry, *, compare: bool = False) -> list[MirrorStatus]:
    """Every mirror with its state, by block reference.

    Args:
        compare: also read each copy from its target and compare it with what a push would
            write now (``blocks mirror status`` does): a copy deleted or edited there, or one
            holding a nested block's old values, is ``stale`` with ``drift`` saying why.
    """
    from sqlalchemy import select

    table = _table()
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
        drift = f"the copy could not be read: {str(exc)[:_ERROR_LIMIT]}"
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
            _raise_failures(registry, [registry.summary(status.ref).id])
        except BlocksError as exc:
            first = first or exc
    if first is not None:
        raise first
    return stale


# -- the save hook ------------------------------------------------------------------------------


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
        _raise_failures(registry, mirrored, changed=block_id)


def _mirrored_referrers(registry: Registry, block_id: str) -> list[str]:
    """Ids of the mirrored blocks whose current version nests ``block_id``, at any depth."""
    from sqlalchemy import column, select, table

    refs = table("block_ref", column("block_id"), column("ref_block_id"))
    mirrors = _table()
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
    if summary is None or not any(row[0] == summary.id for row in _checked_census(registry)):
        yield
        return
    ref = f"{slug}/{name}"
    block = registry.load(ref)
    removed = False
    try:
        for row in _rows(registry, summary.id):
            target = target_factory(row["target"])(registry)
            try:
                target.remove(block, row["target_name"])
            except BlocksError as exc:
                raise PrefectError(
                    f"{ref} is mirrored to {row['target']} and its copy there could not be "
                    f"deleted, so nothing was deleted: {str(exc)[:_ERROR_LIMIT]}. Rerun the "
                    f"delete once that is fixed, or stop mirroring first and keep the copy "
                    f"('blocks mirror {ref} --rm --keep')"
                ) from None
            finally:
                target.close()
            removed = True
        yield
    except BaseException:
        if removed:  # the block stays: so do its copies
            _push_rows(registry, summary.id)
        raise


def _raise_failures(
    registry: Registry, block_ids: list[str], *, changed: str | None = None
) -> None:
    """Push each block to its mirrors; raise one error naming what was saved and what failed.

    ``changed``: the block whose save (or rollback, or rotation) led to these pushes; it is
    saved whatever happens here, and the message says so first.
    """
    failed: list[str] = []
    first: tuple[str, str] | None = None
    for block_id in block_ids:
        failures = _push_rows(registry, block_id)
        if failures:
            failed.append(_ref_of(registry, block_id)[0])
            first = first or next(iter(failures.items()))
    if first is None:
        return
    target, message = first
    changed = changed or block_ids[0]
    saved, version = _ref_of(registry, changed)
    parents = [ref for ref in failed if ref != saved]
    nesting = ", ".join(parents) + (" (which nest it)" if len(parents) > 1 else
                                    " (which nests it)")
    what = " and ".join((["it"] if saved in failed else []) + ([nesting] if parents else []))
    raise PrefectError(
        f"{saved} is saved in Blocks (version {version}), but mirroring {what} to {target} "
        f"failed: {message}. The copy on {target} is stale until 'blocks mirror push' "
        "succeeds; 'blocks mirror push' retries"
    )


def _ref_of(registry: Registry, block_id: str) -> tuple[str, int | None]:
    row = registry.store.get_current_by_id(block_id)
    if row is None:
        return block_id, None
    return f"{row.type_slug}/{row.name}", row.current_version


def _checked_census(registry: Registry) -> list[tuple[str, str, str]]:
    """Every mirror row, checked against the sealed mirror census."""
    with registry.store.engine.connect() as conn:
        return census.check_mirrors(registry.store.executor(conn), registry.sealer)


def _rows(registry: Registry, block_id: str) -> list[dict[str, Any]]:
    """The block's mirror rows, each authenticated and all matching the sealed census.

    Raises:
        IntegrityError: a row was inserted, changed or deleted outside Blocks; nothing is
            pushed or removed.
    """
    from sqlalchemy import select

    table = _table()
    sealer = registry.sealer
    with registry.store.engine.connect() as conn:
        census.check_mirrors(registry.store.executor(conn), sealer)
        rows = [dict(r._mapping) for r in conn.execute(
            select(table).where(table.c.block_id == block_id))]
    for row in rows:
        if not sealer.valid(row["mac_term"], row["mac"],
                            mirror_message(block_id, row["target"], row["target_name"])):
            found = registry.store.get_current_by_id(block_id)
            ref = f"{found.type_slug}/{found.name}" if found else f"the block with id {block_id}"
            raise IntegrityError(f"the mirror of {ref} to {row['target']}")
    return rows


def _write_rows(
    registry: Registry, block_id: str, target: str, rows: list[dict[str, Any]]
) -> None:
    """Replace the block's mirror row for ``target`` with ``rows`` (none or one: its
    ``target_name`` and any status columns), sealed, with the census, in one transaction."""
    from sqlalchemy import delete, insert, select

    table = _table()
    sealer = registry.sealer
    lock = " FOR UPDATE" if registry.store.dialect == "postgresql" else ""
    with registry.store.engine.begin() as conn:
        run = registry.store.executor(conn)
        old = conn.execute(select(table.c.target_name).where(
            table.c.block_id == block_id, table.c.target == target)).all()
        new = [{**row, "block_id": block_id, "target": target} for row in rows]
        for row in new:
            row["mac_term"], row["mac"] = sealer.sign(
                mirror_message(block_id, target, row["target_name"]))
        census.adjust(
            run, sealer, census.MIRRORS, lock=lock,
            add=[census.mirror_member(block_id, target, r["target_name"]) for r in new],
            remove=[census.mirror_member(block_id, target, r[0]) for r in old],
        )
        conn.execute(delete(table).where(table.c.block_id == block_id,
                                         table.c.target == target))
        if new:
            conn.execute(insert(table), new)


def _push_rows(
    registry: Registry, block_id: str, *,
    factories: dict[str, Callable[[Registry], MirrorTarget]] | None = None,
) -> dict[str, str]:
    """Push the block's current version to each of its mirrors; ``{target: error}`` of the
    pushes that failed (each recorded on its mirror)."""
    rows = _rows(registry, block_id)
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
            failures[row["target"]] = str(exc)[:_ERROR_LIMIT]
            _record(registry, block_id, row["target"], error=failures[row["target"]])
        else:
            _record(registry, block_id, row["target"], target_ref=where,
                    version=block.block_version)
        finally:
            target.close()
    return failures


def _record(
    registry: Registry, block_id: str, target: str, *, error: str | None = None,
    target_ref: str | None = None, version: int | None = None,
) -> None:
    from sqlalchemy import update

    table = _table()
    values: dict[str, Any] = {"last_error": error}
    if error is None:
        values.update(target_ref=target_ref, pushed_version=version, pushed_at=datetime.now(UTC))
    with registry.store.engine.begin() as conn:
        conn.execute(update(table).where(table.c.block_id == block_id,
                                         table.c.target == target).values(**values))
