"""A bounded load run (issue 8): the whole record flow (submit, confirm by code, verify) over HTTP
through gunicorn's two workers on a loopback port, held at a fixed rate for a fixed time, open loop
(each flow starts on its schedule, late or not, so a slow server cannot slow the load down).

It reports per window: flows started, requests, errors, p50 and p99 latency, how late the load fell
behind its schedule, and the resident memory of gunicorn's processes; and overall whether latency
and memory stayed flat (last window against the first). The rate defaults to a fraction of the
service figure of the latest benchmark (docs/bench/results.json).

    timebank load --fraction 0.5 --duration 600        # what `make reliability` runs
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks.service_figures import GUNICORN, ROOT, Http, _apiworld, _free_port, _volunteers

RESULTS = ROOT / "docs" / "bench" / "results.json"
FLOWS_PER_VOLUNTEER = 40  # 4-minute services 6 minutes apart: well inside the daily cap and the deadline
CLIENTS = 8  # client threads: enough to keep the schedule while some requests wait


@dataclass
class Window:
    """One stretch of the run."""

    start_s: float
    flows: int = 0
    requests: int = 0
    errors: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_late_ms: float = 0.0
    rss_mb: float = 0.0


@dataclass
class Report:
    database: str
    rate: float
    duration_s: float
    flows: int
    requests: int
    errors: int
    p99_ms: float
    p99_first_last: float  # p99 of the last window over the first's (the second's, past the warm-up)
    rss_first_last: float  # memory in the last window over the first's (likewise)
    windows: list[Window] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def table(self) -> str:
        lines = [f"{'window':>7} {'flows':>6} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p99 ms':>7} "
                 f"{'late ms':>8} {'RSS MiB':>8}"]
        for w in self.windows:
            lines.append(f"{w.start_s:>6.0f}s {w.flows:>6} {w.requests:>8} {w.errors:>6} {w.p50_ms:>7.1f} "
                         f"{w.p99_ms:>7.1f} {w.max_late_ms:>8.0f} {w.rss_mb:>8.1f}")
        lines.append(f"{self.flows} flows ({self.requests} requests) at {self.rate:g} flows/s for "
                     f"{self.duration_s:.0f} s on {self.database}: {self.errors} errors, p99 {self.p99_ms:.1f} ms; "
                     f"last window / first: p99 ×{self.p99_first_last:.2f}, memory ×{self.rss_first_last:.2f}")
        return "\n".join(lines)


def benchmarked_rate() -> float | None:
    """The record flows per second of the latest benchmark's service figure, if one was made."""
    try:
        figures = json.loads(RESULTS.read_text())["figures"]
    except (OSError, ValueError, KeyError):
        return None
    return next((float(f["value"]) for f in figures if f.get("group") == "service" and f.get("unit") == "flows/s"),
                None)


def _rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its children (gunicorn's master and workers), in MiB."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        pending += [int(child) for child in children]
    return total / 1024


@contextmanager
def _served(env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """gunicorn with 2 workers serving the app on a loopback port: (base URL, master pid)."""
    port = _free_port()
    with log.open("wb") as out:
        process = subprocess.Popen([str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--preload",
                                    "--chdir", str(ROOT), "api.app:create_app()"], env={**os.environ, **env},
                                   stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                Http(base).expect(200, "GET", "/healthz")
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(log.read_text(errors="replace")) from None
                time.sleep(0.1)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def run(*, database_url: str, rate: float, duration: float, window: float = 60.0, workdir: Path | None = None,
        progress: Callable[[str], None] = lambda _: None) -> Report:
    """Hold `rate` record flows per second for `duration` seconds against a fresh deployment on the
    empty, migrated database `database_url`."""
    aw = _apiworld()
    workdir = workdir or Path(tempfile.mkdtemp(prefix="timebank-load-"))
    total = max(1, math.ceil(rate * duration))
    world = aw.build(database_url, workdir)
    names = _volunteers(world, math.ceil(total / FLOWS_PER_VOLUNTEER) + 1)
    world.app.extensions["timebank.engine"].dispose()
    env = {"DATABASE_URL": database_url, "TIMEBANK_INSTANCE": str(workdir), "TIMEBANK_KEY_DIR": str(workdir / "keys"),
           "TIMEBANK_PERSONAL_DATA_KEYS": str(workdir / "personal-data.keys"), "SECRET_KEY": "load-secret",
           "TIMEBANK_ORIGIN_HOST": "timebank.test"}
    progress(f"load: {total} flows at {rate:g}/s for {duration:.0f} s, {len(names)} volunteers")
    first_slot = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=5)
    samples: list[tuple[float, float, bool]] = []  # (when, seconds, ok): list.append is atomic
    starts: list[tuple[float, float]] = []  # (when, late by)
    errors: list[str] = []
    memory: list[tuple[float, float]] = []

    with _served(env, workdir / "gunicorn-load.log") as (base, pid):
        volunteers = [Http(base).sign_in(name, aw.PASSWORD) for name in names]
        coordinator = Http(base).sign_in(world.usernames["coordinator"], aw.PASSWORD)
        counter = iter(range(total))
        lock = threading.Lock()
        began = time.perf_counter()
        stop = threading.Event()

        def call(client: Http, status: int, path: str, body: Any = None) -> Any:
            sent = time.perf_counter()
            try:
                got, answer = client.call("POST", path, body)
            except OSError as exc:
                got, answer = 0, str(exc)
            samples.append((sent - began, time.perf_counter() - sent, got == status))
            if got != status:
                errors.append(f"POST {path}: {got} {answer}"[:300])
                return None
            return answer

        def flow(n: int) -> None:
            slot = first_slot + timedelta(minutes=6 * (n // len(volunteers)))
            body = {"elder_id": world.ids["elder"], "catalogue_code": "MEAL", "minutes": 4,
                    "started_at": slot.isoformat(), "ended_at": (slot + timedelta(minutes=4)).isoformat()}
            made = call(volunteers[n % len(volunteers)], 201, "/api/v1/records", body)
            if made is None:
                return
            path = f"/api/v1/records/{made['record']['id']}"
            if call(Http(base), 200, f"{path}/confirm-code", {"code": made["code"]}) is None:
                return
            done = call(coordinator, 200, f"{path}/verify")
            if done is not None and (done["record"]["status"] != "posted" or done["receipt"] is None):
                errors.append(f"{path} was not posted: {done}"[:300])

        def client() -> None:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                due = n / rate
                wait = due - (time.perf_counter() - began)
                if wait > 0:
                    time.sleep(wait)
                starts.append((due, max(0.0, time.perf_counter() - began - due)))
                flow(n)

        def watch() -> None:
            while not stop.wait(min(5.0, window / 4)):
                memory.append((time.perf_counter() - began, _rss_mb(pid)))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        shown = 0.0
        while any(thread.is_alive() for thread in threads):
            time.sleep(0.5)
            elapsed = time.perf_counter() - began
            if elapsed - shown >= min(window, 30.0):
                shown = elapsed
                progress(f"load: {elapsed:.0f} s, {len(starts)} flows started, {len(errors)} errors")
        for thread in threads:
            thread.join()
        memory.append((time.perf_counter() - began, _rss_mb(pid)))
        stop.set()
        watcher.join()
        posted = _posted(world)
        world.app.extensions["timebank.engine"].dispose()  # no pooled connection outlives the run
    if not errors and posted != total:
        errors.append(f"{total} flows ran without error but {posted} records are posted")
    return _report(database_url, rate, duration, window, total, samples, starts, memory, errors)


def _posted(world: Any) -> int:
    import sqlalchemy as sa

    from timebank.records import ServiceRecord

    with world.session() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(ServiceRecord)
                            .where(ServiceRecord.status == "posted")) or 0)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def _report(database_url: str, rate: float, duration: float, window: float, total: int,
            samples: list[tuple[float, float, bool]], starts: list[tuple[float, float]],
            memory: list[tuple[float, float]], errors: list[str]) -> Report:
    spans = max(1, math.ceil(max([duration, *(when for when, _, _ in samples)]) / window))
    windows = []
    for i in range(spans):
        lo, hi = i * window, (i + 1) * window
        mine = [s for s in samples if lo <= s[0] < hi]
        latencies = [seconds * 1000 for _, seconds, _ in mine]
        late = [by * 1000 for when, by in starts if lo <= when < hi]
        rss = [mb for when, mb in memory if lo <= when < hi] or [memory[-1][1] if memory else 0.0]
        windows.append(Window(lo, sum(1 for when, _ in starts if lo <= when < hi), len(mine),
                              sum(1 for _, _, ok in mine if not ok),
                              round(statistics.median(latencies), 1) if latencies else 0.0,
                              round(_percentile(latencies, 0.99), 1), round(max(late, default=0.0)),
                              round(max(rss), 1)))
    full = [w for w in windows if w.requests] or windows
    if len(full) >= 3:  # the first window holds the warm-up (first requests, caches): compare from the second
        full = full[1:]
    all_latencies = [seconds * 1000 for _, seconds, _ in samples]
    dialect = database_url.split(":", 1)[0].split("+", 1)[0]
    return Report(dialect, rate, duration, total, len(samples), len(errors),
                  round(_percentile(all_latencies, 0.99), 1),
                  round(full[-1].p99_ms / full[0].p99_ms, 2) if full[0].p99_ms else 0.0,
                  round(full[-1].rss_mb / full[0].rss_mb, 2) if full[0].rss_mb else 0.0,
                  windows, errors[:10])


def save(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {**asdict(report), "ok": report.ok, "when": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    path.write_text(json.dumps(data, indent=2) + "\n")
