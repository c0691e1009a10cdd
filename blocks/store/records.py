"""Plain records the store returns (no ORM objects leave the store)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SealedVersion:
    """What the registry hands the store for one new version."""

    term: int
    wrapped_key: bytes
    ciphertext: bytes


@dataclass(frozen=True)
class StoredVersion:
    """One version as read for decryption."""

    block_id: str
    type_slug: str
    name: str
    version: int
    current_version: int
    term: int | None
    wrapped_key: bytes | None
    ciphertext: bytes | None


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
