"""The time-bank domain: regions, people, catalogue (seeded), policy, accounts and entries.

Revision ID: 0002_domain
Revises: 0001_ledger
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

from timebank.tables import metadata

revision = "0002_domain"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # DEVELOPMENT ONLY: replaced by frozen operations before this revision is published.
    metadata.create_all(op.get_bind())
    from timebank.catalogue import SEED, CatalogueItem
    op.bulk_insert(CatalogueItem.__table__, [
        dict(code=c, region_id=None, name_zh=zh, name_en=en, category=cat, weight_pct=w, price_minutes=None,
             volunteer_eligible=ve, training_required=tr, active=True, created_at=None)
        for c, zh, en, cat, w, ve, tr in SEED
    ])


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
