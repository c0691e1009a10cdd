"""sqlmodel table of rotation: one policy (and in-flight run) per block.

Changes here need an alembic revision (``0004_rotation`` created it, ``0011_seal_rotation``
sealed it). The rotation events live in the registry's event chain
(:class:`blocks.store.tables.EventLogRow`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel


class RotationPolicyRow(SQLModel, table=True):
    """A block's rotation policy, its schedule, the run in flight and the lease on it."""

    __tablename__ = "rotation_policy"
    __table_args__ = (Index("ix_rotation_policy_next_due_at", "next_due_at"),)

    block_id: str = Field(
        sa_column=Column(String(36), ForeignKey("block.id", ondelete="CASCADE"), primary_key=True)
    )
    policy: str = Field(sa_column=Column(Text, nullable=False))
    """The :class:`~blocks.rotation_types.policy.RotationPolicy` as JSON (no secrets)."""
    next_due_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    last_rotated_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    state: str = Field(max_length=16)
    """``idle``, ``running`` (a run is in flight or was interrupted) or ``failed``."""
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    run: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """The run in flight as JSON: id, last completed step, versions, rotator state."""
    revoke_version: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    revoke_due_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    revoke_state: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """Rotator state (JSON) of the previous credential, kept for its revocation."""
    event_seq: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    """The block's newest event in the chain when the row was sealed."""
    mac_term: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("keyring_term.term"), nullable=True)
    )
    mac: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    """HMAC of the sealed columns (:func:`blocks.crypto.integrity.policy_message`)."""
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
