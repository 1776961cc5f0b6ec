"""Alembic migrations; `api.migrate` runs them (`timebank db upgrade`)."""
