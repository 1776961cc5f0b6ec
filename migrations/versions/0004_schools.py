"""Schools (profiles with their credit rule, terms, invitations, student links), certificates,
recognition schemes, levels reached, awards and leaderboard opt-ins.

Revision ID: 0004_schools
Revises: 0003_users
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_schools"
down_revision = "0003_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recognition_scheme',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('region_id', sa.String(length=40), nullable=True),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('levels', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_recognition_scheme_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recognition_scheme')),
    sa.UniqueConstraint('code', name=op.f('uq_recognition_scheme_code'))
    )
    op.create_index(op.f('ix_recognition_scheme_region_id'), 'recognition_scheme', ['region_id'], unique=False)
    op.create_table('school',
    sa.Column('organisation_id', sa.String(length=40), nullable=False),
    sa.Column('minutes_per_credit', sa.Integer(), nullable=False),
    sa.Column('rounding', sa.String(length=8), nullable=False),
    sa.Column('daily_cap_minutes', sa.Integer(), nullable=False),
    sa.Column('term_cap_minutes', sa.Integer(), nullable=True),
    sa.Column('counted', sa.JSON(), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_school_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('organisation_id', name=op.f('pk_school'))
    )
    op.create_table('certificate',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('serial', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.String(length=40), nullable=False),
    sa.Column('name_sealed', sa.Text(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('record_ids', sa.JSON(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('recognition', sa.JSON(), nullable=False),
    sa.Column('bank_id', sa.String(length=40), nullable=False),
    sa.Column('unit_zh', sa.String(length=100), nullable=False),
    sa.Column('unit_en', sa.String(length=100), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sa.String(length=40), nullable=False),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('salt', sa.String(length=40), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('entry_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['bank_id'], ['region.id'], name=op.f('fk_certificate_bank_id_region')),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_certificate_entry_id_entry')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_certificate_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
    sa.UniqueConstraint('number', name=op.f('uq_certificate_number')),
    sa.UniqueConstraint('year', 'serial', name=op.f('uq_certificate_year'))
    )
    op.create_index(op.f('ix_certificate_volunteer_id'), 'certificate', ['volunteer_id'], unique=False)
    op.create_table('leaderboard_opt_in',
    sa.Column('volunteer_id', sa.String(length=40), nullable=False),
    sa.Column('opted_in', sa.Boolean(), nullable=False),
    sa.Column('display_name', sa.String(length=40), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_leaderboard_opt_in_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('volunteer_id', name=op.f('pk_leaderboard_opt_in'))
    )
    op.create_table('level_reached',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('volunteer_id', sa.String(length=40), nullable=False),
    sa.Column('scheme_id', sa.String(length=40), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_level_reached_entry_id_entry')),
    sa.ForeignKeyConstraint(['scheme_id'], ['recognition_scheme.id'], name=op.f('fk_level_reached_scheme_id_recognition_scheme')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_level_reached_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_level_reached')),
    sa.UniqueConstraint('volunteer_id', 'scheme_id', 'level', 'period', name='uq_level_reached_once')
    )
    op.create_index(op.f('ix_level_reached_volunteer_id'), 'level_reached', ['volunteer_id'], unique=False)
    op.create_table('recognition_award',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('volunteer_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('granting_unit', sa.String(length=200), nullable=False),
    sa.Column('granted_on', sa.Date(), nullable=False),
    sa.Column('salt', sa.String(length=40), nullable=False),
    sa.Column('by', sa.String(length=40), nullable=False),
    sa.Column('entry_id', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_recognition_award_entry_id_entry')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_recognition_award_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recognition_award'))
    )
    op.create_index(op.f('ix_recognition_award_volunteer_id'), 'recognition_award', ['volunteer_id'], unique=False)
    op.create_table('school_invitation',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('school_id', sa.String(length=40), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_by', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['school.organisation_id'], name=op.f('fk_school_invitation_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_invitation')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_school_invitation_code_hash'))
    )
    op.create_index(op.f('ix_school_invitation_school_id'), 'school_invitation', ['school_id'], unique=False)
    op.create_table('school_term',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('school_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.organisation_id'], name=op.f('fk_school_term_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_term'))
    )
    op.create_index(op.f('ix_school_term_school_id'), 'school_term', ['school_id'], unique=False)
    op.create_table('student_link',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('school_id', sa.String(length=40), nullable=False),
    sa.Column('volunteer_id', sa.String(length=40), nullable=False),
    sa.Column('class_name', sa.String(length=60), nullable=True),
    sa.Column('student_number_sealed', sa.Text(), nullable=True),
    sa.Column('student_consent', sa.Boolean(), nullable=False),
    sa.Column('minor', sa.Boolean(), nullable=False),
    sa.Column('guardian_consent', sa.Boolean(), nullable=False),
    sa.Column('guardian_name_sealed', sa.Text(), nullable=True),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('link_entry_id', sa.String(length=40), nullable=True),
    sa.Column('unlinked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unlinked_by', sa.String(length=40), nullable=True),
    sa.Column('unlink_entry_id', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['link_entry_id'], ['entry.id'], name=op.f('fk_student_link_link_entry_id_entry')),
    sa.ForeignKeyConstraint(['school_id'], ['school.organisation_id'], name=op.f('fk_student_link_school_id_school')),
    sa.ForeignKeyConstraint(['unlink_entry_id'], ['entry.id'], name=op.f('fk_student_link_unlink_entry_id_entry')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_student_link_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_student_link'))
    )
    op.create_index(op.f('ix_student_link_school_id'), 'student_link', ['school_id'], unique=False)
    op.create_index(op.f('ix_student_link_volunteer_id'), 'student_link', ['volunteer_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_student_link_volunteer_id'), table_name='student_link')
    op.drop_index(op.f('ix_student_link_school_id'), table_name='student_link')
    op.drop_table('student_link')
    op.drop_index(op.f('ix_school_term_school_id'), table_name='school_term')
    op.drop_table('school_term')
    op.drop_index(op.f('ix_school_invitation_school_id'), table_name='school_invitation')
    op.drop_table('school_invitation')
    op.drop_index(op.f('ix_recognition_award_volunteer_id'), table_name='recognition_award')
    op.drop_table('recognition_award')
    op.drop_index(op.f('ix_level_reached_volunteer_id'), table_name='level_reached')
    op.drop_table('level_reached')
    op.drop_table('leaderboard_opt_in')
    op.drop_index(op.f('ix_certificate_volunteer_id'), table_name='certificate')
    op.drop_table('certificate')
    op.drop_table('school')
    op.drop_index(op.f('ix_recognition_scheme_region_id'), table_name='recognition_scheme')
    op.drop_table('recognition_scheme')
