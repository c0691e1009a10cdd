"""Block mirrors: blocks copied to another system (a Prefect server) and kept current.

Revision ID: 0010_block_mirrors
Revises: 0002_pools
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_block_mirrors"
down_revision = "0004_rotation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "block_mirror",
        sa.Column(
            "block_id", sa.String(36), sa.ForeignKey("block.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("target", sa.String(32), primary_key=True),
        sa.Column("target_name", sa.String(128), nullable=False),
        sa.Column("target_ref", sa.String(200), nullable=True),
        sa.Column("pushed_version", sa.Integer, nullable=True),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("block_mirror")
