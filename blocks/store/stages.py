"""Version stages: ``pending`` and ``previous`` labels beside a block's ``current`` pointer.

``current`` is the block's current version; the other stages are rows of ``block_stage`` that
name one version each. Moving ``current`` (promotion) relabels in the same transaction, under a
compare-and-set on the current version, so a block is never without a current version.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, ForeignKey, String
from sqlmodel import Field, SQLModel

from blocks.errors import BlockNotFound, ConflictError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

STAGES = ("current", "pending", "previous")
LABELS = ("pending", "previous")
"""Stages stored as labels (``current`` is the block's own pointer)."""


class BlockStageRow(SQLModel, table=True):
    """One stage label: ``stage`` of block ``block_id`` is ``version``."""

    __tablename__ = "block_stage"

    block_id: str = Field(
        sa_column=Column(String(36), ForeignKey("block.id", ondelete="CASCADE"), primary_key=True)
    )
    stage: str = Field(primary_key=True, max_length=16)
    version: int


SQL_READ = (
    "SELECT b.id, b.current_version, s.stage, s.version FROM block b "
    "LEFT JOIN block_stage s ON s.block_id = b.id WHERE b.type_slug = ? AND b.name = ?"
)
SQL_AT_STAGE = (
    "SELECT b.id, b.type_slug, b.name, v.version, b.current_version, v.term, v.wrapped_key, "
    "v.ciphertext FROM block b JOIN block_stage s ON s.block_id = b.id "
    "JOIN block_version v ON v.block_id = b.id AND v.version = s.version "
    "WHERE b.type_slug = ? AND b.name = ? AND s.stage = ?"
)


def stage_map(rows: list[Any]) -> tuple[str, dict[str, int]] | None:
    """``(block id, {stage: version})`` from :data:`SQL_READ` rows (``None``: no block)."""
    if not rows:
        return None
    stages = {"current": int(rows[0][1])}
    for _id, _current, stage, version in rows:
        if stage is not None:
            stages[stage] = int(version)
    return str(rows[0][0]), stages


@cache
def _statements() -> dict[str, Any]:
    """Built once per process (building expressions costs as much as running them)."""
    from sqlalchemy import bindparam, delete, insert, select, update

    from blocks.store.tables import BlockRow, BlockVersionRow

    table: Any = BlockStageRow.__table__  # type: ignore[attr-defined]
    block: Any = BlockRow.__table__  # type: ignore[attr-defined]
    version: Any = BlockVersionRow.__table__  # type: ignore[attr-defined]
    find = select(block.c.current_version).where(block.c.id == bindparam("p_id"))
    return {
        "drop": delete(table).where(table.c.block_id == bindparam("p_id"),
                                    table.c.stage == bindparam("p_stage")),
        "add": insert(table),
        "find": find,
        "find_for_update": find.with_for_update(),
        "versions": select(version.c.version).where(
            version.c.block_id == bindparam("p_id"), version.c.wrapped_key.is_not(None),
            version.c.version.in_(bindparam("p_versions", expanding=True))),
        "bump": update(block).where(block.c.id == bindparam("p_id"))
        .values(current_version=bindparam("p_current"), updated_at=bindparam("p_now")),
    }


def set_label(conn: Connection, block_id: str, stage: str, version: int | None) -> None:
    """Point ``stage`` at ``version`` (``None`` removes the label)."""
    st = _statements()
    conn.execute(st["drop"], {"p_id": block_id, "p_stage": stage})
    if version is not None:
        conn.execute(st["add"], {"block_id": block_id, "stage": stage, "version": version})


def move(
    conn: Connection,
    ref: str,
    block_id: str,
    *,
    expected_current: int,
    current: int | None,
    labels: Mapping[str, int | None],
    now: datetime,
    postgres: bool,
) -> None:
    """Move ``current`` (if given) and the labels, atomically, if current is still as expected.

    Raises:
        ConflictError: the current version is no longer ``expected_current``.
        BlockNotFound: the block was deleted, or a target version does not exist (or is
            purged).
    """
    st = _statements()
    found = conn.execute(st["find_for_update" if postgres else "find"], {"p_id": block_id}
                         ).scalar()
    if found is None:
        raise BlockNotFound(f"no block {ref}")
    if found != expected_current:
        raise ConflictError(
            f"{ref} is at version {found}, not the expected {expected_current}: someone saved "
            "it meanwhile"
        )
    targets = {v for v in (current, *labels.values()) if v is not None}
    if targets:
        known = set(conn.execute(st["versions"], {"p_id": block_id,
                                                  "p_versions": sorted(targets)}).scalars())
        missing = sorted(targets - known)
        if missing:
            raise BlockNotFound(f"{ref} has no version {missing[0]} to stage")
    if current is not None and current != found:
        conn.execute(st["bump"], {"p_id": block_id, "p_current": current, "p_now": now})
    for stage, version in labels.items():
        if stage not in LABELS:
            raise ValueError(f"unknown stage label {stage!r}")
        set_label(conn, block_id, stage, version)
