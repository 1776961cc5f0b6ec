"""Alembic environment: runs on the engine that `api.migrate` hands over."""

from __future__ import annotations

from alembic import context

from ledger.database import metadata as ledger_metadata
from timebank.tables import metadata as domain_metadata

target_metadata = [ledger_metadata, domain_metadata]


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `timebank db upgrade`")
run_migrations_online()
