"""Deleting a block: one transaction that checks its sealed head and the reference rows that
name it, takes it out of the sealed censuses, and removes its rows (:func:`delete_block`), or,
with a recovery window, takes it out of use until its shred date (:func:`schedule_block`; see
:mod:`blocks.store.recovery`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from blocks.errors import BlockNotFound, BlocksError, ConflictError, ReferencedBlockError
from blocks.store import census
from blocks.store.ports import HeadSealer
from blocks.store.records import Head
from blocks.store.recovery import Schedule, at_text
from blocks.store.writer import Writer, ref_message

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine


class DeletionStore(Protocol):
    """The store as deleting a block uses it (:class:`~blocks.store.sql.SqlStore`, which imports
    this module)."""

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        ...

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine."""
        ...

    @property
    def writer(self) -> Writer:
        """The store's writer."""
        ...

    def executor(self, conn: Connection) -> census.Execute:
        """Runs ``?``-placeholder SQL on a SQLAlchemy connection of this store."""
        ...


_HEAD = (
    "SELECT id, type_slug, name, current_version, latest_version, stages, head_term, head_mac "
    "FROM block WHERE type_slug = ? AND name = ?"
)
_DELETES = (
    "DELETE FROM block_mirror WHERE block_id = ?",
    "DELETE FROM block_ref WHERE block_id = ?",
    "DELETE FROM block_version WHERE block_id = ?",
    "DELETE FROM block WHERE id = ?",
)


def delete_block(store: DeletionStore, sealer: HeadSealer, slug: str, name: str) -> None:
    """Delete ``slug/name`` with every version.

    In the same transaction the block leaves its type's sealed census, and its mirror rows
    (which the caller has emptied on their targets) leave the mirror census.

    Raises:
        BlockNotFound, IntegrityError (the head or a reference row naming the block does not
        authenticate), ReferencedBlockError.
    """
    from sqlalchemy.exc import IntegrityError as SqlIntegrityError

    ref_name = f"{slug}/{name}"
    lock = " FOR UPDATE" if store.dialect == "postgresql" else ""
    try:
        with store.engine.begin() as conn:
            run = store.executor(conn)
            row = run(_HEAD + lock, (slug, name)).fetchone()
            if row is None:
                raise BlockNotFound(f"no block {ref_name}")
            sealer.check_head(Head(*row), ref_name)
            block_id = row[0]
            referrers = _referrers(run, sealer, block_id)
            if referrers:
                raise ReferencedBlockError(ref_name, referrers)
            mirrors = run("SELECT target, target_name FROM block_mirror WHERE block_id = ?",
                          (block_id,)).fetchall()
            census.adjust(run, sealer, census.blocks_of(slug), lock=lock,
                          remove=[census.block_member(block_id, slug, name)])
            if mirrors:
                census.adjust(run, sealer, census.MIRRORS, lock=lock, remove=[
                    census.mirror_member(block_id, t, n) for t, n in mirrors])
            for statement in _DELETES:
                run(statement, (block_id,))
    except SqlIntegrityError:
        with store.engine.connect() as conn:
            run = store.executor(conn)
            found = run("SELECT id FROM block WHERE type_slug = ? AND name = ?",
                        (slug, name)).fetchone()
            referrers = _referrers(run, sealer, found[0]) if found else []
        concurrent = referrers or ["a block saved concurrently"]
        raise ReferencedBlockError(ref_name, concurrent) from None


def schedule_block(
    store: DeletionStore, sealer: HeadSealer, slug: str, name: str, *, now: datetime,
    shred_after: datetime,
) -> None:
    """Delete ``slug/name`` until ``shred_after``: out of loads, lists and references at once,
    its mirror rows gone (the caller has emptied their targets), its data kept for an undo.

    Raises:
        BlockNotFound, IntegrityError, ReferencedBlockError (a block that is not itself deleted
        references it), ConflictError (another block of that name is in its recovery window).
    """
    ref_name = f"{slug}/{name}"
    writer = store.writer
    try:
        with writer.transaction() as conn:
            run = writer.executor(conn)
            row = run(_HEAD + writer.lock, (slug, name)).fetchone()
            if row is None:
                raise BlockNotFound(f"no block {ref_name}")
            head = Head(*row)
            sealer.check_head(head, ref_name)
            referrers = _referrers(run, sealer, head.block_id, live_only=True)
            if referrers:
                raise ReferencedBlockError(ref_name, referrers)
            _drop_mirrors(run, sealer, head.block_id, writer.lock)
            Schedule(run, sealer, writer.lock, writer.stamp).schedule(head, now, shred_after)
    except BlocksError:
        raise
    except Exception as exc:
        if not writer.is_constraint(exc):
            raise
        raise ConflictError(
            f"cannot delete {ref_name} with a recovery window: another block of that name "
            "(renamed away from it) is in its recovery window; delete this one with --now, or "
            "rename it first") from None


def _drop_mirrors(run: census.Execute, sealer: HeadSealer, block_id: str, lock: str) -> None:
    mirrors = run("SELECT target, target_name FROM block_mirror WHERE block_id = ?",
                  (block_id,)).fetchall()
    if mirrors:
        census.adjust(run, sealer, census.MIRRORS, lock=lock, remove=[
            census.mirror_member(block_id, t, n) for t, n in mirrors])
        run("DELETE FROM block_mirror WHERE block_id = ?", (block_id,))


def _referrers(
    run: census.Execute, sealer: HeadSealer, block_id: str, *, live_only: bool = False
) -> list[str]:
    """The blocks whose reference rows name ``block_id``, each row authenticated (a deleted
    block in its recovery window is named as such; ``live_only`` leaves those out)."""
    rows = run(
        "SELECT b.type_slug, COALESCE(d.name, b.name), r.path, r.block_id, r.mac_term, r.mac, "
        "d.shred_after FROM block_ref r JOIN block b ON b.id = r.block_id "
        "LEFT JOIN block_deletion d ON d.block_id = b.id WHERE r.ref_block_id = ? "
        "ORDER BY b.type_slug, b.name, r.path", (block_id,),
    ).fetchall()
    for s, n, p, source, term, mac, _ in rows:
        sealer.check(term, mac, ref_message(source, p, block_id),
                     f"the reference from {s}/{n} (field {p})")
    return [f"{s}/{n} (field {p}){_deleted(until)}" for s, n, p, *_, until in rows
            if not (live_only and until is not None)]


def _deleted(until: Any) -> str:
    if until is None:
        return ""
    return (f", deleted and in its recovery window until {at_text(until)[:16]}Z: shred it "
            "first with 'blocks rm --now'")
