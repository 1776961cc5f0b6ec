"""Where the time goes in the figures that miss their target: cProfile over the same workloads,
self time grouped into named costs, as docs/bench/README.md ("Profiles") shows them.

    .venv/bin/python -m benchmarks.profiles verify [--size 50000]
    .venv/bin/python -m benchmarks.profiles append [--url URL]
    .venv/bin/python -m benchmarks.profiles service [--url URL] [--flows 60]

Without --url the workload runs on a SQLite file in a temporary directory; a PostgreSQL URL must name
an empty database. The service workload is the record flow in process (Flask's test client), so the
profile is the server's side only.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# (bucket, test on "path:function"), first match wins; the rest is "other".
Buckets = list[tuple[str, Callable[[str], bool]]]


def _has(*parts: str) -> Callable[[str], bool]:
    return lambda where: any(p in where for p in parts)


VERIFY: Buckets = [
    ("JSON parse (json decoder, C scanner)", _has("json/decoder", "_short_int", "scanner")),
    ("JSON re-encode to check canonical form", _has("json/encoder", "canonical.py")),
    ("SHA-256 of leaves and nodes", _has("_hashlib", "merkle.py:28(", "merkle.py:33(", "digest")),
    ("reading rows (SQLAlchemy, sqlite3/psycopg)", _has("sqlalchemy", "sqlite3", "psycopg", "_rows")),
    ("Merkle frontier (push, edge copy)", _has("merkle.py")),
    ("leaf field checks (seq, v, at, type)", _has("_check_leaf", "fullmatch", "isinstance", "'get' of 'dict'")),
    ("checkpoint signatures", _has("note.py", "ed25519", "_check_checkpoints")),
    ("the walk itself (audit.run: chain, positions)", _has("audit.py", "b64encode", "b2a_base64", "next}")),
]
APPEND: Buckets = [
    ("canonical JSON encode of new leaves", _has("json/encoder", "canonical.py")),
    ("SQL statements (SQLAlchemy compile/execute)", _has("sqlalchemy")),
    ("database driver (execute, executemany, commit)", _has("sqlite3", "psycopg", "~:0(<method 'commit'")),
    ("head check: checkpoint signature", _has("note.py", "ed25519")),
    ("SHA-256 and Merkle frontier", _has("merkle.py", "_hashlib", "digest")),
    ("building leaves and receipts (store.append)", _has("store.py")),
]
SERVICE: Buckets = [
    ("SQLAlchemy ORM and Core (statements, flush, identity map)", _has("sqlalchemy")),
    ("database driver (execute, commit)", _has("sqlite3", "psycopg")),
    ("ledger append (head check, leaf, signature)", _has("/ledger/", "ed25519", "_hashlib")),
    ("Flask, Werkzeug, smorest, webargs, marshmallow", _has("flask", "werkzeug", "webargs", "marshmallow",
                                                          "apispec")),
    ("domain code (timebank/)", _has("/timebank/")),
    ("API code (api/)", _has("/api/")),
    ("JSON (request and response bodies)", _has("json/")),
    ("sealing and hashing (cryptography, hmac)", _has("cryptography", "hmac", "hashlib")),
]

# Steps of a service request: (name, file suffix, function); shown as cumulative time, overlapping.
SERVICE_STEPS = [
    ("the request through Flask (whole)", "flask/app.py", "wsgi_app"),
    ("the view in its transaction (api/transact.py)", "api/transact.py", "run"),
    ("  ledger entries (journal.write, with their SQL)", "timebank/journal.py", "write"),
    ("    of which store.append", "ledger/store.py", "append"),
    ("    of which the head check (signature, size, frontier)", "ledger/store.py", "_verified_head"),
    ("  account transfer (verify only)", "timebank/accounts.py", "transfer"),
    ("  policy lookups (policy.effective)", "timebank/policy.py", "effective"),
    ("  caller lookup (auth._identify)", "api/auth.py", "_identify"),
    ("  commit (flush and COMMIT)", "sqlalchemy/orm/session.py", "commit"),
]


def steps(profile: cProfile.Profile, named: list[tuple[str, str, str]]) -> str:
    """Cumulative time of named functions (the outermost when several match), as percentages of the
    profiled total; they overlap."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.values()) or 1e-9
    lines = ["", "cumulative time of named steps (they overlap):"]
    for name, suffix, func in named:
        cum = max((v[3] for (path, _line, f), v in stats.items() if f == func and path.endswith(suffix)), default=0.0)
        lines.append(f"{cum / total * 100:5.1f}%  {name}")
    return "\n".join(lines)


def summary(profile: cProfile.Profile, buckets: Buckets, wall: float, top: int = 12) -> str:
    """Self time grouped into `buckets`, as percentages of the profiled total, then the top functions."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.values()) or 1e-9
    grouped: dict[str, float] = {name: 0.0 for name, _ in buckets}
    grouped["other"] = 0.0
    rows = []
    for (path, line, func), (_cc, calls, self_time, _cum, _callers) in stats.items():
        where = f"{path}:{line}({func})"
        name = next((n for n, test in buckets if test(where)), "other")
        grouped[name] += self_time
        rows.append((self_time, calls, where.replace(str(ROOT) + "/", "").split("site-packages/")[-1]))
    lines = [f"profiled {total:.2f} s of self time ({wall:.2f} s wall under the profiler)", ""]
    lines += [f"{t / total * 100:5.1f}%  {name}" for name, t in sorted(grouped.items(), key=lambda kv: -kv[1])]
    lines += ["", "top functions by self time:"]
    lines += [f"{t / total * 100:5.1f}%  {calls:>8}  {where}" for t, calls, where in sorted(rows, reverse=True)[:top]]
    return "\n".join(lines)


def _profiled(work: Callable[[], None]) -> tuple[cProfile.Profile, float]:
    profile = cProfile.Profile()
    began = time.perf_counter()
    profile.enable()
    work()
    profile.disable()
    return profile, time.perf_counter() - began


def verify(url: str, size: int) -> str:
    from sqlalchemy.orm import Session

    from benchmarks import ledger_figures as lf
    from ledger import audit

    engine = lf._migrated(url)
    signer = lf._new_log(engine, "grow")
    lf._fill(engine, "grow", signer, 0, size, min(10_000, size), lambda _m: None)
    with Session(engine) as session:
        began = time.process_time()
        assert audit.verify_log(session, "grow", signer.verifier).ok
        cpu = time.process_time() - began
        profile, wall = _profiled(lambda: audit.verify_log(session, "grow", signer.verifier))
    engine.dispose()
    return f"verify_log over {size:,} leaves: {size / cpu:,.0f} entries/s of CPU unprofiled\n" + summary(
        profile, VERIFY, wall)


def append(url: str, entries: int = 20_000, batch: int = 100) -> str:
    from sqlalchemy.orm import Session

    from benchmarks import ledger_figures as lf
    from ledger import store

    engine = lf._migrated(url)
    signer = lf._new_log(engine, "append")
    items = [lf.entry(i) for i in range(entries)]

    def work() -> None:
        with Session(engine) as session:
            for first in range(0, entries, batch):
                store.append(session, "append", items[first:first + batch], signer=signer, at=lf.AT)
                session.commit()

    profile, wall = _profiled(work)
    engine.dispose()
    return f"store.append, 1 writer, {entries:,} entries in batches of {batch}\n" + summary(profile, APPEND, wall)


def service(url: str, workdir: Path, flows: int) -> str:
    from api import migrate
    from benchmarks import service_figures as sf
    from ledger.database import create_engine

    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    aw = sf._apiworld()
    (workdir / "instance").mkdir()
    world = aw.build(url, workdir / "instance")
    volunteers = []
    for name in sf._volunteers(world, 4):
        client = world.app.test_client()
        answer = client.post("/api/v1/auth/sign-in", json={"username": name, "password": aw.PASSWORD})
        volunteers.append(aw.ApiClient(client, answer.json["csrf_token"]))
    coordinator, elder = world.as_user("coordinator"), world.anonymous()
    first = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=5)

    def flow(n: int) -> None:
        started = first + timedelta(minutes=6 * (n // 4))
        body = {"elder_id": world.ids["elder"], "catalogue_code": "MEAL", "minutes": 4,
                "started_at": started.isoformat(), "ended_at": (started + timedelta(minutes=4)).isoformat()}
        made = volunteers[n % 4].post("/api/v1/records", json=body)
        assert made.status_code == 201, made.json
        path = f"/api/v1/records/{made.json['record']['id']}"
        assert elder.post(f"{path}/confirm-code", json={"code": made.json["code"]}).status_code == 200
        assert coordinator.post(f"{path}/verify").status_code == 200

    for n in range(4):  # warm up
        flow(n)
    began = time.perf_counter()
    for n in range(4, 4 + flows):
        flow(n)
    plain = time.perf_counter() - began
    profile, wall = _profiled(lambda: [flow(n) for n in range(4 + flows, 4 + 2 * flows)])
    statements = sum(v[1] for k, v in pstats.Stats(profile).stats.items()  # type: ignore[attr-defined]
                     if k[2] in ("do_execute", "do_executemany", "do_execute_no_params"))
    world.app.extensions["timebank.engine"].dispose()
    head = (f"record flow in process (submit, confirm, verify), {flows} flows: {flows / plain:.1f} flows/s "
            f"unprofiled, {plain / flows / 3 * 1000:.1f} ms a request; "
            f"{statements / flows / 3:.0f} SQL statements a request\n")
    return head + summary(profile, SERVICE, wall) + steps(profile, SERVICE_STEPS)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=("verify", "append", "service"))
    parser.add_argument("--url", help="database URL (default: a SQLite file in a temporary directory)")
    parser.add_argument("--size", type=int, default=50_000, help="leaves for verify")
    parser.add_argument("--flows", type=int, default=60, help="record flows for service")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="timebank-profile-") as tmp:
        url = args.url or f"sqlite:///{tmp}/profile.sqlite3"
        if args.workload == "verify":
            print(verify(url, args.size))
        elif args.workload == "append":
            print(append(url))
        else:
            print(service(url, Path(tmp), args.flows))


if __name__ == "__main__":
    main()
