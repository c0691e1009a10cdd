"""The recovery window: deleting a block without shredding it yet, undoing that, shredding later.

A block deleted with a recovery window keeps its id, versions and data keys. In one
transaction its sealed head is renamed to :func:`tombstone` (``~`` and its id: no valid name,
so loads, lists, completion and references by name no longer find it), its mirror rows go (as
for an immediate delete), and one ``block_deletion`` row records its type, name, when it was
deleted and when it is shredded, under a MAC like a head's. The sealed census ``deleted``
counts those rows, and the block's type census follows its head's name.

Tampering is refused where the schedule is used (undo, the save that brings a block back,
``gc``, listings of deleted blocks) and reported by ``blocks verify``: a moved shred date or an
edited row fails its MAC; a row deleted or put back fails the census; a head renamed by SQL
fails its MAC; an old head put back while its row exists is refused by every load and write
(the ``EXISTS`` beside the "version beyond the head" check).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from blocks.crypto import integrity
from blocks.errors import BlockNotFound, ConflictError, IntegrityError, ReferencedBlockError
from blocks.store import census
from blocks.store.records import DeletedBlock, Head, utc

__all__ = ["DeletedBlock", "Schedule"]

DELETED = "deleted"
"""The census of the ``block_deletion`` rows (one row for the whole registry)."""
PREFIX = "~"

_COLUMNS = "block_id, type_slug, name, deleted_at, shred_after, mac_term, mac"
_SELECT = "SELECT " + _COLUMNS + " FROM block_deletion"  # noqa: S608 (constants only)
_SELECT_ALL = _SELECT + " ORDER BY shred_after, block_id"
_SELECT_ONE = _SELECT + " WHERE block_id = ?"
_INSERT = (
    "INSERT INTO block_deletion (" + _COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
)
_HEAD_BY_ID = (
    "SELECT id, type_slug, name, current_version, latest_version, stages, head_term, head_mac "
    "FROM block WHERE id = ?"
)
_RENAME_HEAD = (
    "UPDATE block SET name = ?, head_term = ?, head_mac = ?, updated_at = ? "
    "WHERE id = ? AND head_mac = ?"
)


class Sealer(Protocol):
    """Seals and checks heads and rows (:class:`~blocks.store.sealing.KeyringSealer`)."""

    def seal_head(self, head: Head) -> Head: ...
    def check_head(self, head: Head, what: str) -> None: ...
    def sign(self, message: Callable[[int], bytes]) -> tuple[int, bytes]: ...
    def check(self, term: Any, mac: Any, message: Callable[[int], bytes], what: str) -> None: ...


def tombstone(block_id: str) -> str:
    """The name a deleted block's head carries: never a valid block name."""
    return PREFIX + str(block_id)


def is_tombstone(name: str) -> bool:
    """Whether a stored head name is a deleted block's."""
    return str(name).startswith(PREFIX)


def at_text(value: Any) -> str:
    """A timestamp as the MAC covers it: ISO 8601 in UTC with microseconds."""
    return utc(value).isoformat(timespec="microseconds")


def _text(value: Any) -> str:
    try:
        return at_text(value)
    except IntegrityError:
        return "not a timestamp"  # never a valid MAC input of ours: the row does not verify


def deletion_message(row: tuple[Any, ...]) -> Callable[[int], bytes]:
    """What a ``block_deletion`` row's MAC covers (``row`` as :data:`_COLUMNS` orders it)."""
    block_id, slug, name, deleted_at, shred_after = row[:5]
    return lambda t: integrity.deletion_message(
        block_id, slug, name, _text(deleted_at), _text(shred_after), t)


def member(block_id: str, slug: str, name: str) -> int:
    """A deletion row's member value in the ``deleted`` census."""
    return census.block_member(block_id, slug, "deleted:" + str(name))


def describe(row: tuple[Any, ...]) -> str:
    """A deletion row named for people."""
    return f"{row[1]}/{row[2]} (scheduled deletion)"


class Schedule:
    """The deletion schedule, inside one write transaction of the caller.

    Args:
        run: executes ``?``-placeholder SQL on the transaction's connection.
        sealer: the registry's sealer.
        lock: ``" FOR UPDATE"`` on PostgreSQL, ``""`` on SQLite (``BEGIN IMMEDIATE`` locks).
        stamp: a timestamp as the dialect stores it.
    """

    def __init__(self, run: census.Execute, sealer: Sealer, lock: str,
                 stamp: Callable[[datetime], Any]) -> None:
        self.run, self.sealer, self.lock, self.stamp = run, sealer, lock, stamp

    # -- reads ----------------------------------------------------------------------------

    def rows(self, where: str = "", params: tuple[Any, ...] = (), *, each: bool = True
             ) -> list[DeletedBlock]:
        """The schedule rows (``where`` narrows them), after checking every row against the
        sealed census and each row's MAC and tombstoned head.

        Raises:
            IntegrityError: a row, the census or a head does not authenticate, or they
                disagree (a row inserted, deleted, edited or put back outside Blocks).
        """
        # The census first, locked (PostgreSQL): a deletion committed between the two reads
        # would otherwise be in the census and not in the rows read before it.
        found = census.read(self.run, self.sealer, DELETED, lock=self.lock)
        every = [tuple(r) for r in self.run(_SELECT_ALL, ()).fetchall()]
        if found is None and every and self.lock:
            # No census row yet, so none was locked: the first deletion, which makes it, may
            # have committed in between. Read both again, under its lock this time.
            found = census.read(self.run, self.sealer, DELETED, lock=self.lock)
            every = [tuple(r) for r in self.run(_SELECT_ALL, ()).fetchall()]
        have = (len(every), census.digest(member(*r[:3]) for r in every))
        if (found or (0, census.digest(()))) != have:
            raise IntegrityError(
                "the deletion schedule",
                "its rows do not match their sealed census (a row was inserted, deleted or put "
                "back outside Blocks)",
            )
        orphans = self.run(
            "SELECT type_slug, id FROM block WHERE name LIKE ? AND id NOT IN "
            "(SELECT block_id FROM block_deletion)", (PREFIX + "%",)).fetchall()
        if orphans:
            raise IntegrityError(
                f"the deleted block with id {orphans[0][1]}",
                "its scheduled deletion is missing (deleted outside Blocks?)")
        if not each:  # the set as a whole (census and tombstones), not each row's MAC
            return []
        wanted = {str(r[0]) for r in self.run(
            "SELECT block_id FROM block_deletion" + where, params  # noqa: S608 (constants)
        ).fetchall()} if where else None
        out = []
        for row in every:
            if wanted is not None and str(row[0]) not in wanted:
                continue
            self._check(row)
            out.append(DeletedBlock(str(row[0]), str(row[1]), str(row[2]), utc(row[3]),
                                    utc(row[4])))
        return out

    def _check(self, row: tuple[Any, ...]) -> Head:
        """Check one row's MAC and its block's head (which must carry the tombstone)."""
        self.sealer.check(row[5], row[6], deletion_message(row), describe(row))
        found = self.run(_HEAD_BY_ID + self.lock, (row[0],)).fetchone()
        if found is None:
            raise IntegrityError(describe(row), "its block's rows are missing")
        head = Head(*found)
        self.sealer.check_head(head, f"{row[1]}/{row[2]}")
        if head.name != tombstone(head.block_id) or head.type_slug != row[1]:
            raise IntegrityError(
                f"{row[1]}/{row[2]}",
                "it is scheduled for deletion but its head is live (an old head put back?)")
        return head

    def get(self, block_id: str) -> DeletedBlock | None:
        """The deleted block with this id, its row and head checked (no census read)."""
        row = self.run(_SELECT_ONE + self.lock, (block_id,)).fetchone()
        if row is None:
            return None
        self._check(tuple(row))
        return DeletedBlock(str(row[0]), str(row[1]), str(row[2]), utc(row[3]), utc(row[4]))

    def find(self, slug: str, name: str) -> DeletedBlock | None:
        """The block ``slug/name`` in its recovery window, if there is one (checked)."""
        rows = self.rows(" WHERE type_slug = ? AND name = ?", (slug, name))
        return rows[0] if rows else None

    # -- writes ---------------------------------------------------------------------------

    def schedule(self, head: Head, now: datetime, shred_after: datetime) -> None:
        """Take a verified live head out of use until ``shred_after`` (see the module)."""
        self.rows(each=False)  # the schedule as a whole is checked before it grows
        slug, name, block_id = head.type_slug, head.name, head.block_id
        self._rename(head, tombstone(block_id), now)
        values = (block_id, slug, name, self.stamp(now), self.stamp(shred_after))
        term, mac = self.sealer.sign(deletion_message((block_id, slug, name, now, shred_after)))
        self.run(_INSERT, (*values, term, mac))
        census.adjust(self.run, self.sealer, DELETED, lock=self.lock,
                      add=[member(block_id, slug, name)])

    def restore(self, deleted: DeletedBlock, now: datetime, *, check_refs: bool = True) -> Head:
        """Give a checked deleted block its name back; returns its re-sealed head.

        Raises:
            ConflictError: it references a block that is itself deleted (undo that first).
        """
        head = self._check((deleted.id, deleted.type_slug, deleted.name, deleted.deleted_at,
                            deleted.shred_after, *self._mac(deleted.id)))
        gone = [f"{s}/{n}" for s, n in self.run(
            "SELECT b.type_slug, b.name FROM block_ref r JOIN block b ON b.id = r.ref_block_id "
            "WHERE r.block_id = ? AND b.name LIKE ?", (deleted.id, PREFIX + "%")).fetchall()]
        if gone and check_refs:
            names = ", ".join(self.deleted_name(ref) for ref in gone)
            raise ConflictError(
                f"cannot bring back {deleted.ref}: it references {names}, deleted too; bring "
                f"that back first ('blocks rm --undo REF')")
        new = self._rename(head, deleted.name, now)
        self.run("DELETE FROM block_deletion WHERE block_id = ?", (deleted.id,))
        census.adjust(self.run, self.sealer, DELETED, lock=self.lock,
                      remove=[member(deleted.id, deleted.type_slug, deleted.name)])
        return new

    def shred(self, deleted: DeletedBlock) -> None:
        """Delete a checked deleted block's rows: its data keys go with its versions.

        Raises:
            ReferencedBlockError: another deleted block still references it (shred that one
                first; ``gc`` does so in order).
        """
        referrers = [f"{s}/{n}" for s, n in self.run(
            "SELECT b.type_slug, b.name FROM block_ref r JOIN block b ON b.id = r.block_id "
            "WHERE r.ref_block_id = ? ORDER BY b.type_slug, b.name", (deleted.id,)).fetchall()]
        if referrers:
            raise ReferencedBlockError(deleted.ref, [self.deleted_name(r) for r in referrers])
        slug = deleted.type_slug
        census.adjust(self.run, self.sealer, census.blocks_of(slug), lock=self.lock,
                      remove=[census.block_member(deleted.id, slug, tombstone(deleted.id))])
        census.adjust(self.run, self.sealer, DELETED, lock=self.lock,
                      remove=[member(deleted.id, slug, deleted.name)])
        for table, column in (("block_deletion", "block_id"), ("block_ref", "block_id"),
                              ("block_version", "block_id"), ("block", "id")):
            self.run(f"DELETE FROM {table} WHERE {column} = ?", (deleted.id,))  # noqa: S608

    def deleted_name(self, ref: str) -> str:
        """``slug/name`` of a block as people know it (a deleted one says so)."""
        slug, _, name = ref.partition("/")
        if not is_tombstone(name):
            return ref
        row = self.run("SELECT type_slug, name, shred_after FROM block_deletion "
                       "WHERE block_id = ?", (name[len(PREFIX):],)).fetchone()
        if row is None:
            return f"{slug}/(a deleted block)"
        return f"{row[0]}/{row[1]} (deleted, shredded after {at_text(row[2])[:19]}Z)"

    def _mac(self, block_id: str) -> tuple[Any, Any]:
        row = self.run("SELECT mac_term, mac FROM block_deletion WHERE block_id = ?",
                       (block_id,)).fetchone()
        if row is None:
            raise BlockNotFound(f"the deleted block with id {block_id} is no longer scheduled")
        return row[0], row[1]

    def _rename(self, head: Head, name: str, now: datetime) -> Head:
        new = self.sealer.seal_head(replace(head, name=name, term=None, mac=None))
        moved = self.run(_RENAME_HEAD, (name, new.term, new.mac, self.stamp(now),
                                        head.block_id, head.mac)).rowcount
        if moved != 1:
            raise ConflictError(f"{head.type_slug}/{head.name} changed during the write; retry")
        census.adjust(self.run, self.sealer, census.blocks_of(head.type_slug), lock=self.lock,
                      add=[census.block_member(head.block_id, head.type_slug, name)],
                      remove=[census.block_member(head.block_id, head.type_slug, head.name)])
        return new
