"""Block registry: keyring terms, blocks, versions, references.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "keyring_term",
        sa.Column("term", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(512), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "block",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("type_slug", sa.String(63), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("current_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("type_slug", "name", name="uq_block_type_slug_name"),
    )
    op.create_table(
        "block_version",
        sa.Column(
            "block_id", sa.String(36), sa.ForeignKey("block.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("term", sa.Integer, sa.ForeignKey("keyring_term.term"), nullable=True),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=True),
        sa.Column("ciphertext", sa.LargeBinary, nullable=True),
        sa.Column("schema_checksum", sa.String(80), nullable=False),
        sa.Column("schema_version", sa.String(32), nullable=False),
        sa.Column("note", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_block_version_term", "block_version", ["term"])
    op.create_table(
        "block_ref",
        sa.Column(
            "block_id", sa.String(36), sa.ForeignKey("block.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("path", sa.String(255), primary_key=True),
        sa.Column(
            "ref_block_id", sa.String(36), sa.ForeignKey("block.id", ondelete="RESTRICT"),
            nullable=False,
        ),
    )
    op.create_index("ix_block_ref_ref_block_id", "block_ref", ["ref_block_id"])


def downgrade() -> None:
    op.drop_table("block_ref")
    op.drop_index("ix_block_version_term", "block_version")
    op.drop_table("block_version")
    op.drop_table("block")
    op.drop_table("keyring_term")
