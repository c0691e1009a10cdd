"""API tokens and access policies of ``blocks server``: tables ``api_token`` and
``access_policy``, both sealed under the keyring (``mac_term``, ``mac``).

Revision ID: 0013_tokens_policies
Revises: 0012_seal_refs_mirrors

The tables start empty, so nothing is left to seal after the upgrade; ``blocks server init``
creates the first token and policy (and their sealed censuses).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_tokens_policies"
down_revision = "0012_seal_refs_mirrors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("policies", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mac_term", sa.Integer, sa.ForeignKey("keyring_term.term"), nullable=False),
        sa.Column("mac", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "access_policy",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mac_term", sa.Integer, sa.ForeignKey("keyring_term.term"), nullable=False),
        sa.Column("mac", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.execute("DELETE FROM sealed_census WHERE name IN ('access:tokens', 'access:policies')")
    op.drop_table("access_policy")
    op.drop_table("api_token")
