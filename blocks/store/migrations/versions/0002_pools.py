"""Work pools: pools, their immutable versions, and their queues.

Revision ID: 0002_pools
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_pools"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_pool",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("current_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", name="uq_work_pool_name"),
    )
    op.create_table(
        "work_pool_version",
        sa.Column(
            "pool_id", sa.String(36), sa.ForeignKey("work_pool.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("note", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "work_queue",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "pool_id", sa.String(36), sa.ForeignKey("work_pool.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("concurrency_limit", sa.Integer, nullable=True),
        sa.Column("is_paused", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("pool_id", "name", name="uq_work_queue_pool_id_name"),
    )
    op.create_index("ix_work_queue_pool_id", "work_queue", ["pool_id"])


def downgrade() -> None:
    op.drop_index("ix_work_queue_pool_id", "work_queue")
    op.drop_table("work_queue")
    op.drop_table("work_pool_version")
    op.drop_table("work_pool")
