"""Shared fixtures: the same suites run on SQLite (default) and on PostgreSQL
(TIMEBANK_TEST_DATABASE_URL), every database built by running the real migrations."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from api import migrate
from ledger.database import create_engine
from ledger.note import Signer

PG_URL = os.environ.get("TIMEBANK_TEST_DATABASE_URL", "")
REQUIRE_EXTERNAL = os.environ.get("TIMEBANK_REQUIRE_EXTERNAL") == "1"


def pytest_report_header(config: pytest.Config) -> str:
    return f"timebank database: {'PostgreSQL ' + make_url(PG_URL).render_as_string() if PG_URL else 'SQLite'}"


def need_tool(available: bool, why: str) -> None:
    """Skip when a system tool is missing, except under `make test`, where that is a failure."""
    if not available:
        if REQUIRE_EXTERNAL:
            pytest.fail(f"{why} (make test installs it: scripts/install-system-deps.sh)")
        pytest.skip(why)


class Databases:
    """Makes empty, migrated databases: SQLite files, or PostgreSQL copies of a migrated template."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.engines: list[Engine] = []
        self.created: list[str] = []
        self.template: str | None = None
        if PG_URL:
            self.admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
            self.template = self._create_pg(template=None)
            engine = create_engine(self._pg_url(self.template), poolclass=sa.pool.NullPool)
            migrate.upgrade(engine)
            engine.dispose()

    def _pg_url(self, name: str) -> str:
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    def _create_pg(self, template: str | None) -> str:
        name = f"tb_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.created.append(name)
        return name

    def new_url(self, migrated: bool = True) -> str:
        """The URL of a new database: migrated to head, or empty."""
        if PG_URL:
            return self._pg_url(self._create_pg(self.template if migrated else None))
        url = f"sqlite:///{self.tmp / f'{uuid.uuid4().hex[:12]}.sqlite3'}"
        if migrated:
            engine = create_engine(url)
            migrate.upgrade(engine)
            engine.dispose()
        return url

    def new_engine(self, migrated: bool = True) -> Engine:
        engine = create_engine(self.new_url(migrated))
        self.engines.append(engine)
        return engine

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()
        if PG_URL:
            with self.admin.connect() as conn:
                for name in reversed(self.created):
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    dbs = Databases(tmp_path_factory.mktemp("db"))
    yield dbs
    dbs.close()


@pytest.fixture(scope="session")
def engine(databases: Databases) -> Engine:
    """One migrated database shared by the tests that roll back."""
    return databases.new_engine()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside one transaction that is rolled back after the test."""
    connection = engine.connect()
    transaction = connection.begin()
    db_session = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield db_session
    db_session.close()
    transaction.rollback()
    connection.close()


@pytest.fixture
def fresh_engine(databases: Databases) -> Engine:
    """A new migrated database of its own, for tests that commit, tamper or use several processes."""
    return databases.new_engine()


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 25, 9, 30, 0, tzinfo=timezone.utc)


def make_signer(log_id: str = "demo") -> Signer:
    """A fresh key for a test log named timebank.test/<log_id>."""
    return Signer.generate(f"timebank.test/{log_id}")
