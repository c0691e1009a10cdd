"""The recovery window: a deleted block waits in ``block_deletion`` until its shred date.

Revision ID: 0014_recovery_window
Revises: 0013_tokens_policies

A block deleted with a recovery window keeps its rows; its sealed head is renamed to a name no
user can give (``~`` and its id), so loads, lists and references no longer find it, and one
``block_deletion`` row records its name, when it was deleted and when it is shredded, under a
MAC like a head's (``mac_term``, ``mac``). The ``deleted`` row of ``sealed_census`` counts those
rows. A new database has none, so nothing is to be sealed on upgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_recovery_window"
down_revision = "0013_tokens_policies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "block_deletion",
        sa.Column("block_id", sa.String(36),
                  sa.ForeignKey("block.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("type_slug", sa.String(63), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shred_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mac_term", sa.Integer, sa.ForeignKey("keyring_term.term"), nullable=False),
        sa.Column("mac", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("type_slug", "name", name="uq_block_deletion_type_slug_name"),
    )
    op.create_index("ix_block_deletion_shred_after", "block_deletion", ["shred_after"])


def downgrade() -> None:
    op.drop_index("ix_block_deletion_shred_after", "block_deletion")
    op.drop_table("block_deletion")
