"""The ledger: logs, leaves, stored subtree hashes and signed checkpoints, append-only.

Revision ID: 0001_ledger
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledger.database import append_only_ddl, drop_append_only_ddl

revision = "0001_ledger"
down_revision = None
branch_labels = None
depends_on = None

# Frozen here: later revisions that add ledger tables add their own triggers.
TABLES = ("ledger_log", "ledger_leaf", "ledger_hash", "ledger_checkpoint")


def upgrade() -> None:
    op.create_table(
        "ledger_log",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(255), nullable=False),
        sa.Column("vkey", sa.String(400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_log"),
        sa.UniqueConstraint("origin", name="uq_ledger_log_origin"),
    )
    op.create_table(
        "ledger_leaf",
        sa.Column("log_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(["log_id"], ["ledger_log.id"], name="fk_ledger_leaf_log_id_ledger_log"),
        sa.PrimaryKeyConstraint("log_id", "seq", name="pk_ledger_leaf"),
    )
    op.create_table(
        "ledger_hash",
        sa.Column("log_id", sa.String(64), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.ForeignKeyConstraint(["log_id"], ["ledger_log.id"], name="fk_ledger_hash_log_id_ledger_log"),
        sa.PrimaryKeyConstraint("log_id", "position", name="pk_ledger_hash"),
    )
    op.create_table(
        "ledger_checkpoint",
        sa.Column("log_id", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.LargeBinary, nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["log_id"], ["ledger_log.id"], name="fk_ledger_checkpoint_log_id_ledger_log"),
        sa.PrimaryKeyConstraint("log_id", "size", name="pk_ledger_checkpoint"),
    )
    for statement in append_only_ddl(op.get_bind().dialect.name, TABLES):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_append_only_ddl(op.get_bind().dialect.name, TABLES):
        op.execute(statement)
    op.drop_table("ledger_checkpoint")
    op.drop_table("ledger_hash")
    op.drop_table("ledger_leaf")
    op.drop_table("ledger_log")
