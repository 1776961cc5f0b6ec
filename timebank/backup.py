"""Backup and restore: every table of a deployment written to one signed export, and loaded back into
an empty database (of any dialect) whose logs must then verify and whose balances must reconcile.

Sealed personal data is copied as ciphertext; no key of any kind is in an export (the key folder
and the personal-data key file are backed up apart). The file's framing is in `backup_format`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ledger import audit, store
from ledger.database import metadata as ledger_metadata
from ledger.database import read_only
from ledger.note import KeySet, Signer, Verifier

from . import tables as domain
from .backup_format import FORMAT, VERSION, BackupError, ExportDamaged, Reader, Writer, decode, encode, kind_of
from .reconcile import Reconciliation, reconcile
from .regions import list_banks

PAGE = 1000
# Tables the migrations fill (the national catalogue): a just-migrated database holds these rows,
# and an import replaces them with the export's.
SEEDED = ("catalogue_item",)
Progress = Callable[[int, int], None]  # (rows done, rows in all)


def all_tables() -> list[sa.Table]:
    """Every table of a deployment, each after the tables it refers to: the ledger's, then the domain's."""
    return [*ledger_metadata.sorted_tables, *domain.metadata.sorted_tables]


def snapshot(engine: Engine) -> Engine:
    """`engine` for a transaction that sees one unchanging state of the whole database while
    writers go on: REPEATABLE READ on PostgreSQL, a deferred (WAL snapshot) transaction on SQLite."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    return read_only(engine)


def _ordered(table: sa.Table) -> sa.Select[Any]:
    """All rows of `table` in primary-key order; in a table whose rows point at rows of the same
    table (a region's parent), each row after the one it points at: by depth, then key."""
    keys = list(table.primary_key.columns)
    own = [fk for fk in table.foreign_keys if fk.column.table is table]
    if not own:
        return sa.select(table).order_by(*keys)
    if len(own) > 1 or len(keys) != 1:
        raise NotImplementedError(f"table {table.name}: cannot order rows that point at their own table")
    child, parent = own[0].parent, own[0].column
    tree = sa.select(parent.label("key"), sa.literal(0).label("depth")).where(child.is_(None)).cte(recursive=True)
    inner = table.alias()
    tree = tree.union_all(
        sa.select(inner.c[parent.name], tree.c.depth + 1).join(tree, inner.c[child.name] == tree.c.key)
    )
    return sa.select(table).join(tree, table.c[parent.name] == tree.c.key).order_by(tree.c.depth, *keys)


def _count(session: Session, table: sa.Table) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _columns(table: sa.Table) -> list[list[str]]:
    return [[column.name, kind_of(column)] for column in table.columns]


def _unknown_tables(session: Session) -> list[str]:
    """Tables in the database that this code does not know (and so would not export)."""
    known = {table.name for table in all_tables()} | {"alembic_version"}
    return sorted(set(sa.inspect(session.connection()).get_table_names()) - known)


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    tables: int
    rows: int
    size: int
    sha256: str
    signer: str


def export(
    session: Session, out: BinaryIO, *, revision: str, signer: Signer, at: datetime, progress: Progress | None = None
) -> ExportSummary:
    """Write every row of every table to `out` as a signed export of schema `revision`.

    `session` should see one snapshot (see `snapshot`). `progress` gets the rows written so far
    and in all, a page at a time. Raises BackupError when the database holds tables this code does not know, or rows
    change under a session that is not a snapshot.
    """
    unknown = _unknown_tables(session)
    if unknown:
        raise BackupError(f"the database holds tables this code does not know ({', '.join(unknown)}): "
                          "export with the code that made them")
    tables = all_tables()
    counts = {table.name: _count(session, table) for table in tables}
    writer = Writer(out)
    writer.write({
        "format": FORMAT, "version": VERSION, "revision": revision, "created_at": encode("datetime", at),
        "signer": signer.vkey, "rows": sum(counts.values()),
        "tables": [{"name": t.name, "columns": _columns(t), "rows": counts[t.name]} for t in tables],
    })
    done, total = 0, sum(counts.values())
    for table in tables:
        kinds = [kind_of(column) for column in table.columns]
        written = 0
        for row in session.execute(_ordered(table), execution_options={"yield_per": PAGE}):
            writer.write({"t": table.name, "r": [encode(kind, value) for kind, value in zip(kinds, row, strict=True)]})
            written += 1
            if progress and (done + written) % PAGE == 0:
                progress(done + written, total)
        done += written
        if written != counts[table.name]:
            raise BackupError(f"table {table.name}: counted {counts[table.name]} rows but read {written}: the "
                              "database changed during the export (or rows point at one another in a loop)")
    if progress:
        progress(done, total)
    digest, size = writer.close(signer)
    return ExportSummary(len(tables), sum(counts.values()), size, digest, signer.vkey)


# -- restore --------------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    """What an import loaded and what the checks after it found."""

    revision: str = ""
    created_at: str = ""
    tables: int = 0
    rows: int = 0
    size: int = 0
    sha256: str = ""
    logs: list[audit.Report] = field(default_factory=list)
    banks: list[Reconciliation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(log.ok for log in self.logs) and all(bank.ok for bank in self.banks)


def require_empty(session: Session) -> None:
    """Raise BackupError unless the database holds nothing but what its migrations put there."""
    filled = [t.name for t in all_tables()
              if t.name not in SEEDED and session.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first()]
    if filled:
        shown = ", ".join(filled[:5]) + (f" and {len(filled) - 5} more" if len(filled) > 5 else "")
        raise BackupError(f"the database is not empty (rows in {shown}): import only into a new database "
                          "made with `timebank db upgrade`")


def header_of(first: bytes) -> dict[str, Any]:
    """The export's header line, parsed and checked for shape. Raises BackupError."""
    try:
        header = json.loads(first)
        if header.get("format") != FORMAT:
            raise BackupError(f"not a {FORMAT} file")
        if header.get("version") != VERSION:
            raise BackupError(f"export format version {header.get('version')!r}; this code reads version {VERSION}")
        if not isinstance(header["rows"], int) or not isinstance(header["tables"], list):
            raise BackupError("the header's row count or table list is malformed")
        for table in header["tables"]:
            if not (isinstance(table["name"], str) and isinstance(table["rows"], int)
                    and isinstance(table["columns"], list)):
                raise BackupError("the header's table list is malformed")
        return dict(header)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupError(f"the export's header is malformed: {exc}") from exc


def restore(
    session: Session,
    source: BinaryIO,
    *,
    revision: str,
    verifier: Verifier,
    log_verifier: Callable[[store.LogInfo], Verifier | KeySet],
    progress: Progress | None = None,
) -> RestoreReport:
    """Load the export in `source` into the empty database of `session`, at schema `revision`,
    then verify every log (under `log_verifier(log)`) and reconcile every bank. Never commits:
    the caller commits only when this returns a report that is `ok`, and rolls back otherwise.

    `verifier` is the trusted export key. Raises ExportDamaged when the file is not what that key
    signed (checked to the last byte whatever else went wrong first), BackupError when the
    database is not empty, its revision differs, or the rows do not load.
    """
    require_empty(session)
    reader = Reader(source)
    report = RestoreReport(revision=revision)
    try:
        _load(session, reader.lines(), report, revision, progress)
        report.sha256 = reader.finish(verifier)
    except ExportDamaged:
        raise
    except (BackupError, SQLAlchemyError) as exc:
        reader.finish(verifier)  # a damaged file explains any failure before it; an intact one does not
        if isinstance(exc, BackupError):
            raise
        raise BackupError(f"the export does not load: {str(getattr(exc, 'orig', None) or exc).strip()}") from exc
    report.size = reader.size
    _advance_sequences(session)
    for info in store.list_logs(session):
        report.logs.append(audit.verify_log(session, info.id, log_verifier(info)))
    report.banks = [reconcile(session, bank) for bank in list_banks(session)]
    return report


def _load(session: Session, lines: Iterator[bytes], report: RestoreReport, revision: str,
          progress: Progress | None) -> None:
    header = header_of(next(lines, b""))
    if header.get("revision") != revision:
        raise BackupError(f"the export is of schema revision {header.get('revision')}, the database is at "
                          f"{revision}: migrate a new database to {header.get('revision')} "
                          f"(`timebank db upgrade {header.get('revision')}`) with the code of that revision")
    tables = {t.name: t for t in all_tables()}
    wanted = [t["name"] for t in header["tables"]]
    if wanted != list(tables) or any(t["columns"] != _columns(tables[t["name"]]) for t in header["tables"]):
        raise BackupError("the export's tables or columns differ from this database's, though their revisions "
                          "agree: was the export made by other code?")
    report.created_at, report.tables, total = str(header.get("created_at")), len(wanted), header["rows"]
    for name in SEEDED:
        session.execute(sa.delete(tables[name]))
    current: sa.Table | None = None
    order = iter(header["tables"])
    batch: list[dict[str, Any]] = []
    left = 0
    for number, text in enumerate(lines, start=2):
        try:
            row = json.loads(text)
            name, values = row["t"], row["r"]
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"line {number} is not a row: {exc}") from exc
        while current is None or name != current.name:
            if left:
                raise BackupError(f"line {number}: table {current.name if current else '?'} is {left} rows short")
            entry = next(order, None)
            if entry is None:
                raise BackupError(f"line {number}: rows of table {name!r}, out of order or unknown")
            current, left = tables[entry["name"]], entry["rows"]
        if left == 0:
            raise BackupError(f"line {number}: table {name} has more rows than its header says")
        kinds = [kind for _, kind in _columns(current)]
        if not isinstance(values, list) or len(values) != len(kinds):
            raise BackupError(f"line {number}: a row of {name} must have {len(kinds)} values")
        try:
            batch.append({c.key: decode(k, v) for c, k, v in zip(current.columns, kinds, values, strict=True)})
        except ValueError as exc:
            raise BackupError(f"line {number}: a value of {name} is malformed: {exc}") from exc
        left -= 1
        if len(batch) == PAGE or left == 0:
            session.execute(sa.insert(current), batch)
            report.rows += len(batch)
            batch = []
            if progress:
                progress(report.rows, total)
    rest = [entry["name"] for entry in order if entry["rows"]]
    if left or rest:
        raise BackupError(f"the export ends before all rows the header counts ({current.name if left else rest[0]})")


def _advance_sequences(session: Session) -> None:
    """On PostgreSQL, move every serial key's sequence past the highest key loaded."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite takes the next key from the table itself
    for table in all_tables():
        column = table.autoincrement_column
        if column is None:
            continue
        session.execute(
            sa.text("SELECT setval(pg_get_serial_sequence(:table, :column), "
                    f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"),
            {"table": table.name, "column": column.name},
        )
