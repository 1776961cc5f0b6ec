"""The time-bank domain: regions and banks, people, the catalogue (seeded), policy versions,
accounts and postings, entries, records, redemptions, gifts, estates, settlements, points, care.

Revision ID: 0002_domain
Revises: 0001_ledger
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledger.database import append_only_ddl, drop_append_only_ddl

revision = "0002_domain"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None

# Frozen here: the rows that point at ledger leaves, and the history of status changes, are
# append-only like the ledger itself.
APPEND_ONLY = ("entry", "posting", "status_change")

# The national catalogue as first seeded (code, 中文, English, category, weight %, volunteers may
# give it, training required). Later changes are later revisions.
SEED = (
    ("MEAL", "助餐", "Meal help", "daily_living", 100, True, False),
    ("BATH", "助浴", "Bathing", "daily_living", 120, True, True),
    ("CLEAN", "助洁", "Cleaning", "daily_living", 100, True, False),
    ("EMERGENCY", "助急", "Emergency help", "emergency", 100, True, False),
    ("MOBILITY", "助行", "Mobility and outings", "daily_living", 100, True, False),
    ("HOMECARE", "上门照护", "Home care", "health", 120, True, True),
    ("MEDICAL", "助医", "Medical escort", "health", 100, True, False),
    ("SHOPPING", "助购", "Shopping", "daily_living", 100, True, False),
    ("VISIT", "探访", "Visits (home or phone)", "emotional", 100, True, False),
    ("COMPANY", "精神慰藉", "Companionship", "emotional", 100, True, False),
    ("COUNSEL", "心理疏导", "Counselling", "emotional", 120, True, True),
    ("RESPITE", "喘息服务", "Respite for family carers", "health", 120, True, True),
    ("ERRAND", "代办", "Errands", "daily_living", 100, True, False),
    ("REHAB", "康复", "Rehabilitation support", "health", 110, True, True),
    ("TEACH", "助学", "Teaching (phones, skills)", "culture", 100, True, False),
    ("CULTURE", "文化娱乐", "Culture and recreation", "culture", 100, True, False),
    ("LEGAL", "法律维权", "Legal aid", "legal", 100, True, False),
    ("ADAPT", "适老化", "Home adaptation", "home", 100, True, False),
    ("NURSING", "专业护理", "Clinical nursing", "health", 100, False, True),
)


def upgrade() -> None:
    op.create_table('estate',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('person_id', sa.String(length=40), nullable=False),
    sa.Column('heir_id', sa.String(length=40), nullable=True),
    sa.Column('minutes', sa.BigInteger(), nullable=False),
    sa.Column('settled_by', sa.String(length=40), nullable=False),
    sa.Column('entry_ids', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_estate'))
    )
    op.create_index(op.f('ix_estate_person_id'), 'estate', ['person_id'], unique=False)
    op.create_table('idempotency_key',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('operation', sa.String(length=40), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('result_id', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_idempotency_key'))
    )
    op.create_table('region',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('parent_id', sa.String(length=40), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('path', sa.String(length=1000), nullable=False),
    sa.Column('log_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['region.id'], name=op.f('fk_region_parent_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_region')),
    sa.UniqueConstraint('code', name=op.f('uq_region_code')),
    sa.UniqueConstraint('log_id', name=op.f('uq_region_log_id'))
    )
    op.create_index(op.f('ix_region_parent_id'), 'region', ['parent_id'], unique=False)
    op.create_index(op.f('ix_region_path'), 'region', ['path'], unique=False)
    op.create_table('account',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('bank_id', sa.String(length=40), nullable=False),
    sa.Column('unit', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('owner_id', sa.String(length=40), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind = 'issuance' OR balance >= 0", name=op.f('ck_account_balance_not_negative')),
    sa.ForeignKeyConstraint(['bank_id'], ['region.id'], name=op.f('fk_account_bank_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('bank_id', 'unit', 'kind', 'owner_id', name='uq_account_owner')
    )
    op.create_index(op.f('ix_account_bank_id'), 'account', ['bank_id'], unique=False)
    op.create_index(op.f('ix_account_owner_id'), 'account', ['owner_id'], unique=False)
    op.create_table('catalogue_item',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('region_id', sa.String(length=40), nullable=True),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('weight_pct', sa.Integer(), nullable=False),
    sa.Column('price_minutes', sa.Integer(), nullable=True),
    sa.Column('volunteer_eligible', sa.Boolean(), nullable=False),
    sa.Column('training_required', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_catalogue_item_region_id_region')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_catalogue_item'))
    )
    op.create_index(op.f('ix_catalogue_item_region_id'), 'catalogue_item', ['region_id'], unique=False)
    op.create_table('elder',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('region_id', sa.String(length=40), nullable=False),
    sa.Column('short_code', sa.String(length=8), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('name_sealed', sa.Text(), nullable=False),
    sa.Column('id_number_sealed', sa.Text(), nullable=False),
    sa.Column('id_index', sa.String(length=64), nullable=False),
    sa.Column('phone_sealed', sa.Text(), nullable=True),
    sa.Column('address_sealed', sa.Text(), nullable=True),
    sa.Column('health_sealed', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('heir_id', sa.String(length=40), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_elder_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_elder')),
    sa.UniqueConstraint('id_index', name=op.f('uq_elder_id_index')),
    sa.UniqueConstraint('short_code', name=op.f('uq_elder_short_code'))
    )
    op.create_index(op.f('ix_elder_region_id'), 'elder', ['region_id'], unique=False)
    op.create_table('entry',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('bank_id', sa.String(length=40), nullable=False),
    sa.Column('log_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('leaf_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.String(length=40), nullable=True),
    sa.Column('policy_version', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_id'], ['region.id'], name=op.f('fk_entry_bank_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entry')),
    sa.UniqueConstraint('log_id', 'seq', name=op.f('uq_entry_log_id'))
    )
    op.create_index(op.f('ix_entry_at'), 'entry', ['at'], unique=False)
    op.create_index(op.f('ix_entry_bank_id'), 'entry', ['bank_id'], unique=False)
    op.create_index(op.f('ix_entry_subject_id'), 'entry', ['subject_id'], unique=False)
    op.create_table('organisation',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('region_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('brand_id', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['organisation.id'], name=op.f('fk_organisation_brand_id_organisation')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_organisation_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation'))
    )
    op.create_index(op.f('ix_organisation_region_id'), 'organisation', ['region_id'], unique=False)
    op.create_table('staff',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('region_id', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('name_sealed', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_staff_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff'))
    )
    op.create_index(op.f('ix_staff_region_id'), 'staff', ['region_id'], unique=False)
    op.create_table('station',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('region_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_station_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_station'))
    )
    op.create_index(op.f('ix_station_region_id'), 'station', ['region_id'], unique=False)
    op.create_table('care_agreement',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('elder_id', sa.String(length=40), nullable=False),
    sa.Column('region_id', sa.String(length=40), nullable=False),
    sa.Column('carer_kind', sa.String(length=16), nullable=False),
    sa.Column('carer_id', sa.String(length=40), nullable=True),
    sa.Column('carer_name_sealed', sa.Text(), nullable=True),
    sa.Column('contacts_per_week', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('signed_by', sa.String(length=40), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entry_id', sa.String(length=40), nullable=False),
    sa.Column('ended_by', sa.String(length=40), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_entry_id', sa.String(length=40), nullable=True),
    sa.CheckConstraint("carer_kind IN ('volunteer', 'relative', 'neighbour', 'grid_worker')", name=op.f('ck_care_agreement_carer_kind')),
    sa.CheckConstraint('carer_id IS NOT NULL OR carer_name_sealed IS NOT NULL', name=op.f('ck_care_agreement_carer_named')),
    sa.CheckConstraint('contacts_per_week BETWEEN 1 AND 21', name=op.f('ck_care_agreement_contacts_per_week')),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_care_agreement_ends_after_start')),
    sa.ForeignKeyConstraint(['elder_id'], ['elder.id'], name=op.f('fk_care_agreement_elder_id_elder')),
    sa.ForeignKeyConstraint(['end_entry_id'], ['entry.id'], name=op.f('fk_care_agreement_end_entry_id_entry')),
    sa.ForeignKeyConstraint(['ended_by'], ['staff.id'], name=op.f('fk_care_agreement_ended_by_staff')),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_care_agreement_entry_id_entry')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_care_agreement_region_id_region')),
    sa.ForeignKeyConstraint(['signed_by'], ['staff.id'], name=op.f('fk_care_agreement_signed_by_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_agreement'))
    )
    op.create_index(op.f('ix_care_agreement_carer_id'), 'care_agreement', ['carer_id'], unique=False)
    op.create_index(op.f('ix_care_agreement_elder_id'), 'care_agreement', ['elder_id'], unique=False)
    op.create_index(op.f('ix_care_agreement_region_id'), 'care_agreement', ['region_id'], unique=False)
    op.create_table('elder_tag',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('elder_id', sa.String(length=40), nullable=False),
    sa.Column('tag', sa.String(length=32), nullable=False),
    sa.Column('added_by', sa.String(length=40), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_by', sa.String(length=40), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['elder_id'], ['elder.id'], name=op.f('fk_elder_tag_elder_id_elder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_elder_tag'))
    )
    op.create_index(op.f('ix_elder_tag_elder_id'), 'elder_tag', ['elder_id'], unique=False)
    op.create_table('policy_version',
    sa.Column('version', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('region_id', sa.String(length=40), nullable=False),
    sa.Column('values_json', sa.Text(), nullable=False),
    sa.Column('set_by', sa.String(length=40), nullable=False),
    sa.Column('entry_id', sa.String(length=40), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_policy_version_entry_id_entry')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_policy_version_region_id_region')),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_policy_version'))
    )
    op.create_index(op.f('ix_policy_version_region_id'), 'policy_version', ['region_id'], unique=False)
    op.create_table('posting',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('entry_id', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_posting_account_id_account')),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_posting_entry_id_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posting'))
    )
    op.create_index(op.f('ix_posting_account_id'), 'posting', ['account_id'], unique=False)
    op.create_index(op.f('ix_posting_entry_id'), 'posting', ['entry_id'], unique=False)
    op.create_table('redemption',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('redeemer_id', sa.String(length=40), nullable=False),
    sa.Column('home_bank_id', sa.String(length=40), nullable=False),
    sa.Column('serving_bank_id', sa.String(length=40), nullable=False),
    sa.Column('region_id', sa.String(length=40), nullable=False),
    sa.Column('catalogue_code', sa.String(length=32), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('credit_minutes', sa.BigInteger(), nullable=False),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('requested_by', sa.String(length=40), nullable=False),
    sa.Column('on_behalf_of', sa.String(length=40), nullable=True),
    sa.Column('provider_kind', sa.String(length=12), nullable=True),
    sa.Column('provider_id', sa.String(length=40), nullable=True),
    sa.Column('completed_by', sa.String(length=40), nullable=True),
    sa.Column('cancelled_by', sa.String(length=40), nullable=True),
    sa.Column('hold_entry_id', sa.String(length=40), nullable=False),
    sa.Column('release_entry_id', sa.String(length=40), nullable=True),
    sa.Column('away_entry_id', sa.String(length=40), nullable=True),
    sa.Column('link_entry_id', sa.String(length=40), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('requested', 'completed', 'cancelled')", name=op.f('ck_redemption_status')),
    sa.CheckConstraint('credit_minutes > 0', name=op.f('ck_redemption_credit_positive')),
    sa.ForeignKeyConstraint(['away_entry_id'], ['entry.id'], name=op.f('fk_redemption_away_entry_id_entry')),
    sa.ForeignKeyConstraint(['catalogue_code'], ['catalogue_item.code'], name=op.f('fk_redemption_catalogue_code_catalogue_item')),
    sa.ForeignKeyConstraint(['hold_entry_id'], ['entry.id'], name=op.f('fk_redemption_hold_entry_id_entry')),
    sa.ForeignKeyConstraint(['home_bank_id'], ['region.id'], name=op.f('fk_redemption_home_bank_id_region')),
    sa.ForeignKeyConstraint(['link_entry_id'], ['entry.id'], name=op.f('fk_redemption_link_entry_id_entry')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_redemption_region_id_region')),
    sa.ForeignKeyConstraint(['release_entry_id'], ['entry.id'], name=op.f('fk_redemption_release_entry_id_entry')),
    sa.ForeignKeyConstraint(['serving_bank_id'], ['region.id'], name=op.f('fk_redemption_serving_bank_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redemption'))
    )
    op.create_index(op.f('ix_redemption_home_bank_id'), 'redemption', ['home_bank_id'], unique=False)
    op.create_index(op.f('ix_redemption_redeemer_id'), 'redemption', ['redeemer_id'], unique=False)
    op.create_index(op.f('ix_redemption_region_id'), 'redemption', ['region_id'], unique=False)
    op.create_index(op.f('ix_redemption_serving_bank_id'), 'redemption', ['serving_bank_id'], unique=False)
    op.create_table('relative',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('elder_id', sa.String(length=40), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('name_sealed', sa.Text(), nullable=False),
    sa.Column('phone_sealed', sa.Text(), nullable=True),
    sa.Column('person_id', sa.String(length=40), nullable=True),
    sa.Column('same_household', sa.Boolean(), nullable=False),
    sa.Column('may_confirm', sa.Boolean(), nullable=False),
    sa.Column('may_redeem', sa.Boolean(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['elder_id'], ['elder.id'], name=op.f('fk_relative_elder_id_elder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relative'))
    )
    op.create_index(op.f('ix_relative_elder_id'), 'relative', ['elder_id'], unique=False)
    op.create_index(op.f('ix_relative_person_id'), 'relative', ['person_id'], unique=False)
    op.create_table('settlement',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('bank_a_id', sa.String(length=40), nullable=False),
    sa.Column('bank_b_id', sa.String(length=40), nullable=False),
    sa.Column('a_owed', sa.BigInteger(), nullable=False),
    sa.Column('b_owed', sa.BigInteger(), nullable=False),
    sa.Column('net', sa.BigInteger(), nullable=False),
    sa.Column('settled_by', sa.String(length=40), nullable=False),
    sa.Column('a_entry_id', sa.String(length=40), nullable=False),
    sa.Column('b_entry_id', sa.String(length=40), nullable=False),
    sa.Column('link_entry_id', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['a_entry_id'], ['entry.id'], name=op.f('fk_settlement_a_entry_id_entry')),
    sa.ForeignKeyConstraint(['b_entry_id'], ['entry.id'], name=op.f('fk_settlement_b_entry_id_entry')),
    sa.ForeignKeyConstraint(['bank_a_id'], ['region.id'], name=op.f('fk_settlement_bank_a_id_region')),
    sa.ForeignKeyConstraint(['bank_b_id'], ['region.id'], name=op.f('fk_settlement_bank_b_id_region')),
    sa.ForeignKeyConstraint(['link_entry_id'], ['entry.id'], name=op.f('fk_settlement_link_entry_id_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement'))
    )
    op.create_index(op.f('ix_settlement_bank_a_id'), 'settlement', ['bank_a_id'], unique=False)
    op.create_index(op.f('ix_settlement_bank_b_id'), 'settlement', ['bank_b_id'], unique=False)
    op.create_table('status_change',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('reason_salt', sa.String(length=40), nullable=True),
    sa.Column('by', sa.String(length=40), nullable=False),
    sa.Column('entry_id', sa.String(length=40), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_status_change_entry_id_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_change'))
    )
    op.create_index(op.f('ix_status_change_subject_id'), 'status_change', ['subject_id'], unique=False)
    op.create_table('volunteer',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('region_id', sa.String(length=40), nullable=False),
    sa.Column('organisation_id', sa.String(length=40), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('name_sealed', sa.Text(), nullable=False),
    sa.Column('id_number_sealed', sa.Text(), nullable=False),
    sa.Column('id_index', sa.String(length=64), nullable=False),
    sa.Column('phone_sealed', sa.Text(), nullable=True),
    sa.Column('address_sealed', sa.Text(), nullable=True),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('heir_id', sa.String(length=40), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_volunteer_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_volunteer_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer')),
    sa.UniqueConstraint('id_index', name=op.f('uq_volunteer_id_index'))
    )
    op.create_index(op.f('ix_volunteer_organisation_id'), 'volunteer', ['organisation_id'], unique=False)
    op.create_index(op.f('ix_volunteer_region_id'), 'volunteer', ['region_id'], unique=False)
    op.create_table('care_contact',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('agreement_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('happened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=40), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=True),
    sa.Column('note_sealed', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('call', 'visit')", name=op.f('ck_care_contact_kind')),
    sa.CheckConstraint('minutes IS NULL OR minutes BETWEEN 1 AND 1440', name=op.f('ck_care_contact_minutes')),
    sa.ForeignKeyConstraint(['agreement_id'], ['care_agreement.id'], name=op.f('fk_care_contact_agreement_id_care_agreement')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_contact')),
    sa.UniqueConstraint('agreement_id', 'happened_at', name='uq_care_contact_once')
    )
    op.create_index(op.f('ix_care_contact_agreement_id'), 'care_contact', ['agreement_id'], unique=False)
    op.create_index(op.f('ix_care_contact_happened_at'), 'care_contact', ['happened_at'], unique=False)
    op.create_table('gift',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('giver_id', sa.String(length=40), nullable=False),
    sa.Column('recipient_id', sa.String(length=40), nullable=False),
    sa.Column('giver_bank_id', sa.String(length=40), nullable=False),
    sa.Column('recipient_bank_id', sa.String(length=40), nullable=False),
    sa.Column('minutes', sa.BigInteger(), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('relation_salt', sa.String(length=40), nullable=False),
    sa.Column('relative_id', sa.String(length=40), nullable=True),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.String(length=40), nullable=False),
    sa.Column('away_entry_id', sa.String(length=40), nullable=True),
    sa.Column('link_entry_id', sa.String(length=40), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('minutes > 0', name=op.f('ck_gift_minutes_positive')),
    sa.ForeignKeyConstraint(['away_entry_id'], ['entry.id'], name=op.f('fk_gift_away_entry_id_entry')),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_gift_entry_id_entry')),
    sa.ForeignKeyConstraint(['giver_bank_id'], ['region.id'], name=op.f('fk_gift_giver_bank_id_region')),
    sa.ForeignKeyConstraint(['link_entry_id'], ['entry.id'], name=op.f('fk_gift_link_entry_id_entry')),
    sa.ForeignKeyConstraint(['recipient_bank_id'], ['region.id'], name=op.f('fk_gift_recipient_bank_id_region')),
    sa.ForeignKeyConstraint(['relative_id'], ['relative.id'], name=op.f('fk_gift_relative_id_relative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gift'))
    )
    op.create_index(op.f('ix_gift_giver_id'), 'gift', ['giver_id'], unique=False)
    op.create_index(op.f('ix_gift_recipient_id'), 'gift', ['recipient_id'], unique=False)
    op.create_table('point_spend',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('volunteer_id', sa.String(length=40), nullable=False),
    sa.Column('bank_id', sa.String(length=40), nullable=False),
    sa.Column('shop', sa.String(length=24), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('item', sa.String(length=100), nullable=False),
    sa.Column('item_salt', sa.String(length=40), nullable=False),
    sa.Column('entry_id', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('points > 0', name=op.f('ck_point_spend_points_positive')),
    sa.ForeignKeyConstraint(['bank_id'], ['region.id'], name=op.f('fk_point_spend_bank_id_region')),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_point_spend_entry_id_entry')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_point_spend_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_spend'))
    )
    op.create_index(op.f('ix_point_spend_volunteer_id'), 'point_spend', ['volunteer_id'], unique=False)
    op.create_table('service_record',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('region_id', sa.String(length=40), nullable=False),
    sa.Column('bank_id', sa.String(length=40), nullable=False),
    sa.Column('volunteer_id', sa.String(length=40), nullable=False),
    sa.Column('elder_id', sa.String(length=40), nullable=False),
    sa.Column('catalogue_code', sa.String(length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('place_sealed', sa.Text(), nullable=True),
    sa.Column('notes_sealed', sa.Text(), nullable=True),
    sa.Column('details_salt', sa.String(length=40), nullable=False),
    sa.Column('details_commitment', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.String(length=40), nullable=True),
    sa.Column('responsible', sa.String(length=40), nullable=True),
    sa.Column('paid', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('disputed_from', sa.String(length=16), nullable=True),
    sa.Column('submitted_by', sa.String(length=40), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submit_entry_id', sa.String(length=40), nullable=True),
    sa.Column('confirm_code_hash', sa.String(length=64), nullable=True),
    sa.Column('confirm_code_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirm_attempts', sa.Integer(), nullable=False),
    sa.Column('confirmed_kind', sa.String(length=8), nullable=True),
    sa.Column('confirmed_by', sa.String(length=40), nullable=True),
    sa.Column('on_behalf_of', sa.String(length=40), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_by', sa.String(length=40), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('credit_minutes', sa.Integer(), nullable=True),
    sa.Column('points', sa.Integer(), nullable=True),
    sa.Column('policy_version', sa.Integer(), nullable=True),
    sa.Column('deposit_entry_id', sa.String(length=40), nullable=True),
    sa.Column('record_salt', sa.String(length=40), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('comment_sealed', sa.Text(), nullable=True),
    sa.Column('comment_salt', sa.String(length=40), nullable=True),
    sa.Column('rated_by', sa.String(length=40), nullable=True),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reversal_reason', sa.Text(), nullable=True),
    sa.Column('reversal_salt', sa.String(length=40), nullable=True),
    sa.Column('reversal_approver', sa.String(length=40), nullable=True),
    sa.Column('reversed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reversal_entry_id', sa.String(length=40), nullable=True),
    sa.CheckConstraint('minutes > 0', name=op.f('ck_service_record_minutes_positive')),
    sa.CheckConstraint('rating IS NULL OR (rating >= 1 AND rating <= 5)', name=op.f('ck_service_record_rating_range')),
    sa.ForeignKeyConstraint(['bank_id'], ['region.id'], name=op.f('fk_service_record_bank_id_region')),
    sa.ForeignKeyConstraint(['catalogue_code'], ['catalogue_item.code'], name=op.f('fk_service_record_catalogue_code_catalogue_item')),
    sa.ForeignKeyConstraint(['deposit_entry_id'], ['entry.id'], name=op.f('fk_service_record_deposit_entry_id_entry')),
    sa.ForeignKeyConstraint(['elder_id'], ['elder.id'], name=op.f('fk_service_record_elder_id_elder')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_service_record_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_service_record_region_id_region')),
    sa.ForeignKeyConstraint(['reversal_entry_id'], ['entry.id'], name=op.f('fk_service_record_reversal_entry_id_entry')),
    sa.ForeignKeyConstraint(['submit_entry_id'], ['entry.id'], name=op.f('fk_service_record_submit_entry_id_entry')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_service_record_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_record'))
    )
    op.create_index(op.f('ix_service_record_bank_id'), 'service_record', ['bank_id'], unique=False)
    op.create_index(op.f('ix_service_record_elder_id'), 'service_record', ['elder_id'], unique=False)
    op.create_index(op.f('ix_service_record_region_id'), 'service_record', ['region_id'], unique=False)
    op.create_index(op.f('ix_service_record_status'), 'service_record', ['status'], unique=False)
    op.create_index(op.f('ix_service_record_volunteer_id'), 'service_record', ['volunteer_id'], unique=False)
    op.create_index('ix_service_record_volunteer_started', 'service_record', ['volunteer_id', 'started_at'], unique=False)
    op.create_table('training',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('volunteer_id', sa.String(length=40), nullable=False),
    sa.Column('course', sa.String(length=200), nullable=False),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('study_minutes', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=200), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=False),
    sa.Column('certifies', sa.JSON(), nullable=False),
    sa.Column('recorded_by', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_training_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training'))
    )
    op.create_index(op.f('ix_training_volunteer_id'), 'training', ['volunteer_id'], unique=False)
    op.create_table('record_complaint',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.String(length=40), nullable=False),
    sa.Column('by', sa.String(length=40), nullable=False),
    sa.Column('on_behalf_of', sa.String(length=40), nullable=True),
    sa.Column('text_sealed', sa.Text(), nullable=False),
    sa.Column('text_salt', sa.String(length=40), nullable=False),
    sa.Column('entry_id', sa.String(length=40), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_record_complaint_entry_id_entry')),
    sa.ForeignKeyConstraint(['record_id'], ['service_record.id'], name=op.f('fk_record_complaint_record_id_service_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_complaint'))
    )
    op.create_index(op.f('ix_record_complaint_record_id'), 'record_complaint', ['record_id'], unique=False)
    op.create_table('record_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('record_id', sa.String(length=40), nullable=False),
    sa.Column('event', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('on_behalf_of', sa.String(length=40), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('reason_salt', sa.String(length=40), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entry_id', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_record_event_entry_id_entry')),
    sa.ForeignKeyConstraint(['record_id'], ['service_record.id'], name=op.f('fk_record_event_record_id_service_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_event'))
    )
    op.create_index(op.f('ix_record_event_record_id'), 'record_event', ['record_id'], unique=False)
    catalogue = sa.table(
        "catalogue_item",
        *(sa.column(name) for name in ("code", "region_id", "name_zh", "name_en", "category", "weight_pct",
                                       "price_minutes", "volunteer_eligible", "training_required", "active",
                                       "created_at")),
    )
    op.bulk_insert(catalogue, [
        {"code": code, "region_id": None, "name_zh": zh, "name_en": en, "category": category, "weight_pct": weight,
         "price_minutes": None, "volunteer_eligible": eligible, "training_required": training, "active": True,
         "created_at": None}
        for code, zh, en, category, weight, eligible, training in SEED
    ])
    for statement in append_only_ddl(op.get_bind().dialect.name, APPEND_ONLY):
        op.execute(statement)


def downgrade() -> None:
    # the shared trigger function stays: 0001's ledger tables still use it
    for statement in drop_append_only_ddl(op.get_bind().dialect.name, APPEND_ONLY, with_function=False):
        op.execute(statement)
    op.drop_index(op.f('ix_record_event_record_id'), table_name='record_event')
    op.drop_table('record_event')
    op.drop_index(op.f('ix_record_complaint_record_id'), table_name='record_complaint')
    op.drop_table('record_complaint')
    op.drop_index(op.f('ix_training_volunteer_id'), table_name='training')
    op.drop_table('training')
    op.drop_index('ix_service_record_volunteer_started', table_name='service_record')
    op.drop_index(op.f('ix_service_record_volunteer_id'), table_name='service_record')
    op.drop_index(op.f('ix_service_record_status'), table_name='service_record')
    op.drop_index(op.f('ix_service_record_region_id'), table_name='service_record')
    op.drop_index(op.f('ix_service_record_elder_id'), table_name='service_record')
    op.drop_index(op.f('ix_service_record_bank_id'), table_name='service_record')
    op.drop_table('service_record')
    op.drop_index(op.f('ix_point_spend_volunteer_id'), table_name='point_spend')
    op.drop_table('point_spend')
    op.drop_index(op.f('ix_gift_recipient_id'), table_name='gift')
    op.drop_index(op.f('ix_gift_giver_id'), table_name='gift')
    op.drop_table('gift')
    op.drop_index(op.f('ix_care_contact_happened_at'), table_name='care_contact')
    op.drop_index(op.f('ix_care_contact_agreement_id'), table_name='care_contact')
    op.drop_table('care_contact')
    op.drop_index(op.f('ix_volunteer_region_id'), table_name='volunteer')
    op.drop_index(op.f('ix_volunteer_organisation_id'), table_name='volunteer')
    op.drop_table('volunteer')
    op.drop_index(op.f('ix_status_change_subject_id'), table_name='status_change')
    op.drop_table('status_change')
    op.drop_index(op.f('ix_settlement_bank_b_id'), table_name='settlement')
    op.drop_index(op.f('ix_settlement_bank_a_id'), table_name='settlement')
    op.drop_table('settlement')
    op.drop_index(op.f('ix_relative_person_id'), table_name='relative')
    op.drop_index(op.f('ix_relative_elder_id'), table_name='relative')
    op.drop_table('relative')
    op.drop_index(op.f('ix_redemption_serving_bank_id'), table_name='redemption')
    op.drop_index(op.f('ix_redemption_region_id'), table_name='redemption')
    op.drop_index(op.f('ix_redemption_redeemer_id'), table_name='redemption')
    op.drop_index(op.f('ix_redemption_home_bank_id'), table_name='redemption')
    op.drop_table('redemption')
    op.drop_index(op.f('ix_posting_entry_id'), table_name='posting')
    op.drop_index(op.f('ix_posting_account_id'), table_name='posting')
    op.drop_table('posting')
    op.drop_index(op.f('ix_policy_version_region_id'), table_name='policy_version')
    op.drop_table('policy_version')
    op.drop_index(op.f('ix_elder_tag_elder_id'), table_name='elder_tag')
    op.drop_table('elder_tag')
    op.drop_index(op.f('ix_care_agreement_region_id'), table_name='care_agreement')
    op.drop_index(op.f('ix_care_agreement_elder_id'), table_name='care_agreement')
    op.drop_index(op.f('ix_care_agreement_carer_id'), table_name='care_agreement')
    op.drop_table('care_agreement')
    op.drop_index(op.f('ix_station_region_id'), table_name='station')
    op.drop_table('station')
    op.drop_index(op.f('ix_staff_region_id'), table_name='staff')
    op.drop_table('staff')
    op.drop_index(op.f('ix_organisation_region_id'), table_name='organisation')
    op.drop_table('organisation')
    op.drop_index(op.f('ix_entry_subject_id'), table_name='entry')
    op.drop_index(op.f('ix_entry_bank_id'), table_name='entry')
    op.drop_index(op.f('ix_entry_at'), table_name='entry')
    op.drop_table('entry')
    op.drop_index(op.f('ix_elder_region_id'), table_name='elder')
    op.drop_table('elder')
    op.drop_index(op.f('ix_catalogue_item_region_id'), table_name='catalogue_item')
    op.drop_table('catalogue_item')
    op.drop_index(op.f('ix_account_owner_id'), table_name='account')
    op.drop_index(op.f('ix_account_bank_id'), table_name='account')
    op.drop_table('account')
    op.drop_index(op.f('ix_region_path'), table_name='region')
    op.drop_index(op.f('ix_region_parent_id'), table_name='region')
    op.drop_table('region')
    op.drop_table('idempotency_key')
    op.drop_index(op.f('ix_estate_person_id'), table_name='estate')
    op.drop_table('estate')
