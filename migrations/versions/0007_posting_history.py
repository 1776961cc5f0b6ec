"""A person's history a page at a time: postings indexed by (account_id, id).

Revision ID: 0007_posting_history
Revises: 0006_log_keys
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0007_posting_history"
down_revision = "0006_log_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_posting_account_id_id", "posting", ["account_id", "id"], unique=False)
    op.drop_index("ix_posting_account_id", table_name="posting")


def downgrade() -> None:
    op.create_index("ix_posting_account_id", "posting", ["account_id"], unique=False)
    op.drop_index("ix_posting_account_id_id", table_name="posting")
