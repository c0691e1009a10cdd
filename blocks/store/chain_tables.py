"""sqlmodel tables of the event chain (:mod:`blocks.store.chain`; alembic ``0011_seal_rotation``).

Changes here need an alembic revision.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel


class EventLogRow(SQLModel, table=True):
    """One event of the registry's append-only chain (kept when its subject is deleted)."""

    __tablename__ = "event_log"
    __table_args__ = (Index("ix_event_log_subject", "subject", "kind", "seq"),)

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    """1, 2, 3, ... with no gap."""
    prev: str = Field(max_length=64)
    """SHA-256 (hex) of the previous event's content; empty for the first."""
    kind: str = Field(max_length=32)
    """The body's schema: ``rotation``."""
    subject: str = Field(max_length=36)
    """The record the event concerns (a block id)."""
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    actor: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    """Canonical JSON (never a secret)."""
    mac_term: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("keyring_term.term"), nullable=True)
    )
    mac: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class EventChainRow(SQLModel, table=True):
    """A chain's sealed head: the newest event's number and content digest."""

    __tablename__ = "event_chain"

    name: str = Field(sa_column=Column(String(32), primary_key=True))
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    digest: str = Field(max_length=64)
    mac_term: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("keyring_term.term"), nullable=True)
    )
    mac: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
