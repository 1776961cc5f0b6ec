"""Several processes appending to one log at once: no fork, no gap, every receipt honoured."""

from __future__ import annotations

import multiprocessing
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ledger import audit, merkle, store
from ledger.database import checkpoints, create_engine, leaves
from ledger.errors import AppendConflict
from ledger.keys import Keyring
from ledger.writer import Writer

LOG = "shared"
ORIGIN = "timebank.test/shared"
PROCESSES = 4
APPENDS = 25  # per process, each a batch of 1-3 entries in its own transaction
MAX_RETRIES = 50


@dataclass(frozen=True)
class WorkerResult:
    """What one process saw: its receipts (log, index, leaf hash), commits and retries."""

    worker: int
    receipts: list[tuple[str, int, bytes, int]]
    commits: int
    retries: int


def append_many(url: str, key_dir: str, worker: int, start: float) -> WorkerResult:
    """Run in a spawned process: APPENDS appends, each committed on its own, retried on conflict."""
    rng = random.Random(worker)
    engine = create_engine(url, poolclass=sa.pool.NullPool)
    writer = Writer(Keyring(Path(key_dir)))
    receipts: list[tuple[str, int, bytes, int]] = []
    commits = retries = 0
    time.sleep(max(0.0, start - time.time()))  # everyone starts together
    try:
        for n in range(APPENDS):
            entries = [
                {"type": "deposit", "account": f"acct-w{worker}-{n}-{i}", "minutes": 15 * (i + 1)}
                for i in range(rng.randint(1, 3))
            ]
            for _attempt in range(MAX_RETRIES):
                with Session(engine) as db:
                    try:
                        got = writer.append(db, LOG, entries, at=datetime.now(timezone.utc))
                        db.commit()
                    except AppendConflict:
                        db.rollback()
                        retries += 1
                        continue
                receipts += [(r.log, r.index, r.leaf_hash, r.checkpoint_size) for r in got]
                commits += 1
                # a little work between requests; without it SQLite's busy handler lets the writer
                # that holds the lock take it again and again, and the writers barely interleave
                time.sleep(rng.uniform(0, 0.01))
                break
            else:
                raise RuntimeError(f"worker {worker} gave up after {MAX_RETRIES} conflicts")
    finally:
        engine.dispose()
    return WorkerResult(worker, receipts, commits, retries)


@pytest.mark.slow
def test_concurrent_writers_to_one_log_never_fork_gap_or_lose_a_receipt(
    fresh_engine: Engine, tmp_path: Path, now: datetime
) -> None:
    key_dir = tmp_path / "keys"
    with Session(fresh_engine) as db:
        Writer(Keyring(key_dir)).create_log(db, log_id=LOG, origin=ORIGIN, at=now)  # makes the key file
        db.commit()
    verifier = Keyring(key_dir).signer(LOG, ORIGIN).verifier
    fresh_engine.dispose()  # no connection of ours in the way (SQLite's lock, PG's row lock)

    url = fresh_engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    started = time.monotonic()
    with context.Pool(PROCESSES) as pool:
        start = time.time() + 2.0  # time for the spawned interpreters to import everything
        jobs = [pool.apply_async(append_many, (url, str(key_dir), w, start)) for w in range(PROCESSES)]
        results: list[WorkerResult] = [job.get(timeout=120) for job in jobs]
    elapsed = time.monotonic() - started

    receipts = [r for result in results for r in result.receipts]
    commits = sum(result.commits for result in results)
    retries = sum(result.retries for result in results)
    assert commits == PROCESSES * APPENDS

    with Session(fresh_engine) as db:
        seqs = db.execute(sa.select(leaves.c.seq).where(leaves.c.log_id == LOG).order_by(leaves.c.seq)).scalars().all()
        size = len(seqs)
        # no fork: one leaf per seq (the primary key promises it; count anyway) ...
        assert len(set(seqs)) == size
        # ... and no gap
        assert seqs == list(range(size))
        assert size == len(receipts)
        # every acknowledged receipt's leaf is there, with the same hash, under a signed checkpoint
        stored = store.read_leaves(db, LOG, 0, size)
        assert sorted(index for _, index, _, _ in receipts) == list(range(size))
        for log, index, leaf_hash, checkpoint_size in receipts:
            assert log == LOG
            assert merkle.leaf_hash(stored[index]) == leaf_hash
            cp = store.get_checkpoint(db, LOG, checkpoint_size)
            proof = store.prove_inclusion(db, LOG, index, checkpoint_size)
            merkle.verify_inclusion(index, checkpoint_size, leaf_hash, proof.path, cp.root)
        # one checkpoint per commit, plus the empty one
        count = db.execute(sa.select(sa.func.count()).where(checkpoints.c.log_id == LOG)).scalar_one()
        assert count == commits + 1
        report = audit.verify_log(db, LOG, verifier)
        assert report.ok, report.problem
        assert (report.size, report.checkpoints) == (size, commits + 1)
    # the writers really did overlap (run one after another, they would switch only 3 times)
    writer_of = {index: result.worker for result in results for _, index, _, _ in result.receipts}
    switches = sum(writer_of[i] != writer_of[i - 1] for i in range(1, size))
    assert switches > PROCESSES - 1, switches
    print(
        f"\n{fresh_engine.dialect.name}: {PROCESSES} processes, {commits} commits, {size} leaves, "
        f"{retries} retries on AppendConflict, {switches} switches between writers, {elapsed:.1f}s"
    )
    assert elapsed < 60
