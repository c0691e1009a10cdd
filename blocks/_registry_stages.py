"""Version stages of a registry's blocks: read them, move them (rotation's promote).

A base class of :class:`blocks.registry.Registry` (split out to keep modules of one job).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Literal

from blocks import hooks
from blocks._registry_audit import RegistryAudit
from blocks.core import split_ref
from blocks.errors import BlockNotFound, ConflictError, IntegrityError
from blocks.store.records import Head, StoredVersion
from blocks.store.writer import BEYOND_HEAD

Stage = Literal["current", "pending", "previous"]
STAGES: tuple[str, ...] = ("current", "pending", "previous")


class RegistryStages(RegistryAudit):
    """``stages``/``move_stages`` and the sealed-head moves under them."""

    _clock: Callable[[], datetime]
    _not_found: Callable[[str, str, int | None], str]

    def stages(self, ref: str) -> dict[str, int]:
        """``{stage: version}`` of ``slug/name`` from its sealed head; ``current`` is there."""
        slug, name = split_ref(ref)
        return self._stages(slug, name)

    def move_stages(
        self,
        ref: str,
        *,
        expected_current: int,
        current: int | None = None,
        pending: int | Literal["keep"] | None = "keep",
        previous: int | Literal["keep"] | None = "keep",
    ) -> None:
        """Move ``current`` and the ``pending``/``previous`` stages in one compare-and-set.

        A promotion passes ``current=<pending>, previous=<old current>, pending=None``.
        ``None`` drops a stage, ``"keep"`` leaves it. The sealed head is moved with a
        compare-and-set on its latest version, so nothing written meanwhile is lost.

        Raises:
            ConflictError: the current version is no longer ``expected_current``, or a version
                was written meanwhile.
            BlockNotFound: no such block, or a staged version does not exist / was purged.
        """
        slug, name = split_ref(ref)
        head = self._head(slug, name)
        if head.current_version != expected_current:
            raise ConflictError(
                f"{slug}/{name} is at version {head.current_version}, not the expected "
                f"{expected_current}: someone saved it meanwhile"
            )
        stages = head.stage_map()
        target = current if current is not None else head.current_version
        stages["current"] = target
        for label, value in (("pending", pending), ("previous", previous)):
            if value is None:
                stages.pop(label, None)
            elif value != "keep":
                stages[label] = int(value)
        with self._recording("promote" if target != head.current_version else "stage",
                             f"{slug}/{name}", version=target, subject=head.block_id,
                             detail={"stages": dict(sorted(stages.items()))}):
            self._move_head(f"{slug}/{name}", current=target, stages=stages,
                            expected_latest=int(head.latest_version or head.current_version))
        if target != head.current_version:
            self._after_current_moved(head.block_id)

    def _after_current_moved(self, block_id: str) -> None:
        """Re-push a block whose current version changed, and the mirrored blocks nesting it."""
        hooks.get(hooks.MIRRORS_AFTER_SAVE)(self, block_id)  # no HTTP client unless mirrored

    def _head(self, slug: str, name: str) -> Head:
        self._existing()
        row = self.store.get_version(slug, name, None)
        if row is None:
            raise BlockNotFound(f"no block {slug}/{name}")
        self.sealer.check_head(row.head, f"{slug}/{name}")
        return row.head

    def _stages(self, slug: str, name: str) -> dict[str, int]:
        head = self._head(slug, name)
        stages = head.stage_map()
        stages.setdefault("current", head.current_version)
        return stages

    def _move_head(
        self, ref: str, *, current: int, stages: Mapping[str, int], expected_latest: int
    ) -> Head:
        """Point ``ref``'s sealed head at version ``current`` with ``stages`` (internal).

        For rotation: ``stages`` maps stage names to versions (``{"current": 4, "previous":
        3, "pending": 5}``) and must hold ``"current": current``; every staged version must
        exist and not be purged. One transaction: the stored head is verified, then moved
        with a compare-and-set on its ``latest_version`` (``expected_latest``), and re-sealed.
        No version is written.

        Raises:
            ConflictError: the latest version is not ``expected_latest`` (someone wrote first).
            BlockNotFound: no such block, or a staged version does not exist / was purged.
            IntegrityError: the stored head does not authenticate.
            ValueError: ``stages["current"] != current`` or a version out of range.
        """
        slug, name = split_ref(ref)
        _ = self.keyring
        return self.store.move_head(
            slug, name, current=current, stages=stages, expected_latest=expected_latest,
            now=self._clock(),
        )

    def _check_head(self, ref: str) -> Head:
        """The verified head of ``ref`` (internal; raises BlockNotFound, IntegrityError)."""
        slug, name = split_ref(ref)
        self._existing()  # seals a freshly upgraded database before reading its rows
        row = self.store.get_version(slug, name)
        if row is None:
            raise BlockNotFound(self._not_found(slug, name, None))
        self._check(row, f"{slug}/{name}", None)
        return row.head

    def _check(self, row: StoredVersion, what: str, version: int | None) -> None:
        """Refuse a row whose head does not authenticate or whose version row is not right."""
        self.sealer.check_head(row.head, what)
        if row.beyond_head:
            raise IntegrityError(what, BEYOND_HEAD)
        latest = row.latest_version or 0
        if row.version is None:
            if version is None:
                raise IntegrityError(what, "its current version is missing")
            if version <= latest:
                raise IntegrityError(what, f"version {version} is missing")
            raise BlockNotFound(f"{what} has no version {version}; see 'blocks history {what}'")
        if row.version > latest:
            raise IntegrityError(what, f"version {row.version} is beyond the sealed head")

    def _no_stage(self, slug: str, name: str, stage: str) -> str:
        if self.store.summary(slug, name) is None:
            return f"no block {slug}/{name}; see 'blocks ls {slug}'"
        return f"{slug}/{name} has no {stage} version (no rotation holds one now)"
