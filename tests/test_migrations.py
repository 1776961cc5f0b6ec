"""Migrations: head equals the models, one head, every revision goes down and up, the guard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from api import migrate
from ledger.database import APPEND_ONLY_TABLES, create_engine
from ledger.database import metadata as ledger_metadata
from timebank.tables import metadata as domain_metadata


def all_models() -> sa.MetaData:
    """The ledger's and the domain's tables in one metadata, as the migrations build them."""
    combined = sa.MetaData()
    for source in (ledger_metadata, domain_metadata):
        for table in source.tables.values():
            table.to_metadata(combined)
    return combined


metadata = all_models()


class Databases(Protocol):
    """The part of conftest's `databases` fixture used here."""

    def new_url(self, migrated: bool = True) -> str: ...


@pytest.fixture
def empty_engine(databases: Databases) -> Iterator[Engine]:
    """A database of its own that no migration has touched."""
    engine = create_engine(databases.new_url(migrated=False))
    yield engine
    engine.dispose()


def revisions_base_first() -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config(None))  # type: ignore[arg-type]
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def down_revision(revision: str) -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config(None))  # type: ignore[arg-type]
    down = script.get_revision(revision).down_revision
    assert not isinstance(down, tuple), f"{revision} is a merge; walk it by hand"
    return down or "base"


def ledger_tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) & set(APPEND_ONLY_TABLES)


def insert_a_row_in_every_ledger_table(engine: Engine, now: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO ledger_log (id, origin, vkey, created_at) VALUES ('demo', 'timebank.test/demo', 'k', :at)"),
            {"at": now},
        )
        conn.execute(sa.text("INSERT INTO ledger_leaf (log_id, seq, data) VALUES ('demo', 0, :d)"), {"d": b"{}"})
        conn.execute(sa.text("INSERT INTO ledger_hash (log_id, position, hash) VALUES ('demo', 0, :h)"), {"h": b"\0" * 32})
        conn.execute(
            sa.text(
                "INSERT INTO ledger_checkpoint (log_id, size, root, note, signed_at) VALUES ('demo', 0, :r, :n, :at)"
            ),
            {"r": b"\0" * 32, "n": b"note", "at": now},
        )


def assert_append_only(engine: Engine) -> None:
    for table in APPEND_ONLY_TABLES:
        column = {"ledger_log": "vkey", "ledger_leaf": "data", "ledger_hash": "hash", "ledger_checkpoint": "note"}[table]
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.exec_driver_sql(f"UPDATE {table} SET {column} = {column}")
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.exec_driver_sql(f"DELETE FROM {table}")


def test_there_is_exactly_one_head() -> None:
    assert len(migrate.heads()) == 1
    assert migrate.heads() == (revisions_base_first()[-1],)


def test_the_revisions_form_one_line_from_base() -> None:
    revisions = revisions_base_first()
    assert down_revision(revisions[0]) == "base"
    for lower, upper in zip(revisions, revisions[1:]):
        assert down_revision(upper) == lower


def test_upgrading_an_empty_database_to_head_matches_the_models(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    assert migrate.current(empty_engine) == migrate.heads()
    assert ledger_tables(empty_engine) == set(APPEND_ONLY_TABLES)
    with empty_engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_every_revision_goes_down_and_up_again(empty_engine: Engine, now: datetime) -> None:
    migrate.upgrade(empty_engine)
    revisions = revisions_base_first()
    for revision in reversed(revisions):
        assert migrate.current(empty_engine) == (revision,)
        target = down_revision(revision)
        migrate.downgrade(empty_engine, target)
        assert migrate.current(empty_engine) == (() if target == "base" else (target,))
    assert ledger_tables(empty_engine) == set()
    for revision in revisions:
        migrate.upgrade(empty_engine, revision)
        assert migrate.current(empty_engine) == (revision,)
    assert migrate.current(empty_engine) == migrate.heads()
    with empty_engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    insert_a_row_in_every_ledger_table(empty_engine, now)
    assert_append_only(empty_engine)  # the triggers came back with the tables


def test_downgrading_to_base_and_upgrading_twice_works(empty_engine: Engine, now: datetime) -> None:
    # Catches a downgrade that leaves something behind (a trigger function, an index) that the
    # next upgrade then trips over.
    for _ in range(2):
        migrate.upgrade(empty_engine)
        migrate.downgrade(empty_engine, "base")
    migrate.upgrade(empty_engine)
    insert_a_row_in_every_ledger_table(empty_engine, now)
    assert_append_only(empty_engine)


def test_the_guard_refuses_an_empty_database_and_names_the_command(empty_engine: Engine) -> None:
    with pytest.raises(migrate.SchemaBehind, match="timebank db upgrade") as caught:
        migrate.require_head(empty_engine)
    assert "never migrated" in str(caught.value)


def test_the_guard_passes_a_database_at_head(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.require_head(empty_engine)


def test_the_guard_refuses_a_database_taken_back_to_base(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.downgrade(empty_engine, "base")
    with pytest.raises(migrate.SchemaBehind, match="timebank db upgrade"):
        migrate.require_head(empty_engine)



def test_the_comparison_with_the_models_does_see_a_difference(empty_engine: Engine) -> None:
    # So that an empty comparison above means "equal", not "did not look".
    migrate.upgrade(empty_engine)
    altered = sa.MetaData()
    for table in metadata.tables.values():
        table.to_metadata(altered)
    altered.tables["ledger_leaf"].append_column(sa.Column("extra", sa.Integer, nullable=True))
    altered.tables["ledger_log"].c.vkey.type = sa.String(100)
    with empty_engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), altered)
    kinds = {diff[0] if isinstance(diff, tuple) else diff[0][0] for diff in differences}
    assert {"add_column", "modify_type"} <= kinds, differences
