"""The mirror rows: one per mirrored block and target (``block_mirror``), each sealed, all
counted in the sealed mirror census; reading them checks both, writing them keeps both.

Split from :mod:`blocks.integrations.mirrors` (the configuration API) and
:mod:`blocks.integrations.mirror_push` (the pushes and the save/delete hooks).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from blocks.errors import IntegrityError
from blocks.store import census
from blocks.store.engine import read_only
from blocks.store.sealing import mirror_message

if TYPE_CHECKING:
    from sqlalchemy import Table

    from blocks.registry import Registry

MIRROR_TABLE = "block_mirror"


def mirror_table() -> Table:
    """The ``block_mirror`` table (built on first use: ``import blocks`` stays light)."""
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


def ref_of(registry: Registry, block_id: str) -> tuple[str, int | None]:
    """``slug/name`` and current version of the block (its id and ``None`` when gone)."""
    row = registry.store.get_current_by_id(block_id)
    if row is None:
        return block_id, None
    return f"{row.type_slug}/{row.name}", row.current_version


def checked_census(registry: Registry) -> list[tuple[str, str, str]]:
    """Every mirror row, checked against the sealed mirror census."""
    with read_only(registry.store.engine).connect() as conn:  # one moment, no write lock
        return census.check_mirrors(registry.store.executor(conn), registry.sealer)


def rows(registry: Registry, block_id: str) -> list[dict[str, Any]]:
    """The block's mirror rows, each authenticated and all matching the sealed census.

    Raises:
        IntegrityError: a row was inserted, changed or deleted outside Blocks; nothing is
            pushed or removed.
    """
    from sqlalchemy import select

    table = mirror_table()
    sealer = registry.sealer
    with read_only(registry.store.engine).connect() as conn:  # one moment, no write lock
        census.check_mirrors(registry.store.executor(conn), sealer)
        stored = [dict(r._mapping) for r in conn.execute(
            select(table).where(table.c.block_id == block_id))]
    for row in stored:
        if not sealer.valid(row["mac_term"], row["mac"],
                            mirror_message(block_id, row["target"], row["target_name"])):
            found = registry.store.get_current_by_id(block_id)
            ref = f"{found.type_slug}/{found.name}" if found else f"the block with id {block_id}"
            raise IntegrityError(f"the mirror of {ref} to {row['target']}")
    return stored


def write_rows(
    registry: Registry, block_id: str, target: str, rows: list[dict[str, Any]]
) -> None:
    """Replace the block's mirror row for ``target`` with ``rows`` (none or one: its
    ``target_name`` and any status columns), sealed, with the census, in one transaction."""
    from sqlalchemy import delete, insert, select

    table = mirror_table()
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


def record(
    registry: Registry, block_id: str, target: str, *, error: str | None = None,
    target_ref: str | None = None, version: int | None = None,
) -> None:
    """A push's result on the mirror row: its error, or where and which version it pushed."""
    from sqlalchemy import update

    table = mirror_table()
    values: dict[str, Any] = {"last_error": error}
    if error is None:
        values.update(target_ref=target_ref, pushed_version=version, pushed_at=datetime.now(UTC))
    with registry.store.engine.begin() as conn:
        conn.execute(update(table).where(table.c.block_id == block_id,
                                         table.c.target == target).values(**values))
