"""A writer process for the crash suite, killed with SIGKILL at a random moment by the test.

    python -m tests.reliability.crash_worker MODE ROOT DATABASE_URL ACK_FILE SEED [COUNT]

MODE `ledger` appends batches of 1-3 entries to the log `crash`; MODE `records` takes service
records through the use cases: submit, confirm (a coordinator's witness), verify (credit posted),
each step its own transaction. Before each transaction it writes `B <n>` to ACK_FILE, and after the
commit returned `A <json>` with what was acknowledged (log, seq, leaf hash; the record and its
status): a line written is acknowledged, since a write(2) to a file survives the writer's death.
With COUNT it stops after COUNT transactions and exits 0; without, it runs until killed.
"""

from __future__ import annotations

import base64
import json
import os
import random
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.database import create_engine
from tests.reliability.deployment import NOW, Deployment, load_network
from timebank import journal
from timebank.errors import Refused
from timebank.records_confirm import confirm_as_witness
from timebank.records_review import verify_record
from timebank.records_submit import submit_record

LOG = "crash"


def _entry(entry: journal.Entry) -> dict[str, Any]:
    return {"log": entry.log_id, "seq": entry.seq, "hash": base64.b64encode(entry.leaf_hash).decode()}


class Acks:
    """Lines appended to the acknowledgement file with one write(2) each."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def begin(self, n: int) -> None:
        os.write(self.fd, f"B {n}\n".encode())

    def ack(self, what: dict[str, Any]) -> None:
        os.write(self.fd, f"A {json.dumps(what)}\n".encode())


def run_ledger(deployment: Deployment, db_engine: sa.Engine, acks: Acks, rng: random.Random, count: int | None) -> None:
    writer = deployment.writer()
    n = 0
    while count is None or n < count:
        acks.begin(n)
        entries = [{"type": "deposit", "n": n, "i": i, "minutes": rng.randint(1, 600)} for i in range(rng.randint(1, 3))]
        with Session(db_engine) as db:
            receipts = writer.append(db, LOG, entries, at=NOW + timedelta(seconds=n))
            db.commit()
        acks.ack({"op": "append", "receipts": [
            {"log": r.log, "seq": r.index, "hash": base64.b64encode(r.leaf_hash).decode(), "size": r.checkpoint_size}
            for r in receipts]})
        n += 1


def run_records(deployment: Deployment, db_engine: sa.Engine, acks: Acks, rng: random.Random,
                count: int | None) -> None:
    writer, sealer, net = deployment.writer(), deployment.sealer(), load_network(deployment.root)
    n = 0
    while count is None or n < count:
        volunteer, elder = rng.choice(net.volunteers), rng.choice(net.elders)
        start = NOW - timedelta(days=rng.randint(1, 4), minutes=rng.randint(0, 600))
        acks.begin(n)
        with Session(db_engine) as db:
            try:
                record, _code = submit_record(db, writer, sealer, volunteer_id=volunteer, elder_id=elder,
                                              catalogue_code="VISIT", started_at=start,
                                              ended_at=start + timedelta(minutes=10), submitted_by=volunteer, at=NOW)
            except Refused:  # that volunteer's day is full: pick another
                continue
            db.flush()
            entry = db.get_one(journal.Entry, record.submit_entry_id)
            db.commit()
            acks.ack({"op": "submit", "record": record.id, "status": "submitted", **_entry(entry)})
        n += 1
        acks.begin(n)
        with Session(db_engine) as db:
            record = confirm_as_witness(db, writer, record_id=record.id, staff_id=net.coordinator, at=NOW)
            entry = journal.entries_about(db, record.id)[-1]
            db.commit()
            acks.ack({"op": "confirm", "record": record.id, "status": "confirmed", **_entry(entry)})
        n += 1
        acks.begin(n)
        with Session(db_engine) as db:
            record = verify_record(db, writer, record_id=record.id, staff_id=net.coordinator, at=NOW)
            entry = db.get_one(journal.Entry, record.deposit_entry_id)
            credit = record.credit_minutes
            db.commit()
            acks.ack({"op": "verify", "record": record.id, "status": "posted", "credit": credit,
                      "volunteer": volunteer, **_entry(entry)})
        n += 1


def main(argv: list[str]) -> None:
    mode, root, url, ack_path, seed = argv[:5]
    count = int(argv[5]) if len(argv) > 5 else None
    deployment = Deployment(url, Path(root))
    engine = create_engine(url, poolclass=sa.pool.NullPool)
    run = {"ledger": run_ledger, "records": run_records}[mode]
    run(deployment, engine, Acks(ack_path), random.Random(int(seed)), count)
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
