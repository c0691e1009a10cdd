"""Rotation: policies with their run and lease, and the audit trail (stages are in the head).

Revision ID: 0004_rotation
Revises: 0003_integrity
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_rotation"
down_revision = "0003_integrity"
branch_labels = None
depends_on = None


def _block_fk() -> sa.ForeignKey:
    return sa.ForeignKey("block.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "rotation_policy",
        sa.Column("block_id", sa.String(36), _block_fk(), primary_key=True),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("run", sa.Text, nullable=True),
        sa.Column("revoke_version", sa.Integer, nullable=True),
        sa.Column("revoke_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_state", sa.Text, nullable=True),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_rotation_policy_next_due_at", "rotation_policy", ["next_due_at"])
    op.create_table(
        "rotation_event",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("block_id", sa.String(36), _block_fk(), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("versions", sa.String(200), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_rotation_event_block_id", "rotation_event", ["block_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_rotation_event_block_id", "rotation_event")
    op.drop_table("rotation_event")
    op.drop_index("ix_rotation_policy_next_due_at", "rotation_policy")
    op.drop_table("rotation_policy")
