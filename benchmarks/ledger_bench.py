"""Ledger benchmark: proof cost and verification memory as the log grows, as ratios to the smallest.

    .venv/bin/python benchmarks/ledger_bench.py [--sizes 1000,10000,100000] [--database-url URL]

Targets (issue 2): a proof for any size costs O(log n) stored-hash reads in a constant number of
queries; `verify` streams the log in flat memory. Figures are printed, never asserted: timings on
a shared machine are noisy, so each is a ratio against the smallest size measured in the same run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import migrate  # noqa: E402
from ledger import audit, merkle, store  # noqa: E402
from ledger.database import create_engine  # noqa: E402
from ledger.note import Signer  # noqa: E402

BATCH = 1000


def _fill(engine: sa.Engine, size: int, signer: Signer) -> float:
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    started = time.perf_counter()
    with Session(engine) as session:
        store.create_log(session, log_id="bench", origin=signer.name, signer=signer, at=at)
        session.commit()
        for first in range(0, size, BATCH):
            count = min(BATCH, size - first)
            entries = [
                {"type": "deposit", "volunteer": f"vol-{(first + i) % 997:04d}", "minutes": 60} for i in range(count)
            ]
            store.append(session, "bench", entries, signer=signer, at=at)
            session.commit()
            print(f"\r  filled {first + count}/{size}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return time.perf_counter() - started


def _count_statements(engine: sa.Engine) -> list[int]:
    counter = [0]

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _count(*_args: object) -> None:
        counter[0] += 1

    return counter


def measure(url: str, size: int) -> dict[str, float]:
    engine = create_engine(url)
    migrate.upgrade(engine)
    signer = Signer.generate("bench.example.org/bench")
    fill_seconds = _fill(engine, size, signer)
    counter = _count_statements(engine)
    rng = random.Random(size)
    with Session(engine) as session:
        head = store.latest_checkpoint(session, "bench")
        sizes = [cp.size for cp in store.list_checkpoints(session, "bench", limit=1000)]
        timings, statements, coords = [], [], []
        for _ in range(200):
            index = rng.randrange(size)
            before = counter[0]
            started = time.perf_counter()
            proof = store.prove_inclusion(session, "bench", index)
            timings.append(time.perf_counter() - started)
            statements.append(counter[0] - before)
            coords.append(sum(len(merkle.subtrees(lo, hi)) for lo, hi in merkle.inclusion_ranges(index, size)))
            merkle.verify_inclusion(index, proof.tree_size, proof.leaf_hash, proof.path, head.root)
        old = sorted(sizes)[len(sizes) // 3]
        before = counter[0]
        started = time.perf_counter()
        store.prove_consistency(session, "bench", old)
        consistency_seconds = time.perf_counter() - started
        consistency_statements = counter[0] - before

        tracemalloc.start()
        started = time.perf_counter()
        report = audit.verify_log(session, "bench", signer.verifier)
        verify_seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert report.ok, report.problem
    engine.dispose()
    return {
        "size": size,
        "append_per_s": size / fill_seconds,
        "inclusion_ms": statistics.median(timings) * 1000,
        "inclusion_statements": max(statements),
        "inclusion_hashes_read": max(coords),
        "consistency_ms": consistency_seconds * 1000,
        "consistency_statements": consistency_statements,
        "verify_s": verify_seconds,
        "verify_peak_kib": peak / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite files in a temp dir)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            print(f"size {size}:", file=sys.stderr)
            url = args.database_url or f"sqlite:///{tmp}/bench-{size}.sqlite3"
            if args.database_url:
                engine = create_engine(url)
                migrate.downgrade(engine, "base")
                engine.dispose()
            results.append(measure(url, size))
    base = results[0]
    columns = [
        ("append_per_s", "appends/s", "{:,.0f}"),
        ("inclusion_ms", "inclusion ms (median)", "{:.2f}"),
        ("inclusion_statements", "inclusion SQL stmts", "{:.0f}"),
        ("inclusion_hashes_read", "inclusion hashes read", "{:.0f}"),
        ("consistency_ms", "consistency ms", "{:.2f}"),
        ("consistency_statements", "consistency SQL stmts", "{:.0f}"),
        ("verify_s", "verify s", "{:.2f}"),
        ("verify_peak_kib", "verify peak KiB", "{:,.0f}"),
    ]
    print(f"{'metric':<24}" + "".join(f"{r['size']:>22,}" for r in results))
    for key, label, fmt in columns:
        cells = []
        for r in results:
            ratio = r[key] / base[key] if base[key] else float("nan")
            cells.append(f"{fmt.format(r[key])} (×{ratio:.2f})")
        print(f"{label:<24}" + "".join(f"{c:>22}" for c in cells))
    print(f"{'size ratio':<24}" + "".join(f"{'×' + format(r['size'] / base['size'], '.0f'):>22}" for r in results))


if __name__ == "__main__":
    main()
