"""Ledger figures: append throughput, full verification, proof latency as the log grows, and a peer library.

Every figure is a ratio against a baseline measured in the same run (the machine is shared and noisy).
Appends go through `ledger.store.append` in batches of APPEND_BATCH entries, one signed checkpoint and
one commit per batch, as a busy deployment would group a burst of records.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import random
import statistics
import time
import tracemalloc
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api import migrate
from ledger import audit, store
from ledger.database import create_engine
from ledger.errors import AppendConflict
from ledger.note import Signer

from .harness import Databases, Figure, Progress, figure

AT = datetime(2026, 1, 1, tzinfo=timezone.utc)
APPEND_BATCH = 100  # entries per store.append call: one checkpoint and one commit each
FILL_BATCH = 10_000  # entries per store.append call when growing the log for proofs and verify
WRITERS = 8


@dataclass(frozen=True)
class Sizes:
    append_entries: int  # per run (split between the writers)
    append_batch: int
    proof_sizes: tuple[int, ...]
    fill_batch: int
    samples: int
    peer_samples: int
    peer_budget_s: float  # pymerkle's proofs can take seconds each at 1 M: stop sampling after this


FULL = Sizes(append_entries=16_000, append_batch=APPEND_BATCH, proof_sizes=(10_000, 100_000, 1_000_000),
             fill_batch=FILL_BATCH, samples=300, peer_samples=50, peer_budget_s=120)
QUICK = Sizes(append_entries=800, append_batch=50, proof_sizes=(1_000, 5_000), fill_batch=1_000, samples=50,
              peer_samples=10, peer_budget_s=10)


def entry(i: int) -> dict[str, Any]:
    """A typical service-record entry."""
    return {"type": "deposit", "volunteer": f"vol-{i % 997:04d}", "record": f"rec-{i:08d}", "minutes": 60}


def _migrated(url: str) -> sa.Engine:
    engine = create_engine(url)
    migrate.upgrade(engine)
    return engine


def _new_log(engine: sa.Engine, log_id: str) -> Signer:
    signer = Signer.generate(f"bench.example.org/{log_id}")
    with Session(engine) as session:
        store.create_log(session, log_id=log_id, origin=signer.name, signer=signer, at=AT)
        session.commit()
    return signer


# -- append -----------------------------------------------------------------------------------------

RAW = sa.MetaData()


def raw_table(name: str) -> sa.Table:
    return sa.Table(name, RAW, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("data", sa.LargeBinary, nullable=False), extend_existing=True)


def _writer(url: str, job: dict[str, Any], start: Any, results: Any) -> None:
    """One writer process: its own engine and connection; appends `job` batch by batch, a commit each."""
    engine = create_engine(url)
    batch = job["batch"]
    with Session(engine) as session:
        session.execute(sa.text("SELECT 1"))  # connect before the clock starts
        session.rollback()
        start.wait()
        began = time.perf_counter()
        if job["kind"] == "ledger":
            items = [entry(i) for i in job["range"]]
            for first in range(0, len(items), batch):
                while True:
                    try:
                        store.append(session, job["log_id"], items[first:first + batch], signer=job["signer"], at=AT)
                        session.commit()
                        break
                    except AppendConflict:
                        session.rollback()
        else:
            table = raw_table(job["table"])
            data = job["data"]
            for first in range(0, len(data), batch):
                session.execute(sa.insert(table), [{"data": d} for d in data[first:first + batch]])
                session.commit()
        ended = time.perf_counter()
    engine.dispose()
    results.put((began, ended))


def _run_writers(url: str, jobs: list[dict[str, Any]]) -> float:
    """Run one process per job, released together; the wall-clock seconds from first start to last end."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    start = ctx.Barrier(len(jobs))
    results = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(url, job, start, results)) for job in jobs]
    for p in procs:
        p.start()
    times = [results.get(timeout=3600) for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"a writer process failed (exit code {p.exitcode})")
    return max(e for _, e in times) - min(b for b, _ in times)


def append_figures(url: str, backend: str, sizes: Sizes, progress: Progress) -> list[Figure]:
    """Ledger appends/s against raw INSERTs of the same leaf bytes, 1 and WRITERS writers."""
    engine = _migrated(url)
    figures = []
    for writers in (1, WRITERS):
        log_id = f"append-{writers}"
        signer = _new_log(engine, log_id)
        table = raw_table(f"bench_raw_{writers}")
        RAW.create_all(engine, tables=[table])
        engine.dispose()
        total = sizes.append_entries - sizes.append_entries % (writers * sizes.append_batch)
        per = total // writers
        progress(f"append: {backend}, {writers} writer(s), {total} entries through store.append")
        jobs = [{"kind": "ledger", "log_id": log_id, "signer": signer, "batch": sizes.append_batch,
                 "range": range(w * per, (w + 1) * per)} for w in range(writers)]
        ledger_s = _run_writers(url, jobs)
        with Session(engine) as session:
            leaves = store.read_leaves(session, log_id, 0, total)
        progress(f"append: {backend}, {writers} writer(s), {total} raw INSERTs of the same bytes")
        jobs = [{"kind": "raw", "table": table.name, "batch": sizes.append_batch,
                 "data": leaves[w * per:(w + 1) * per]} for w in range(writers)]
        raw_s = _run_writers(url, jobs)
        ours, raw = total / ledger_s, total / raw_s
        figures.append(figure(
            "append", f"{backend}, {writers} writer{'s' if writers > 1 else ''}", ours, "entries/s", raw, ours / raw,
            "≥ 0.5", f"batches of {sizes.append_batch}, one checkpoint and commit each; {total} entries",
        ))
    engine.dispose()
    return figures


# -- verify, proofs, peer ------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _fill(engine: sa.Engine, log_id: str, signer: Signer, start: int, end: int, batch: int,
          progress: Progress) -> float:
    began = time.perf_counter()
    with Session(engine) as session:
        for first in range(start, end, batch):
            count = min(batch, end - first)
            store.append(session, log_id, [entry(first + i) for i in range(count)], signer=signer, at=AT)
            session.commit()
            if (first + count) % (10 * batch) == 0 or first + count == end:
                progress(f"fill: {first + count:,}/{end:,} leaves")
    return time.perf_counter() - began


def _proofs(engine: sa.Engine, log_id: str, size: int, samples: int) -> dict[str, list[float]]:
    rng = random.Random(size)
    out: dict[str, list[float]] = {"inclusion": [], "consistency": []}
    with Session(engine) as session:
        signed = [cp.size for cp in store.list_checkpoints(session, log_id, limit=100_000) if 0 < cp.size < size]
        for _ in range(samples):
            index = rng.randrange(size)
            began = time.perf_counter()
            store.prove_inclusion(session, log_id, index)
            out["inclusion"].append(time.perf_counter() - began)
            old = rng.choice(signed) if signed else size
            began = time.perf_counter()
            store.prove_consistency(session, log_id, old)
            out["consistency"].append(time.perf_counter() - began)
    return out


def _verify(engine: sa.Engine, log_id: str, signer: Signer, *, trace: bool) -> tuple[float, int]:
    """Seconds for a full verify (or, with `trace`, its peak traced memory in bytes)."""
    with Session(engine) as session:
        if trace:
            tracemalloc.start()
        began = time.perf_counter()
        report = audit.verify_log(session, log_id, signer.verifier)
        seconds = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        if trace:
            tracemalloc.stop()
    if not report.ok:
        raise RuntimeError(f"benchmark log does not verify: {report.problem}")
    return seconds, peak


def _pages(engine: sa.Engine, log_id: str, size: int, page: int = 100_000) -> Any:
    with Session(engine) as session:
        for first in range(0, size, page):
            yield store.read_leaves(session, log_id, first, min(size, first + page))


def _hashlib_seconds(engine: sa.Engine, log_id: str, size: int) -> float:
    """Seconds to hash the same leaves with hashlib (SHA-256 of 0x00‖leaf), a page in memory at a time."""
    total = 0.0
    for leaves in _pages(engine, log_id, size):
        began = time.perf_counter()
        for leaf in leaves:
            hashlib.sha256(b"\x00" + leaf).digest()
        total += time.perf_counter() - began
    return total


def _peer(engine: sa.Engine, log_id: str, size: int, path: Path, samples: int, budget_s: float,
          progress: Progress) -> dict[str, Any]:
    """pymerkle's SqliteTree: append the same leaf bytes, then inclusion proofs at random indices."""
    from pymerkle import SqliteTree

    progress(f"peer: appending {size:,} leaves to pymerkle's SqliteTree")
    tree = SqliteTree(str(path))
    try:
        began = time.perf_counter()
        for leaves in _pages(engine, log_id, size):
            tree.append_entries(leaves)
        append_s = time.perf_counter() - began
        rng = random.Random(size)
        timings = []
        progress(f"peer: {samples} pymerkle inclusion proofs at size {size:,}")
        deadline = time.perf_counter() + budget_s
        for _ in range(samples):
            if len(timings) >= 3 and time.perf_counter() > deadline:
                break
            index = rng.randrange(size)
            began = time.perf_counter()
            tree.prove_inclusion(index + 1)  # pymerkle counts leaves from one
            timings.append(time.perf_counter() - began)
    finally:
        tree.close()
    return {"append_s": append_s, "inclusion": timings}


def log_figures(url: str, workdir: Path, sizes: Sizes, progress: Progress) -> list[Figure]:
    """Grow one log through the sizes; proofs at each size, verify and memory at smallest and largest,
    the peer at the largest."""
    engine = _migrated(url)
    signer = _new_log(engine, "grow")
    proofs: dict[int, dict[str, list[float]]] = {}
    verify: dict[int, tuple[float, float]] = {}
    peaks: dict[int, int] = {}
    fill_s = 0.0
    filled = 0
    smallest, largest = sizes.proof_sizes[0], sizes.proof_sizes[-1]
    for size in sizes.proof_sizes:
        # at least 10 checkpoints below every size, so consistency proofs start from a real older tree
        batch = min(sizes.fill_batch, max(1, (size - filled) // 10))
        fill_s += _fill(engine, "grow", signer, filled, size, batch, progress)
        filled = size
        progress(f"proofs: {sizes.samples} inclusion and consistency proofs at {size:,}")
        proofs[size] = _proofs(engine, "grow", size, sizes.samples)
        if size in (smallest, largest):
            progress(f"verify: full log of {size:,} (timed, then under tracemalloc)")
            verify[size] = (_verify(engine, "grow", signer, trace=False)[0], _hashlib_seconds(engine, "grow", size))
            peaks[size] = _verify(engine, "grow", signer, trace=True)[1]
    peer = _peer(engine, "grow", largest, workdir / f"pymerkle-{largest}.sqlite3", sizes.peer_samples,
                 sizes.peer_budget_s, progress)
    engine.dispose()

    figures = []
    ours_s, hash_s = verify[largest]
    figures.append(figure("verify", f"entries/s at {largest:,}", largest / ours_s, "entries/s", largest / hash_s,
                          hash_s / ours_s, "≥ 0.3", "baseline: hashlib SHA-256 of 0x00‖leaf, leaves in memory"))
    figures.append(figure("verify", f"peak memory {smallest:,} → {largest:,}", peaks[largest] / 1024, "KiB",
                          peaks[smallest] / 1024, peaks[largest] / max(peaks[smallest], 1), "≤ 1.5",
                          "tracemalloc peak during verify_log; baseline: the smallest size"))
    for kind in ("inclusion", "consistency"):
        for label, q in (("p50", 0.5), ("p99", 0.99)):
            big, small = _percentile(proofs[largest][kind], q), _percentile(proofs[smallest][kind], q)
            figures.append(figure("proofs", f"{kind} {label} {smallest:,} → {largest:,}", big * 1000, "ms",
                                  small * 1000, big / small, "≤ 2",
                                  f"{sizes.samples} proofs per size; baseline: the smallest size"))
    ours, theirs = statistics.median(proofs[largest]["inclusion"]), statistics.median(peer["inclusion"])
    figures.append(figure("peer", f"inclusion p50 at {largest:,} vs pymerkle", ours * 1000, "ms", theirs * 1000,
                          theirs / ours, "≥ 5",
                          f"pymerkle SqliteTree, {len(peer['inclusion'])} proofs; "
                          f"its append {largest / peer['append_s']:,.0f}/s, "
                          f"ours {largest / fill_s:,.0f}/s (batches of {sizes.fill_batch:,})"))
    return figures


def run(*, quick: bool, databases: Databases, progress: Progress) -> list[Figure]:
    """Every ledger figure: append on SQLite (and PostgreSQL when the run has a server), then
    verify, proofs and peer on SQLite."""
    sizes = QUICK if quick else FULL
    figures = append_figures(databases.sqlite("append"), "SQLite", sizes, progress)
    if databases.postgres_url:
        figures += append_figures(databases.postgres("append"), "PostgreSQL", sizes, progress)
    else:
        progress("append: no PostgreSQL server, PostgreSQL figures skipped")
    figures += log_figures(databases.sqlite("grow"), databases.sqlite_dir, sizes, progress)
    return figures
