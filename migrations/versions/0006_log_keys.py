"""Log signing-key rotation: the keys each log has signed with, and when each was retired.

Revision ID: 0006_log_keys
Revises: 0005_dispatch
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_log_keys"
down_revision = "0005_dispatch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_log_key",
        sa.Column("log_id", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("key_id", sa.String(8), nullable=False),
        sa.Column("vkey", sa.String(400), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_size", sa.BigInteger, nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_size", sa.BigInteger, nullable=True),
        sa.Column("retirement", sa.LargeBinary, nullable=True),
        sa.ForeignKeyConstraint(["log_id"], ["ledger_log.id"], name="fk_ledger_log_key_log_id_ledger_log"),
        sa.PrimaryKeyConstraint("log_id", "number", name="pk_ledger_log_key"),
        sa.UniqueConstraint("log_id", "key_id", name="uq_ledger_log_key_key_id"),
    )


def downgrade() -> None:
    op.drop_table("ledger_log_key")
