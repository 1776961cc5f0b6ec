"""Running the Alembic migrations, and refusing to serve a database that is behind them."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

import migrations

SCRIPT_LOCATION = Path(migrations.__file__).resolve().parent


class SchemaBehind(RuntimeError):
    """The database is not at the migrations' head."""


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that runs on `engine`."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Undo migrations down to `revision`."""
    command.downgrade(alembic_config(engine), revision)


def heads() -> tuple[str, ...]:
    """The head revisions of the migration scripts (one, when all is well)."""
    return tuple(ScriptDirectory.from_config(alembic_config(None)).get_heads())  # type: ignore[arg-type]


def current(engine: Engine) -> tuple[str, ...]:
    """The revisions the database is at (empty when never migrated)."""
    with engine.connect() as connection:
        return tuple(MigrationContext.configure(connection).get_current_heads())


def require_head(engine: Engine) -> None:
    """Raise SchemaBehind, naming the command to run, unless the database is at head."""
    at, want = current(engine), heads()
    if set(at) != set(want):
        shown = ", ".join(at) or "empty (never migrated)"
        raise SchemaBehind(
            f"the database {engine.url.render_as_string(hide_password=True)} is at revision {shown}, "
            f"but this code needs {', '.join(want)}: run `timebank db upgrade` first"
        )
