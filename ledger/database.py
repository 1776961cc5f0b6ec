"""The ledger's SQL tables, their append-only triggers, and an engine set up to serialize writers."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect, Engine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite would hand back naive ones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetimes are refused: pass timezone-aware UTC times")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

logs = sa.Table(
    "ledger_log",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("origin", sa.String(255), nullable=False, unique=True),
    sa.Column("vkey", sa.String(400), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

leaves = sa.Table(
    "ledger_leaf",
    metadata,
    sa.Column("log_id", sa.String(64), sa.ForeignKey("ledger_log.id"), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

# Every complete subtree hash, at its position in the tlog "stored hashes" layout.
hashes = sa.Table(
    "ledger_hash",
    metadata,
    sa.Column("log_id", sa.String(64), sa.ForeignKey("ledger_log.id"), primary_key=True),
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
)

checkpoints = sa.Table(
    "ledger_checkpoint",
    metadata,
    sa.Column("log_id", sa.String(64), sa.ForeignKey("ledger_log.id"), primary_key=True),
    sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("root", sa.LargeBinary(32), nullable=False),
    sa.Column("note", sa.LargeBinary, nullable=False),
    sa.Column("signed_at", UTCDateTime(), nullable=False),
)

# The keys a log has signed with, recorded by key rotations (a log never rotated has no rows:
# its key is ledger_log.vkey). A key stops being current when it is retired: `retirement` is the
# signed statement (ledger.log_keys) that bounds it to checkpoints of size <= retired_size.
log_keys = sa.Table(
    "ledger_log_key",
    metadata,
    sa.Column("log_id", sa.String(64), sa.ForeignKey("ledger_log.id"), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("key_id", sa.String(8), nullable=False),
    sa.Column("vkey", sa.String(400), nullable=False),
    sa.Column("added_at", UTCDateTime(), nullable=False),
    sa.Column("added_size", sa.BigInteger, nullable=False),
    sa.Column("retired_at", UTCDateTime(), nullable=True),
    sa.Column("retired_size", sa.BigInteger, nullable=True),
    sa.Column("retirement", sa.LargeBinary, nullable=True),
    sa.UniqueConstraint("log_id", "key_id", name="uq_ledger_log_key_key_id"),
)

APPEND_ONLY_TABLES = ("ledger_log", "ledger_leaf", "ledger_hash", "ledger_checkpoint")


def append_only_ddl(dialect: str, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> list[str]:
    """Statements that make `tables` reject UPDATE and DELETE (and TRUNCATE). A migration passes
    its own list, so what it creates never changes when the tables here do."""
    if dialect == "postgresql":
        ddl = [
            "CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% on % refused: the ledger is append-only', TG_OP, TG_TABLE_NAME "
            "USING ERRCODE = 'restrict_violation'; END $$"
        ]
        for table in tables:
            ddl.append(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
            )
            ddl.append(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()"
            )
        return ddl
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{op} on {table} refused: the ledger is append-only'); END"
            for table in tables
            for op in ("UPDATE", "DELETE")
        ]
    raise NotImplementedError(f"no append-only triggers for {dialect}")


def drop_append_only_ddl(
    dialect: str, tables: tuple[str, ...] = APPEND_ONLY_TABLES, *, with_function: bool = True
) -> list[str]:
    """Statements that remove what `append_only_ddl` made for `tables`; on PostgreSQL also the
    shared trigger function unless `with_function` is false (other tables still use it)."""
    if dialect == "postgresql":
        ddl = []
        for table in tables:
            ddl.append(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            ddl.append(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        if with_function:
            ddl.append("DROP FUNCTION IF EXISTS ledger_append_only()")
        return ddl
    if dialect == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_{op}"
            for table in tables
            for op in ("update", "delete")
        ]
    raise NotImplementedError(f"no append-only triggers for {dialect}")


# Execution option: "DEFERRED" for SQLite transactions that only read (they then never queue
# behind writers); the default "IMMEDIATE" takes the write lock at BEGIN.
SQLITE_BEGIN = "timebank_sqlite_begin"


def read_only(engine: Engine) -> Engine:
    """`engine` for transactions that only read: on SQLite they begin DEFERRED."""
    return engine.execution_options(**{SQLITE_BEGIN: "DEFERRED"})


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`. On SQLite every transaction starts with BEGIN IMMEDIATE (unless made
    through `read_only`), so writers from several processes queue on the database lock instead
    of forking a log; WAL lets readers go on meanwhile, and foreign keys are enforced."""
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _serialize_sqlite(engine)
    return engine


def _serialize_sqlite(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
        if mode not in ("IMMEDIATE", "DEFERRED"):
            raise ValueError(f"{SQLITE_BEGIN} must be IMMEDIATE or DEFERRED, not {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")
