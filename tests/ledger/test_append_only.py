"""The database itself refuses UPDATE, DELETE and TRUNCATE on the ledger tables."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from factories import append_batches, make_log
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ledger import store

# --- the append-only triggers -------------------------------------------------------------------


def committed_log(engine: Engine, now: datetime) -> None:
    """Commit a log `demo` with three leaves, so every ledger table has rows."""
    with Session(engine) as db:
        signer = make_log(db, now)
        append_batches(db, "demo", signer, [3], now)
        db.commit()


UPDATES = {
    "ledger_log": "UPDATE ledger_log SET origin = 'timebank.test/forged'",
    "ledger_leaf": "UPDATE ledger_leaf SET data = data WHERE seq = 1",
    "ledger_hash": "UPDATE ledger_hash SET position = position + 1000",
    "ledger_checkpoint": "UPDATE ledger_checkpoint SET root = root",
}


@pytest.mark.parametrize("table", sorted(UPDATES))
def test_the_ledger_tables_refuse_update(fresh_engine: Engine, now: datetime, table: str) -> None:
    committed_log(fresh_engine, now)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with fresh_engine.begin() as conn:
            conn.exec_driver_sql(UPDATES[table])


@pytest.mark.parametrize("table", sorted(UPDATES))
def test_the_ledger_tables_refuse_delete(fresh_engine: Engine, now: datetime, table: str) -> None:
    committed_log(fresh_engine, now)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with fresh_engine.begin() as conn:
            conn.exec_driver_sql(f"DELETE FROM {table}")
    with fresh_engine.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one() > 0


@pytest.mark.parametrize("table", sorted(UPDATES))
def test_the_ledger_tables_refuse_truncate_on_postgresql(fresh_engine: Engine, now: datetime, table: str) -> None:
    if fresh_engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's (SQLite has only DELETE)")
    committed_log(fresh_engine, now)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with fresh_engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {table} CASCADE")


def test_the_ledger_tables_still_take_inserts(fresh_engine: Engine, now: datetime) -> None:
    committed_log(fresh_engine, now)
    with Session(fresh_engine) as db:
        assert store.stored_size(db, "demo") == 3
