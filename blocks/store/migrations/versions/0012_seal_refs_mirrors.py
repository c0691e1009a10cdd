"""Sealed references, mirrors and censuses: MACs on block_ref and block_mirror rows, and the
sealed count and digest of the blocks of each type and of the mirrors (``sealed_census``).

Revision ID: 0012_seal_refs_mirrors
Revises: 0011_seal_rotation

A migration holds no key: the ``registry_state`` row ``unsealed-refs`` marks a database whose
reference and mirror rows and censuses are still to be sealed; the first Registry that opens it
with its master key seals them once (``blocks.store.sealing.seal_refs_and_mirrors``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012_seal_refs_mirrors"
down_revision = "0011_seal_rotation"
branch_labels = None
depends_on = None

TERM: Any = "term"
COLUMNS: tuple[tuple[str, str, Any], ...] = (
    ("block_ref", "mac_term", TERM),
    ("block_ref", "mac", sa.LargeBinary),
    ("block_mirror", "mac_term", TERM),
    ("block_mirror", "mac", sa.LargeBinary),
)


def upgrade() -> None:
    sqlite = op.get_context().dialect.name == "sqlite"
    for table, column, kind in COLUMNS:  # plain ADD COLUMN, never a batch copy (see 0003)
        if kind == TERM and sqlite:
            op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER "
                       "REFERENCES keyring_term (term)")
        elif kind == TERM:
            op.add_column(table, sa.Column(
                column, sa.Integer, sa.ForeignKey("keyring_term.term", name=f"fk_{table}_{column}"),
                nullable=True,
            ))
        else:
            op.add_column(table, sa.Column(column, kind, nullable=True))
    op.create_table(
        "sealed_census",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("members", sa.Integer, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("mac_term", sa.Integer, sa.ForeignKey("keyring_term.term"), nullable=False),
        sa.Column("mac", sa.LargeBinary, nullable=False),
    )
    op.execute("INSERT INTO registry_state (name, value) "
               "VALUES ('unsealed-refs', '0012_seal_refs_mirrors')")


def downgrade() -> None:
    op.execute("DELETE FROM registry_state WHERE name = 'unsealed-refs'")
    op.drop_table("sealed_census")
    for table, column, kind in reversed(COLUMNS):
        if kind == TERM and op.get_context().dialect.name == "postgresql":
            op.drop_constraint(f"fk_{table}_{column}", table, type_="foreignkey")
        op.drop_column(table, column)
