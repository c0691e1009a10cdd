"""The recovery window of deleted blocks: list them, bring one back, shred what is due.

A base class of :class:`blocks.registry.Registry` (split out to keep modules of one job);
:meth:`Registry.delete` decides between shredding at once and scheduling. The SQL is in
:mod:`blocks.store.recovery`.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from blocks._registry_stages import RegistryStages
from blocks.core import split_ref
from blocks.errors import (
    BlockNotFound,
    BlocksError,
    ConflictError,
    InvalidArgument,
    ReferencedBlockError,
)
from blocks.settings import parse_window
from blocks.store.records import BlockSummary, DeletedBlock, GcResult
from blocks.store.recovery import Schedule
from blocks.store.sql import translate

__all__ = ["GcResult", "RecoveryWindow", "RegistryRecovery"]

RecoveryWindow = timedelta | int | str | None
"""A recovery window: a ``timedelta``, whole days, or text such as ``"7d"``/``"36h"``; ``None``
takes the ``BLOCKS_RECOVERY_WINDOW`` setting (default 7 days); 0 shreds at once."""


class RegistryRecovery(RegistryStages):
    """``deleted``/``undelete``/``gc`` and the choice of a delete's window."""

    _clock: Callable[[], datetime]

    def recovery_window(self, value: RecoveryWindow = None) -> timedelta:
        """The window a delete uses: ``value``, or the registry's setting when ``None``.

        Raises:
            InvalidArgument: not a window of 0 to 30 days (the message says the forms).
        """
        try:
            return parse_window(self.settings.recovery_window if value is None else value)
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from None

    @contextmanager
    def _schedule(self) -> Iterator[Schedule]:
        """One write transaction on the deletion schedule (the keyring unwrapped first).

        Raises:
            ConflictError: a unique name was taken meanwhile (an undo whose name is in use).
            StoreError: the database failed (one line, no SQL parameters).
        """
        self._require_registry()
        sealer, store = self.sealer, self.store
        store.ensure_schema()
        writer = store.writer
        try:
            with writer.transaction() as conn:
                yield Schedule(writer.executor(conn), sealer, writer.lock, writer.stamp)
        except BlocksError:
            raise
        except Exception as exc:
            if writer.is_constraint(exc):
                raise ConflictError(
                    "another block took that name meanwhile; rename it, then retry") from None
            raise translate(exc, store.url) from None

    def deleted(self, slug: str | None = None) -> builtins.list[DeletedBlock]:
        """The blocks in their recovery window (of one type, or all), soonest shred first.

        Raises:
            IntegrityError: the schedule was changed outside Blocks (a shred date moved, a
                deletion added or removed by SQL).
        """
        with self._schedule() as schedule:
            rows = schedule.rows()
        return [d for d in rows if slug is None or d.type_slug == slug]

    def deleted_refs(self) -> builtins.list[str]:
        """The names of the deleted blocks in their window, for tab completion: one read, no
        lock, unchecked (names are not secret; every use of the schedule checks it)."""
        return sorted(f"{s}/{n}" for s, n in self.store._fetchall(
            "SELECT type_slug, name FROM block_deletion", ()))

    def undelete(self, ref: str) -> BlockSummary:
        """Bring back ``slug/name`` deleted within its recovery window: same id, every version
        and stage, its rotation policy. Mirrors are not restored (``blocks mirror`` again).

        Raises:
            BlockNotFound: ``slug/name`` is not in a recovery window.
            ConflictError: it references a block that is deleted too (undo that first), or
                another block has taken its name.
            IntegrityError: the schedule or the block's head was changed outside Blocks.
        """
        slug, name = split_ref(ref)
        now = self._clock()
        with self._recording("undelete", f"{slug}/{name}"), self._schedule() as schedule:
            deleted = schedule.find(slug, name)
            if deleted is None:
                raise BlockNotFound(
                    f"no deleted block {ref} in its recovery window; see 'blocks rm "
                    "--list-deleted' (a shredded block cannot be brought back)")
            schedule.restore(deleted, now)
        found = self.store.summary(slug, name)
        assert found is not None
        return found

    def gc(self, *, dry_run: bool = False, now: datetime | None = None) -> GcResult:
        """Shred every deleted block whose recovery window has passed (its data keys go, and
        SQLite's WAL is checkpointed), a referrer before the blocks it references. With
        ``dry_run``, only say what is due (``GcResult.due``).

        Raises:
            IntegrityError: the schedule was changed outside Blocks; nothing is shredded.
        """
        moment = now or self._clock()
        with self._schedule() as schedule:
            due = [d for d in schedule.rows() if d.shred_after <= moment]
        result = GcResult(due=builtins.list(due))
        if dry_run:
            return result
        while due:
            waiting = []
            for deleted in due:
                try:
                    with self._recording("shred", f"{deleted.type_slug}/{deleted.name}",
                                         subject=deleted.id), self._schedule() as schedule:
                        current = schedule.get(deleted.id)
                        if current is not None and current.shred_after <= moment:
                            schedule.shred(current)
                            result.shredded.append(current)
                except ReferencedBlockError as exc:
                    waiting.append((deleted, str(exc)))
            if len(waiting) == len(due):
                result.waiting = waiting
                break
            due = [d for d, _ in waiting]
        if result.shredded:
            self.store.checkpoint()  # the shredded keys must not linger in the SQLite WAL
        return result

    def _shred_deleted(self, slug: str, name: str) -> bool:
        """Shred ``slug/name`` now if it is in its recovery window (``rm --now`` of a deleted
        block); whether there was one."""
        with self._schedule() as schedule:
            deleted = schedule.find(slug, name)
            if deleted is None:
                return False
            schedule.shred(deleted)
        self.store.checkpoint()
        return True

    def _deletion_note(self, slug: str, name: str) -> str:
        """Why ``slug/name`` is not found, when it is in its recovery window ("" otherwise)."""
        try:
            found = self.store._fetchone(
                "SELECT shred_after FROM block_deletion WHERE type_slug = ? AND name = ?",
                (slug, name))
        except BlocksError:  # a database this process may not migrate: no note, same error
            return ""
        if found is None:
            return ""
        from blocks.store.recovery import at_text

        return (f"; it was deleted and is shredded after {at_text(found[0])[:16]}Z: "
                f"'blocks rm --undo {slug}/{name}' brings it back")

