"""Dispatch: which volunteer a coordinator sent to give a requested (redeemed) service.

Revision ID: 0005_dispatch
Revises: 0004_schools
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_dispatch"
down_revision = "0004_schools"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dispatch',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('redemption_id', sa.String(length=40), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.String(length=40), nullable=False),
    sa.Column('by', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entry_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['by'], ['staff.id'], name=op.f('fk_dispatch_by_staff')),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_dispatch_entry_id_entry')),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemption.id'], name=op.f('fk_dispatch_redemption_id_redemption')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_dispatch_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch')),
    sa.UniqueConstraint('redemption_id', 'number', name='uq_dispatch_number')
    )
    op.create_index(op.f('ix_dispatch_redemption_id'), 'dispatch', ['redemption_id'], unique=False)
    op.create_index(op.f('ix_dispatch_volunteer_id'), 'dispatch', ['volunteer_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_dispatch_volunteer_id'), table_name='dispatch')
    op.drop_index(op.f('ix_dispatch_redemption_id'), table_name='dispatch')
    op.drop_table('dispatch')
