"""On SQLite, auditors' reads never queue behind a writer holding the database's write lock."""

from __future__ import annotations

import time

import pytest
from livehttp import LiveServer

from ledger.database import create_engine


def test_a_read_answers_while_a_writer_holds_the_sqlite_write_lock(demo: LiveServer) -> None:
    engine = create_engine(demo.settings.database_url)
    if engine.dialect.name != "sqlite":
        engine.dispose()
        pytest.skip("PostgreSQL readers never wait for writers (MVCC)")
    try:
        with engine.connect() as writer:
            writer.exec_driver_sql("SELECT 1")  # our engine began the transaction with BEGIN IMMEDIATE
            started = time.monotonic()
            reply = demo.api("/logs")
            waited = time.monotonic() - started
            writer.rollback()
    finally:
        engine.dispose()
    assert reply.status == 200
    assert waited < 10, f"the read waited {waited:.1f}s for the write lock (busy_timeout is 30s)"
