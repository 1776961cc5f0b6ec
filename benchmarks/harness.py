"""Runs every benchmark group, writes the results (JSON) and a chart (PNG), and prints a table."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

Progress = Callable[[str], None]


@dataclass
class Figure:
    """One measured figure: `value` in `unit`, its same-run `baseline`, and `ratio` checked against `target`
    ("≥ 0.5", "≤ 2"); `met` is None when there was nothing to compare."""

    group: str
    name: str
    value: float
    unit: str
    baseline: float | None
    ratio: float | None
    target: str
    met: bool | None
    note: str = ""


def bound(target: str | float) -> float:
    """The number in a target: "≥ 0.5" → 0.5 (a bare number is taken as it is)."""
    if isinstance(target, (int, float)):
        return float(target)
    return float(target.split()[-1])


def meets(ratio: float | None, target: str) -> bool | None:
    """Whether `ratio` meets `target` ("≥ X" or "≤ X"); None without a ratio."""
    if ratio is None:
        return None
    return ratio >= bound(target) if target.startswith("≥") else ratio <= bound(target)


def figure(
    group: str, name: str, value: float, unit: str, baseline: float | None, ratio: float | None, target: str,
    note: str = "",
) -> Figure:
    """A Figure with `met` worked out from `ratio` and `target`."""
    return Figure(group, name, value, unit, baseline, ratio, target, meets(ratio, target), note)


class Databases:
    """Fresh databases for one run: SQLite files in a directory, PostgreSQL databases in a cluster
    (dropped again by `close`)."""

    def __init__(self, sqlite_dir: Path, postgres_url: str | None) -> None:
        self.sqlite_dir = sqlite_dir
        self.postgres_url = postgres_url
        self.created: list[str] = []
        self._admin: sa.Engine | None = None

    def sqlite(self, name: str) -> str:
        self.sqlite_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.sqlite_dir / f'{name}-{uuid.uuid4().hex[:8]}.sqlite3'}"

    def postgres(self, name: str) -> str:
        if self.postgres_url is None:
            raise RuntimeError("no PostgreSQL server for this run")
        if self._admin is None:
            self._admin = sa.create_engine(self.postgres_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        db = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        with self._admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{db}"')
        self.created.append(db)
        return make_url(self.postgres_url).set(database=db).render_as_string(hide_password=False)

    def close(self) -> None:
        if self._admin is None:
            return
        with self._admin.connect() as conn:
            for db in self.created:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        self._admin.dispose()


def machine(postgres_url: str | None) -> dict[str, Any]:
    """What the figures were measured on."""
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": None,
    }
    if postgres_url:
        engine = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            info["postgresql"] = conn.exec_driver_sql("SHOW server_version").scalar()
        engine.dispose()
    return info


def run_all(
    *, quick: bool, sqlite_dir: Path, postgres_url: str | None, out: Path, chart: Path, progress: Progress
) -> list[Figure]:
    """Run every group (the ledger's, and the service's when benchmarks.service_figures exists),
    write `out` and `chart`, and return the figures. `postgres_url` is a server where databases
    may be created; without it the PostgreSQL figures are skipped."""
    from . import ledger_figures

    started = datetime.now(timezone.utc)
    databases = Databases(sqlite_dir, postgres_url)
    figures: list[Figure] = []
    try:
        figures += ledger_figures.run(quick=quick, databases=databases, progress=progress)
        try:
            from . import service_figures  # written separately; optional
        except ImportError:
            progress("service figures: benchmarks/service_figures.py not found, skipped")
        else:
            url = databases.postgres("service") if postgres_url else databases.sqlite("service")
            _migrate(url)
            workdir = sqlite_dir / "service"
            workdir.mkdir(parents=True, exist_ok=True)
            figures += service_figures.run(quick=quick, database_url=url, workdir=workdir, progress=progress)
    finally:
        databases.close()
    write_results(figures, out=out, quick=quick, machine_info=machine(postgres_url), started=started)
    draw_chart(figures, chart, quick=quick)
    return figures


def _migrate(url: str) -> None:
    from api import migrate
    from ledger.database import create_engine

    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()


def write_results(
    figures: list[Figure], *, out: Path, quick: bool, machine_info: dict[str, Any], started: datetime
) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "date": started.isoformat(timespec="seconds"),
        "seconds": round((datetime.now(timezone.utc) - started).total_seconds(), 1),
        "quick": quick,
        "machine": machine_info,
        "figures": [asdict(f) for f in figures],
    }
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def draw_chart(figures: list[Figure], path: Path, *, quick: bool) -> None:
    """Horizontal bars: each ratio (log scale) with its target marked; green when met."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [f for f in figures if f.ratio is not None and f.ratio > 0]
    fig, ax = plt.subplots(figsize=(9, 0.45 * max(len(shown), 1) + 1.5))
    labels = [f"{f.group}: {f.name}" for f in shown]
    ys = range(len(shown))
    colors = ["#2e7d32" if f.met else "#c62828" for f in shown]
    ax.barh(list(ys), [f.ratio for f in shown], color=colors)
    for y, f in zip(ys, shown):
        ax.plot([bound(f.target)] * 2, [y - 0.4, y + 0.4], color="black", linewidth=2)
        ax.annotate(f"{f.ratio:.2f} (target {f.target})", (f.ratio, y), xytext=(4, -3),
                    textcoords="offset points", fontsize=7)
    ax.set_yticks(list(ys), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("ratio against the same-run baseline (black bar: target)")
    ax.set_title("timebank benchmarks" + (" (quick mode: sizes too small to judge)" if quick else ""))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def table(figures: list[Figure]) -> str:
    """The figures as a plain-text table."""
    head = ("group", "figure", "value", "unit", "baseline", "ratio", "target", "met")
    rows = [
        (f.group, f.name, _num(f.value), f.unit, _num(f.baseline), "-" if f.ratio is None else f"{f.ratio:.2f}",
         f.target, {True: "yes", False: "NO", None: "-"}[f.met])
        for f in figures
    ]
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
