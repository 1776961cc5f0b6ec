"""Schools and student links, certificates, recognition schemes and levels.

Revision ID: 0004_schools
Revises: 0003_users
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0004_schools"
down_revision = "0003_users"
branch_labels = None
depends_on = None

MODULES = ("schools", "certificates", "recognition")


def _tables():  # noqa: ANN202
    # DEVELOPMENT ONLY: replaced by frozen operations before this revision is published.
    from timebank.model import Base
    from timebank.tables import metadata

    modules = {f"timebank.{name}" for name in MODULES}
    names = {mapper.class_.__table__.name for mapper in Base.registry.mappers if mapper.class_.__module__ in modules}
    return [table for table in metadata.sorted_tables if table.name in names]


def upgrade() -> None:
    from timebank.tables import metadata

    metadata.create_all(op.get_bind(), tables=_tables())


def downgrade() -> None:
    from timebank.tables import metadata

    metadata.drop_all(op.get_bind(), tables=_tables())
