"""`timebank load`: hold the record flow at a fixed rate against a fresh deployment, served by
gunicorn on a loopback port, and report errors, latency and memory per window (issue 8)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from ledger.database import create_engine

from . import migrate
from .settings import SettingsError, _database_url

ROOT = Path(__file__).resolve().parent.parent


@click.command("load")
@click.option("--rate", type=click.FloatRange(min=0.1, max=1000), default=None,
              help="Record flows per second (default: --fraction of the latest benchmark's service figure).")
@click.option("--fraction", type=click.FloatRange(min=0.01, max=1.0), default=0.5, show_default=True,
              help="The share of the benchmarked maximum to hold, when --rate is not given.")
@click.option("--duration", type=click.FloatRange(min=1, max=24 * 3600), default=600, show_default=True,
              help="Seconds to hold the load.")
@click.option("--window", type=click.FloatRange(min=1, max=3600), default=60, show_default=True,
              help="Seconds per reported window.")
@click.option("--database-url", default=None,
              help="An EMPTY database to load (it is migrated first); default: a new SQLite file.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("build/load.json"),
              show_default=True, help="Where to write the report (JSON).")
def load(rate: float | None, fraction: float, duration: float, window: float, database_url: str | None,
         out: Path) -> None:
    """Run a bounded load on loopback only; exit 1 if any request failed."""
    if str(ROOT) not in sys.path:  # benchmarks/ sits beside api/ and reuses the API tests' deployment
        sys.path.insert(0, str(ROOT))
    from benchmarks import load as loadrun

    if rate is None:
        benchmarked = loadrun.benchmarked_rate()
        if benchmarked is None:
            raise click.UsageError(f"no service figure in {loadrun.RESULTS}: run `make bench` first, or give --rate")
        rate = round(benchmarked * fraction, 2)
    workdir = Path(tempfile.mkdtemp(prefix="timebank-load-"))
    try:
        url = _database_url(database_url or f"sqlite:///{workdir / 'load.sqlite3'}")
    except SettingsError as exc:
        raise click.BadParameter(str(exc), param_hint="--database-url") from exc
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    report = loadrun.run(database_url=url, rate=rate, duration=duration, window=window, workdir=workdir,
                         progress=lambda message: click.echo(message, err=True))
    click.echo(report.table())
    for sample in report.error_samples:
        click.echo(f"error: {sample}", err=True)
    loadrun.save(report, out)
    click.echo(f"report written to {out}", err=True)
    if not report.ok:
        raise SystemExit(1)
