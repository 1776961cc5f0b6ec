"""`timebank bench`: the ledger and service benchmarks, each figure a ratio against a same-run baseline."""

from __future__ import annotations

import glob
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
PG_CLUSTER = ROOT / "scripts" / "pg-cluster.sh"


def have_postgres() -> bool:
    """Whether a PostgreSQL server binary is installed (Debian layout, or on PATH)."""
    return bool(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")) or shutil.which("pg_ctl") is not None


def _progress(message: str) -> None:
    click.echo(f"bench: {message}", err=True)


@click.command("bench")
@click.option("--quick", is_flag=True, help="Tiny sizes, seconds long: proves the command works, judges nothing.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("docs/bench/results.json"),
              show_default=True, help="Where to write the figures (JSON).")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), default=Path("docs/bench/chart.png"),
              show_default=True, help="Where to draw the chart (PNG).")
@click.option("--postgres/--no-postgres", default=None,
              help="Also measure on a throwaway PostgreSQL cluster (default: on in full mode when pg_ctl exists).")
def bench(quick: bool, out: Path, chart: Path, postgres: bool | None) -> None:
    """Run the benchmarks, print the table, write the results and the chart."""
    if str(ROOT) not in sys.path:  # benchmarks/ sits beside api/ but is not an installed package
        sys.path.insert(0, str(ROOT))
    from benchmarks import harness

    if postgres is None:
        postgres = not quick and have_postgres()
    with tempfile.TemporaryDirectory(prefix="timebank-bench-") as tmp:
        cluster = Path(tempfile.mkdtemp(prefix="timebank-bench-pg-")) if postgres else None
        url = None
        try:
            if cluster is not None:
                _progress(f"starting a throwaway PostgreSQL cluster in {cluster}")
                started = subprocess.run(["bash", str(PG_CLUSTER), "start", str(cluster)], stdout=subprocess.PIPE,
                                         text=True)
                if started.returncode != 0:
                    raise click.ClickException("could not start PostgreSQL (see the messages above)")
                url = started.stdout.strip().splitlines()[-1]
            figures = harness.run_all(quick=quick, sqlite_dir=Path(tmp), postgres_url=url, out=out, chart=chart,
                                      progress=_progress)
        finally:
            if cluster is not None:
                subprocess.run(["bash", str(PG_CLUSTER), "stop", str(cluster)], stdout=sys.stderr)
    click.echo(harness.table(figures))
    click.echo(f"\nwrote {out} and {chart}")
