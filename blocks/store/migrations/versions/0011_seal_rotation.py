"""Sealed rotation: MACs on rotation policies, and the rotation events in a hash-linked chain.

Revision ID: 0011_seal_rotation
Revises: 0010_block_mirrors

Adds ``mac_term``, ``mac`` and ``event_seq`` to ``rotation_policy``; creates ``event_log`` (the
registry's append-only event chain, kept when a block is deleted, so no foreign key) and
``event_chain`` (its sealed head); copies ``rotation_event`` into ``event_log`` in order and
drops it. A migration holds no key: the ``registry_state`` row ``unsealed-rotation`` makes the
first Registry that opens the database with its master key seal them
(``blocks.store.rotation_seals``).
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0011_seal_rotation"
down_revision = "0010_block_mirrors"
branch_labels = None
depends_on = None



def _term_column(table: str, column: str) -> None:
    if op.get_context().dialect.name == "sqlite":
        # alembic would add the constraint separately, which SQLite cannot do
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER "
                   "REFERENCES keyring_term (term)")
    else:
        op.add_column(table, sa.Column(
            column, sa.Integer, sa.ForeignKey("keyring_term.term", name=f"fk_{table}_{column}"),
            nullable=True,
        ))


def _term() -> sa.Column[int]:
    return sa.Column("mac_term", sa.Integer, sa.ForeignKey("keyring_term.term"), nullable=True)


def upgrade() -> None:
    op.add_column("rotation_policy", sa.Column("event_seq", sa.Integer, nullable=True))
    _term_column("rotation_policy", "mac_term")
    op.add_column("rotation_policy", sa.Column("mac", sa.LargeBinary, nullable=True))
    op.create_table(
        "event_log",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("prev", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        _term(),
        sa.Column("mac", sa.LargeBinary, nullable=True),
    )
    op.create_index("ix_event_log_subject", "event_log", ["subject", "kind", "seq"])
    op.create_table(
        "event_chain",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        _term(),
        sa.Column("mac", sa.LargeBinary, nullable=True),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT block_id, run_id, at, actor, step, outcome, versions, error FROM rotation_event "
        "ORDER BY id"
    )).all()
    log = sa.table("event_log", *(sa.column(c) for c in (
        "seq", "prev", "kind", "subject", "at", "actor", "body")))
    if rows:
        conn.execute(sa.insert(log), [
            {"seq": seq, "prev": "", "kind": "rotation", "subject": block_id, "at": at,
             "actor": actor, "body": json.dumps(
                 {"run_id": run_id, "step": step, "outcome": outcome, "versions": versions,
                  "error": error}, sort_keys=True, separators=(",", ":"))}
            for seq, (block_id, run_id, at, actor, step, outcome, versions, error)
            in enumerate(rows, 1)
        ])
    op.drop_index("ix_rotation_event_block_id", "rotation_event")
    op.drop_table("rotation_event")
    op.execute("INSERT INTO registry_state (name, value) VALUES ('unsealed-rotation', "
               "'0011_seal_rotation')")


def downgrade() -> None:
    op.create_table(
        "rotation_event",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("block_id", sa.String(36), sa.ForeignKey("block.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("versions", sa.String(200), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_rotation_event_block_id", "rotation_event", ["block_id", "id"])
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT e.subject, e.at, e.actor, e.body FROM event_log e JOIN block b "
        "ON b.id = e.subject WHERE e.kind = 'rotation' ORDER BY e.seq"
    )).all()
    events = sa.table("rotation_event", *(sa.column(c) for c in (
        "block_id", "run_id", "at", "actor", "step", "outcome", "versions", "error")))
    copied = []
    for subject, at, actor, body in rows:
        data = json.loads(body)
        copied.append({"block_id": subject, "at": at, "actor": actor, **{
            k: data.get(k) for k in ("run_id", "step", "outcome", "versions", "error")}})
    if copied:
        conn.execute(sa.insert(events), copied)
    op.execute("DELETE FROM registry_state WHERE name = 'unsealed-rotation'")
    op.drop_table("event_chain")
    op.drop_index("ix_event_log_subject", "event_log")
    op.drop_table("event_log")
    op.drop_column("rotation_policy", "mac")
    if op.get_context().dialect.name == "postgresql":
        op.drop_constraint("fk_rotation_policy_mac_term", "rotation_policy", type_="foreignkey")
    op.drop_column("rotation_policy", "mac_term")
    op.drop_column("rotation_policy", "event_seq")
