"""Plain factories of the store tests: logs, entries, batches, raw rows, statement counting."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ledger import store
from ledger.database import checkpoints, hashes, leaves
from ledger.note import Signer


def make_signer(log_id: str = "demo") -> Signer:
    """A fresh key for a test log named timebank.test/<log_id> (as conftest's; not imported, since
    `conftest` names more than one module once sub-suites have their own)."""
    return Signer.generate(f"timebank.test/{log_id}")


def make_log(session: Session, now: datetime, log_id: str = "demo") -> Signer:
    """Create log `log_id` (origin timebank.test/<log_id>) and return its signer."""
    signer = make_signer(log_id)
    store.create_log(session, log_id=log_id, origin=signer.name, signer=signer, at=now)
    return signer


def make_entry(n: int, **extra: Any) -> dict[str, Any]:
    """A plausible entry: a deposit of `n` minutes to an opaque account."""
    return {"type": "deposit", "account": f"acct-{n:04d}", "minutes": 30 + n, **extra}


def append_batches(
    session: Session, log_id: str, signer: Signer, sizes: Sequence[int], now: datetime
) -> list[store.Receipt]:
    """Append batches of the given sizes, one checkpoint each; return every receipt."""
    receipts: list[store.Receipt] = []
    for batch in sizes:
        start = len(receipts)
        entries = [make_entry(start + i) for i in range(batch)]
        receipts += store.append(session, log_id, entries, signer=signer, at=now)
    return receipts


def stored_rows(session: Session, log_id: str) -> tuple[int, int, int]:
    """How many leaf, hash and checkpoint rows the log has."""
    counts = []
    for table in (leaves, hashes, checkpoints):
        counts.append(session.execute(sa.select(sa.func.count()).where(table.c.log_id == log_id)).scalar_one())
    return counts[0], counts[1], counts[2]


def raw_leaves(session: Session, log_id: str) -> list[bytes]:
    """The leaf bytes straight from the table, in seq order."""
    rows = session.execute(sa.select(leaves.c.data).where(leaves.c.log_id == log_id).order_by(leaves.c.seq)).scalars()
    return [bytes(data) for data in rows]


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    """Collect every SQL statement the engine sends while the block runs."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
