"""Integrity: sealed block heads, MACs on pool versions, pool heads and queues.

Revision ID: 0003_integrity
Revises: 0002_pools

Adds the columns; the MACs need the keyring, which a migration does not hold, so existing rows
are sealed by the first Registry that opens the upgraded database with its master key (see
``blocks.store.sealing``). The ``registry_state`` row ``unsealed`` marks a database whose rows
are still to be sealed; once it is gone, a row without a MAC is an integrity error.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_integrity"
down_revision = "0002_pools"
branch_labels = None
depends_on = None


COLUMNS = (
    ("block", "latest_version", sa.Integer),
    ("block", "stages", sa.Text),
    ("block", "head_term", sa.Integer),
    ("block", "head_mac", sa.LargeBinary),
    ("work_pool", "head_term", sa.Integer),
    ("work_pool", "head_mac", sa.LargeBinary),
    ("work_pool_version", "mac_term", sa.Integer),
    ("work_pool_version", "mac", sa.LargeBinary),
    ("work_queue", "mac_term", sa.Integer),
    ("work_queue", "mac", sa.LargeBinary),
)


def upgrade() -> None:
    # Plain ADD/DROP COLUMN, never a batch table copy: copying ``block`` on SQLite would drop
    # the original, and its ON DELETE CASCADE would take every version with it.
    for table, column, kind in COLUMNS:
        op.add_column(table, sa.Column(column, kind, nullable=True))
    op.execute(
        "UPDATE block SET latest_version = (SELECT MAX(v.version) FROM block_version v "
        "WHERE v.block_id = block.id)"
    )
    op.execute("UPDATE block SET latest_version = current_version WHERE latest_version IS NULL")
    op.create_table(
        "registry_state",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.execute("INSERT INTO registry_state (name, value) VALUES ('unsealed', '0003_integrity')")


def downgrade() -> None:
    op.drop_table("registry_state")
    for table, column, _ in reversed(COLUMNS):
        op.drop_column(table, column)
