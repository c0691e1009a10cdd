"""Pre-built SQLAlchemy statements of the write path.

Built once per process: constructing expression trees on every save cost about as much as the
commit itself, and built statements keep their compiled-cache keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update

from blocks.store.tables import BlockRefRow, BlockRow, BlockVersionRow

block: Any = BlockRow.__table__  # type: ignore[attr-defined]
version: Any = BlockVersionRow.__table__  # type: ignore[attr-defined]
ref: Any = BlockRefRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class WriteStatements:
    """The statements one save runs, with named parameters."""

    find: Any
    find_for_update: Any
    create: Any
    bump: Any
    add_version: Any
    clear_refs: Any
    add_refs: Any


@cache
def write_statements() -> WriteStatements:
    """The process-wide statements (params: ``p_slug``, ``p_name``, ``p_id``, ...)."""
    # The latest version number too: a staged (pending) version may sit above the current one.
    latest = (
        select(func.max(version.c.version)).where(version.c.block_id == block.c.id)
        .scalar_subquery()
    )
    find = select(block.c.id, block.c.current_version, latest).where(
        block.c.type_slug == bindparam("p_slug"), block.c.name == bindparam("p_name")
    )
    return WriteStatements(
        find=find,
        find_for_update=find.with_for_update(),
        create=insert(block),
        bump=update(block)
        .where(block.c.id == bindparam("p_id"), block.c.current_version == bindparam("p_current"))
        .values(current_version=bindparam("p_version"), updated_at=bindparam("p_now")),
        add_version=insert(version),
        clear_refs=delete(ref).where(ref.c.block_id == bindparam("p_id")),
        add_refs=insert(ref),
    )
