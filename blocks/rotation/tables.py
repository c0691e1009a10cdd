"""sqlmodel tables of rotation: one policy (and in-flight run) per block, and the audit trail.

Changes here need an alembic revision (``0004_rotation`` created them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel


class RotationPolicyRow(SQLModel, table=True):
    """A block's rotation policy, its schedule, the run in flight and the lease on it."""

    __tablename__ = "rotation_policy"
    __table_args__ = (Index("ix_rotation_policy_next_due_at", "next_due_at"),)

    block_id: str = Field(
        sa_column=Column(String(36), ForeignKey("block.id", ondelete="CASCADE"), primary_key=True)
    )
    policy: str = Field(sa_column=Column(Text, nullable=False))
    """The :class:`~blocks.rotation.policy.RotationPolicy` as JSON (no secrets)."""
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
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class RotationEventRow(SQLModel, table=True):
    """One recorded rotation step: when, who, what, outcome, versions, error (never a secret)."""

    __tablename__ = "rotation_event"
    __table_args__ = (Index("ix_rotation_event_block_id", "block_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    block_id: str = Field(
        sa_column=Column(String(36), ForeignKey("block.id", ondelete="CASCADE"), nullable=False)
    )
    run_id: str = Field(max_length=36)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    actor: str = Field(max_length=200)
    step: str = Field(max_length=16)
    outcome: str = Field(max_length=16)
    versions: str = Field(max_length=200)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
