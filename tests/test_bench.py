"""The benchmark command runs end to end in quick mode; it judges no speed (the sizes are too small)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks import harness, ledger_figures
from tests.conftest import PG_URL

pytestmark = pytest.mark.slow


def test_quick_bench_writes_every_group_with_numbers_and_a_chart(tmp_path: Path) -> None:
    out, chart = tmp_path / "results.json", tmp_path / "chart.png"
    messages: list[str] = []
    figures = harness.run_all(quick=True, sqlite_dir=tmp_path / "db", postgres_url=PG_URL or None, out=out,
                              chart=chart, progress=messages.append)

    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["quick"] is True
    assert doc["machine"]["cores"] and doc["machine"]["sqlite"]
    groups = {f["group"] for f in doc["figures"]}
    assert {"append", "verify", "proofs", "peer"} <= groups
    for f in doc["figures"]:
        assert isinstance(f["value"], (int, float)) and math.isfinite(f["value"]), f
        if f["ratio"] is not None:
            assert math.isfinite(f["ratio"]) and f["ratio"] > 0, f
    names = {f["name"] for f in doc["figures"] if f["group"] == "append"}
    assert {"SQLite, 1 writer", "SQLite, 8 writers"} <= names
    if PG_URL:
        assert {"PostgreSQL, 1 writer", "PostgreSQL, 8 writers"} <= names
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(figures) == len(doc["figures"])
    assert messages


def test_the_table_shows_every_figure() -> None:
    figures = [harness.figure("append", "SQLite, 1 writer", 900.0, "entries/s", 1000.0, 0.9, "≥ 0.5")]
    text = harness.table(figures)
    assert "SQLite, 1 writer" in text and "0.90" in text and "yes" in text


def test_targets_are_checked_in_their_direction() -> None:
    assert harness.meets(0.6, "≥ 0.5") and not harness.meets(0.4, "≥ 0.5")
    assert harness.meets(1.9, "≤ 2") and not harness.meets(2.1, "≤ 2")
    assert harness.meets(None, "≤ 2") is None


def test_quick_sizes_are_small() -> None:
    assert max(ledger_figures.QUICK.proof_sizes) <= 5_000


def test_a_profile_groups_the_time_into_named_costs(tmp_path: Path) -> None:
    from benchmarks import profiles

    text = profiles.verify(f"sqlite:///{tmp_path / 'profile.sqlite3'}", 300)
    assert "verify_log over 300 leaves" in text
    assert "JSON parse" in text and "top functions by self time" in text
