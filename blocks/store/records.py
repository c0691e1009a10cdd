"""Plain records the store returns (no ORM objects leave the store)."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from blocks.errors import IntegrityError, InvalidArgument


@dataclass(frozen=True)
class SealedVersion:
    """What the registry hands the store for one new version."""

    term: int
    wrapped_key: bytes
    ciphertext: bytes


@dataclass(frozen=True)
class Head:
    """A block's head record as stored: what its MAC binds, the term and the MAC."""

    block_id: str
    type_slug: str
    name: str
    current_version: int
    latest_version: int | None
    stages: str | None
    term: int | None
    mac: bytes | None

    def stage_map(self) -> dict[str, int]:
        """The stages as a dict (``{"current": N, ...}``); call only on a verified head."""
        import json

        loaded = json.loads(self.stages or "{}")
        return {str(k): int(v) for k, v in loaded.items()}


@dataclass(frozen=True)
class StoredVersion:
    """One version as read for decryption, with the block's head (``version`` None: no row)."""

    block_id: str
    type_slug: str
    name: str
    version: int | None
    current_version: int
    term: int | None
    wrapped_key: bytes | None
    ciphertext: bytes | None
    latest_version: int | None = None
    stages: str | None = None
    head_term: int | None = None
    head_mac: bytes | None = None
    beyond_head: Any = None  # truthy: a version above ``latest_version`` is stored

    @property
    def head(self) -> Head:
        """The block's head record."""
        return Head(self.block_id, self.type_slug, self.name, self.current_version,
                    self.latest_version, self.stages, self.head_term, self.head_mac)


@dataclass(frozen=True)
class BlockSummary:
    """A block without its document."""

    id: str
    type_slug: str
    name: str
    current_version: int
    created_at: datetime
    updated_at: datetime

    @property
    def ref(self) -> str:
        """``slug/name``."""
        return f"{self.type_slug}/{self.name}"


@dataclass(frozen=True)
class VersionInfo:
    """Metadata of one version (never its content)."""

    block_id: str
    type_slug: str
    name: str
    version: int
    created_at: datetime
    term: int | None
    schema_checksum: str
    note: str | None = None
    shredded: bool = False

    @property
    def ref(self) -> str:
        """``slug/name``."""
        return f"{self.type_slug}/{self.name}"

    def __await__(self) -> Generator[Any, None, VersionInfo]:
        # Prefect 3 code writes ``await block.save(name)`` in async flows; save is sync here
        # and has already returned this, so awaiting it gives it back (as ``await X.load``).
        return _ready(self).__await__()


async def _ready(value: VersionInfo) -> VersionInfo:
    return value


def check_expected_version(expected_version: int | None, what: str) -> None:
    """Refuse an ``expected_version`` no record can have (a usage error, not a conflict).

    Raises:
        InvalidArgument: it is negative (or not an integer); ``what`` names the object.
    """
    if expected_version is None:
        return
    if type(expected_version) is not int or expected_version < 0:
        raise InvalidArgument(
            f"{what}: expected_version must be a version number, 0 or more (0: must not exist "
            f"yet), got {expected_version!r}"
        )


@dataclass(frozen=True)
class DeletedBlock:
    """A block in its recovery window: shredded by ``blocks gc`` once ``shred_after`` passed."""

    id: str
    type_slug: str
    name: str
    deleted_at: datetime
    shred_after: datetime

    @property
    def ref(self) -> str:
        """``slug/name``, the name it had and gets back."""
        return f"{self.type_slug}/{self.name}"


@dataclass
class GcResult:
    """What a ``gc`` did: the blocks that were due when it started, those it shredded (none
    in a dry run), and the due ones left waiting because another deleted block (not yet due)
    still references them."""

    shredded: list[DeletedBlock] = field(default_factory=list)
    waiting: list[tuple[DeletedBlock, str]] = field(default_factory=list)
    due: list[DeletedBlock] = field(default_factory=list)


def utc(value: Any) -> datetime:
    """Timestamps come back naive from SQLite and as strings from raw sqlite3; make them UTC.

    Raises:
        IntegrityError: the stored value is not a timestamp (never echoed).
    """
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        moment = None
    if not isinstance(moment, datetime):
        raise IntegrityError("a stored timestamp", "it is not a timestamp")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def stages_json(stages: Mapping[str, int]) -> str:
    """Canonical JSON of a stage map (sorted keys, no spaces)."""
    return "{" + ",".join(f'"{k}":{int(v)}' for k, v in sorted(stages.items())) + "}"


def saved_stages(head: Head | None, version: int) -> dict[str, int]:
    """The stage map after an ordinary save of ``version`` over ``head``.

    As AWS Secrets Manager's ``PutSecretValue``: the new version is ``current``, the version
    that was current becomes ``previous`` (a holder of it keeps a label to load it by, and
    a verifier can accept both), and a rotation's ``pending`` version keeps its label: that
    rotation is not lost; its promotion then fails on the moved ``current`` and
    ``blocks rotate --cancel`` rolls it back upstream.
    """
    stages = {"current": version}
    if head is not None:
        stages["previous"] = head.current_version
        pending = head.stage_map().get("pending")
        if pending is not None:
            stages["pending"] = pending
    return stages
