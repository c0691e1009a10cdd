"""Machine identities of ``blocks server``: table ``jwt_config`` (trusted JWT issuers and the
roles mapping their claims to access policies), sealed under the keyring (``mac_term``, ``mac``).

Revision ID: 0016_machine_identities
Revises: 0014_recovery_window

The table starts empty, so nothing is left to seal after the upgrade; ``blocks auth jwt``
creates the rows and their sealed census (``access:jwt``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_machine_identities"
down_revision = "0014_recovery_window"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jwt_config",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mac_term", sa.Integer, sa.ForeignKey("keyring_term.term"), nullable=False),
        sa.Column("mac", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.execute("DELETE FROM sealed_census WHERE name = 'access:jwt'")
    op.drop_table("jwt_config")
