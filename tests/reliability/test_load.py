"""The bounded load: the record flow held at a fixed rate through gunicorn on loopback. Inside
`make test` a short run at a low rate proves the script and the service hold with zero errors;
`make reliability` holds half the benchmarked maximum for 10 minutes and writes build/load-<db>.json
(the figures in docs/reliability.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks import load

from .conftest import FULL

BUILD = Path(__file__).resolve().parents[2] / "build"


@pytest.mark.slow
def test_the_record_flow_holds_its_rate_with_zero_errors(databases: Any, tmp_path: Path) -> None:
    if FULL:
        benchmarked = load.benchmarked_rate()
        assert benchmarked, f"no service figure in {load.RESULTS}: run make bench first"
        rate, duration, window = round(benchmarked / 2, 2), 600.0, 60.0
    else:
        rate, duration, window = 2.0, 12.0, 4.0
    report = load.run(database_url=databases.new_url(), rate=rate, duration=duration, window=window,
                      workdir=tmp_path)
    print(report.table())
    load.save(report, (BUILD if FULL else tmp_path) / f"load-{report.database}.json")
    assert report.errors == 0, report.error_samples
    assert report.flows == round(rate * duration) and report.requests == 3 * report.flows
    assert len(report.windows) == round(duration / window)
    assert all(w.flows > 0 and w.rss_mb > 0 for w in report.windows)
    assert report.p99_ms > 0
