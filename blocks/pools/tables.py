"""sqlmodel tables of work pools and queues. Changes here need an alembic revision.

Created by the ``0002_pools`` revision in ``blocks/store/migrations/versions/``; the MAC
columns by ``0003_integrity``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class WorkPoolRow(SQLModel, table=True):
    """A named work pool pointing at its current version. The type never changes."""

    __tablename__ = "work_pool"
    __table_args__ = (UniqueConstraint("name", name="uq_work_pool_name"),)

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=63)
    type: str = Field(max_length=32)
    current_version: int
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    head_term: int | None = Field(default=None)
    head_mac: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class WorkPoolVersionRow(SQLModel, table=True):
    """An immutable version of a pool's settings, as canonical JSON.

    The document holds ``description``, ``base_job_template``, ``concurrency_limit`` and
    ``is_paused``. It is not encrypted: templates refer to secrets through block placeholders
    and never contain them.
    """

    __tablename__ = "work_pool_version"

    pool_id: str = Field(
        sa_column=Column(
            String(36), ForeignKey("work_pool.id", ondelete="CASCADE"), primary_key=True
        )
    )
    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    document: str = Field(sa_column=Column(Text, nullable=False))
    note: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    mac_term: int | None = Field(default=None)
    mac: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class WorkQueueRow(SQLModel, table=True):
    """A queue of a pool; ``version`` is bumped by every update (compare-and-set)."""

    __tablename__ = "work_queue"
    __table_args__ = (UniqueConstraint("pool_id", "name", name="uq_work_queue_pool_id_name"),)

    id: str = Field(primary_key=True, max_length=36)
    pool_id: str = Field(
        sa_column=Column(
            String(36), ForeignKey("work_pool.id", ondelete="CASCADE"), nullable=False,
            index=True,
        )
    )
    name: str = Field(max_length=63)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    priority: int
    concurrency_limit: int | None = Field(default=None)
    is_paused: bool = Field(default=False)
    version: int
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    mac_term: int | None = Field(default=None)
    mac: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
