"""Writers killed with SIGKILL at random moments, during ledger appends and during record flows
(submit, confirm, verify): after each kill every acknowledged entry is there with its hash, the
log has no gap and no fork, `verify` passes with every checkpoint seen before still consistent, the
books reconcile, and a fresh process goes on appending."""

from __future__ import annotations

import base64
import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from ledger import merkle, store
from ledger.database import leaves
from tests.conftest import Databases
from tests.reliability.conftest import rounds
from tests.reliability.crash_worker import LOG
from tests.reliability.deployment import NOW, Deployment, build, verify_everything
from timebank.records import ServiceRecord

REPO = Path(__file__).resolve().parents[2]
MAX_DELAY = 0.5  # seconds after the worker's first acknowledgement; the kill lands anywhere in that span
ORDER = {"submitted": 0, "confirmed": 1, "posted": 2}


@dataclass
class Figures:
    rounds: int = 0
    kills_in_transaction: int = 0  # the worker had begun a transaction it had not acknowledged
    acknowledged: int = 0  # entries
    committed_unacknowledged: int = 0  # entries found that no one had acknowledged (the kill came after commit)
    sizes: dict[str, int] = field(default_factory=dict)
    ops: Counter[str] = field(default_factory=Counter)


def read_acks(path: Path) -> tuple[list[dict], bool]:
    """The acknowledgements written, and whether a transaction was begun and not acknowledged."""
    acks, in_flight = [], False
    for line in path.read_text().splitlines(keepends=True):
        if not line.endswith("\n"):
            break  # cut short by the kill: not acknowledged
        if line.startswith("A "):
            acks.append(json.loads(line[2:]))
        in_flight = line.startswith("B ")
    return acks, in_flight


def entries_of(ack: dict) -> list[dict]:
    return ack["receipts"] if ack["op"] == "append" else [ack]


def start_worker(deployment: Deployment, mode: str, acks: Path, seed: int, count: int | None = None,
                 ) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "tests.reliability.crash_worker", mode, str(deployment.root), deployment.url,
            str(acks), str(seed), *([str(count)] if count is not None else [])]
    with open(f"{acks}.err", "wb") as err:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=err)


def wait_for_first_ack(worker: subprocess.Popen[bytes], acks: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if acks.exists() and "\nA " in "\n" + acks.read_text():
            return
        if worker.poll() is not None:
            pytest.fail(f"the worker died on its own: {Path(f'{acks}.err').read_text()}")
        time.sleep(0.01)
    worker.kill()
    pytest.fail("the worker acknowledged nothing within 120 s")


def check_after_kill(deployment: Deployment, acked: dict[tuple[str, int], str], records: dict[str, dict],
                     kept: dict[str, list[bytes]]) -> dict[str, int]:
    """What must hold after every kill; returns each log's size."""
    with deployment.session() as db:
        sizes = verify_everything(db, deployment.key_dir, kept)
        for log_id, size in sizes.items():
            seqs = db.execute(sa.select(sa.func.count(), sa.func.count(sa.distinct(leaves.c.seq)),
                                        sa.func.max(leaves.c.seq)).where(leaves.c.log_id == log_id)).one()
            assert (seqs[0], seqs[1]) == (size, size) and (seqs[2] is None or seqs[2] == size - 1), (log_id, seqs)
        for (log_id, seq), leaf_hash in acked.items():
            assert seq < sizes[log_id], f"acknowledged leaf {seq} of {log_id} is gone"
            data = store.read_leaves(db, log_id, seq, seq + 1)[0]
            assert base64.b64encode(merkle.leaf_hash(data)).decode() == leaf_hash, (log_id, seq)
        for record_id, ack in records.items():
            row = db.get(ServiceRecord, record_id)
            assert row is not None, f"acknowledged record {record_id} is gone"
            assert ORDER[row.status] >= ORDER[ack["status"]], (record_id, row.status, ack["status"])
            if ack["status"] == "posted":
                assert row.credit_minutes == ack["credit"]
        for log_id in sizes:
            kept.setdefault(log_id, []).append(store.latest_checkpoint(db, log_id).note)
    return sizes


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["ledger", "records"])
def test_writers_killed_at_random_moments_lose_nothing_acknowledged(
    databases: Databases, tmp_path: Path, mode: str
) -> None:
    deployment, _network = build(databases.new_url(), tmp_path / "deployment")
    if mode == "ledger":
        with deployment.session() as db:
            deployment.writer().create_log(db, log_id=LOG, origin=f"timebank.test/{LOG}", at=NOW)
            db.commit()
    with deployment.session() as db:
        before = {log.id: store.stored_size(db, log.id) for log in store.list_logs(db)}
    rng = random.Random(8)
    figures = Figures()
    acked: dict[tuple[str, int], str] = {}
    records: dict[str, dict] = {}
    kept: dict[str, list[bytes]] = {}
    started = time.monotonic()
    for n in range(rounds(3, 20)):
        acks = tmp_path / f"acks-{n}"
        worker = start_worker(deployment, mode, acks, seed=n)
        wait_for_first_ack(worker, acks)
        time.sleep(rng.uniform(0, MAX_DELAY))
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(timeout=30) == -signal.SIGKILL
        got, in_flight = read_acks(acks)
        figures.rounds += 1
        figures.kills_in_transaction += in_flight
        for ack in got:
            figures.ops[ack["op"]] += 1
            for entry in entries_of(ack):
                acked[(entry["log"], entry["seq"])] = entry["hash"]
            if "record" in ack:
                records[ack["record"]] = ack
        figures.sizes = check_after_kill(deployment, acked, records, kept)

    # a fresh process goes on where the killed ones stopped, and finishes cleanly
    acks = tmp_path / "acks-final"
    worker = start_worker(deployment, mode, acks, seed=99, count=6)
    assert worker.wait(timeout=300) == 0, Path(f"{acks}.err").read_text()
    got, in_flight = read_acks(acks)
    assert not in_flight and len(got) == 6
    for ack in got:
        for entry in entries_of(ack):
            acked[(entry["log"], entry["seq"])] = entry["hash"]
    figures.sizes = check_after_kill(deployment, acked, records, kept)
    figures.acknowledged = len(acked)
    written = sum(figures.sizes.values()) - sum(before.values())
    figures.committed_unacknowledged = written - len(acked)
    assert figures.committed_unacknowledged >= 0
    elapsed = time.monotonic() - started
    print(f"\ncrash {mode} on {sa.make_url(deployment.url).get_backend_name()}: {figures.rounds} rounds, "
          f"{figures.rounds} SIGKILLs ({figures.kills_in_transaction} inside a transaction), "
          f"{figures.acknowledged} entries acknowledged, {written} found "
          f"({figures.committed_unacknowledged} committed but not yet acknowledged), "
          f"operations {dict(figures.ops)}, logs {figures.sizes}, {elapsed:.1f}s")
