"""Service and read figures (issue 7, items 2 and 5): the record flow over HTTP, and read latency as data grows.

Service: submit (the volunteer), confirm with the elder's code (anonymous), verify (the coordinator, which
posts the credit and appends to the ledger), each over HTTP to gunicorn with 2 workers on a loopback port,
from a few client threads; as flows per second against a minimal Flask JSON endpoint served the same way
and called the same number of times (3 requests a flow).

Reads: the p50 latency of a volunteer's balance, the first page of their history and their school's class
term report, through the app in process, at a small and a large database. The size counts the service
records in status "posted" in the database, each with its deposit entry and its two postings; the rows past
the few made through the use cases are bulk-inserted with SQLAlchemy core (synthetic leaves of a log named
`bench-synthetic`, spread over a pool of volunteers and over the past year). The measured student's own
records (and so their balance, history and report) stay the same at both sizes: what grows is everyone else.
"""

from __future__ import annotations

import base64
import http.cookiejar
import importlib.util
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa

try:
    from benchmarks.harness import Figure
except ImportError:  # the harness is written alongside; keep this module usable on its own
    @dataclass(frozen=True)
    class Figure:  # type: ignore[no-redef]
        group: str
        name: str
        value: float
        unit: str
        baseline: float | None
        ratio: float | None
        target: str
        met: bool | None
        note: str = ""

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
THREADS = 4
FLOWS_PER_VOLUNTEER = 40  # 4-minute services 6 minutes apart: 160 of the 480 minutes a day, 4 hours back
SERVICE_TARGET, SERVICE_AT_LEAST = "≥ 0.3", 0.3  # of the baseline
READS_TARGET, READS_AT_MOST = "≤ 2", 2.0  # large over small
BATCH = 5000
MINIMAL_APP = '''"""The baseline: a minimal Flask JSON endpoint."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/echo")
def echo():
    return jsonify({"ok": True, "got": request.get_json()})


@app.get("/healthz")
def healthz():
    return jsonify({"ok": True})
'''


def _apiworld() -> ModuleType:
    """tests/api/apiworld.py: the deployment with a network, people and users that the API tests use."""
    if "apiworld" in sys.modules:
        return sys.modules["apiworld"]
    spec = importlib.util.spec_from_file_location("apiworld", ROOT / "tests" / "api" / "apiworld.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["apiworld"] = module
    spec.loader.exec_module(module)
    return module


# --- HTTP -----------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Http:
    """A client with its own cookies: `call(method, path, body, headers)` → (status, json)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.headers: dict[str, str] = {}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json", **self.headers})
        try:
            with self.opener.open(request, timeout=60) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    def expect(self, status: int, method: str, path: str, body: Any = None) -> Any:
        got, answer = self.call(method, path, body)
        if got != status:
            raise RuntimeError(f"{method} {path}: expected {status}, got {got}: {answer}")
        return answer

    def sign_in(self, username: str, password: str) -> Http:
        answer = self.expect(200, "POST", "/api/v1/auth/sign-in", {"username": username, "password": password})
        self.headers["X-CSRF-Token"] = answer["csrf_token"]
        return self


@contextmanager
def _gunicorn(target: str, *, chdir: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """gunicorn with 2 workers serving `target` on a loopback port; yields the base URL."""
    port = _free_port()
    with log.open("wb") as out:
        process = subprocess.Popen([str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--preload",
                                    "--chdir", str(chdir), target], env={**os.environ, **env},
                                   stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(log.read_text(errors="replace")) from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _in_threads(jobs: list[Callable[[], None]]) -> float:
    """Run each job in its own thread, all started together; seconds until the last ends. Re-raises."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs) + 1)

    def wrap(job: Callable[[], None]) -> None:
        start.wait()
        try:
            job()
        except BaseException as exc:  # noqa: BLE001 - reported to the caller below
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - began
    if errors:
        raise errors[0]
    return took


# --- service --------------------------------------------------------------------------------------

def _volunteers(world: Any, count: int) -> list[str]:
    """`count` new volunteers in 朝阳社区, each with a user; returns their usernames."""
    aw = _apiworld()
    from timebank import people, users

    names = []
    with world.session() as s:
        for n in range(count):
            birth = date(1960, 1, 1) + timedelta(days=n)
            volunteer = people.register_volunteer(s, world.sealer(), region_id=world.ids["community"],
                                                  name="压测志愿者", sex="M", birth_date=birth,
                                                  id_number=aw.id_number(birth), kind="community",
                                                  phone="13800000002", at=aw.NOW)
            user = users.create_user(s, username=f"bench.volunteer.{n}", password=aw.PASSWORD, role="volunteer",
                                     subject_id=volunteer.id, at=aw.NOW)
            names.append(user.username)
        s.commit()
    return names


def _service(world: Any, *, flows: int, url: str, root: Path, workdir: Path,
             progress: Callable[[str], None]) -> Figure:
    aw = _apiworld()
    per_thread = -(-flows // THREADS)
    per_volunteer = min(per_thread, FLOWS_PER_VOLUNTEER)
    volunteers_per_thread = -(-per_thread // per_volunteer)
    names = _volunteers(world, THREADS * volunteers_per_thread)
    world.app.extensions["timebank.engine"].dispose()
    env = {"DATABASE_URL": url, "TIMEBANK_INSTANCE": str(root), "TIMEBANK_KEY_DIR": str(root / "keys"),
           "TIMEBANK_PERSONAL_DATA_KEYS": str(root / "personal-data.keys"), "SECRET_KEY": "bench-secret",
           "TIMEBANK_ORIGIN_HOST": "timebank.test"}
    shares = [per_thread] * (flows // per_thread) + ([flows % per_thread] if flows % per_thread else [])
    first = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=5)

    (workdir / "minimal_app.py").write_text(MINIMAL_APP)
    with _gunicorn("minimal_app:app", chdir=workdir, env={}, log=workdir / "gunicorn-minimal.log") as base:
        def plain(count: int) -> Callable[[], None]:
            def job() -> None:
                client = Http(base)
                for n in range(count * 3):
                    client.expect(200, "POST", "/echo", {"n": n, "minutes": 4})
            return job

        _in_threads([plain(2) for _ in shares])  # warm up
        plain_took = _in_threads([plain(count) for count in shares])
    baseline = flows / plain_took  # flows' worth of requests (3 each) per second
    progress(f"service: minimal Flask endpoint {3 * flows / plain_took:.0f} requests/s")

    with _gunicorn("api.app:create_app()", chdir=ROOT, env=env, log=workdir / "gunicorn-timebank.log") as base:
        steps: dict[str, list[float]] = {"submit": [], "confirm": [], "verify": []}  # list.append is atomic

        def timed(step: str, client: Http, status: int, path: str, body: Any = None) -> Any:
            began = time.perf_counter()
            answer = client.expect(status, "POST", path, body)
            steps[step].append(time.perf_counter() - began)
            return answer

        def flow(count: int, mine: list[str]) -> Callable[[], None]:
            volunteers = [Http(base).sign_in(name, aw.PASSWORD) for name in mine]
            coordinator = Http(base).sign_in(world.usernames["coordinator"], aw.PASSWORD)
            elder = Http(base)
            for client in (*volunteers, coordinator):  # warm both workers' record routes
                client.expect(200, "GET", "/api/v1/records")

            def job() -> None:
                for n in range(count):
                    started = first + timedelta(minutes=6 * (n // len(volunteers)))
                    body = {"elder_id": world.ids["elder"], "catalogue_code": "MEAL", "minutes": 4,
                            "started_at": started.isoformat(), "ended_at": (started + timedelta(minutes=4)).isoformat()}
                    made = timed("submit", volunteers[n % len(volunteers)], 201, "/api/v1/records", body)
                    path = f"/api/v1/records/{made['record']['id']}"
                    timed("confirm", elder, 200, f"{path}/confirm-code", {"code": made["code"]})
                    done = timed("verify", coordinator, 200, f"{path}/verify")
                    if done["record"]["status"] != "posted" or done["receipt"] is None:
                        raise RuntimeError(f"{path} was not posted: {done}")
            return job

        jobs = [flow(count, names[t * volunteers_per_thread:(t + 1) * volunteers_per_thread])
                for t, count in enumerate(shares)]
        took = _in_threads(jobs)
    value = flows / took
    ratio = value / baseline
    per_step = ", ".join(f"{step} {statistics.median(times) * 1000:.0f} ms" for step, times in steps.items())
    progress(f"service: {flows} record flows in {took:.2f} s = {value:.1f} flows/s ({ratio:.2f} of the baseline); "
             f"p50 per request: {per_step}")
    return Figure("service", "record flow over HTTP (submit, confirm, verify)", round(value, 2), "flows/s",
                  round(baseline, 2), round(ratio, 3), SERVICE_TARGET, ratio >= SERVICE_AT_LEAST,
                  f"{flows} flows, {len(shares)} client threads, gunicorn 2 workers; baseline: a minimal Flask JSON "
                  f"endpoint served the same way, {3 * flows} requests counted as {flows} flows; "
                  f"p50 per request: {per_step}")


# --- reads ----------------------------------------------------------------------------------------

@dataclass
class _Bulk:
    """Where bulk rows go: the bank, its issuance account, and the accounts of the volunteers."""

    bank_id: str
    region_id: str
    elder_id: str
    issuance_id: str
    accounts: dict[str, str]  # volunteer id → their credit account
    seq: int = 0


def _bulk_target(world: Any, pool: int) -> tuple[_Bulk, str]:
    """A pool of volunteers for bulk rows (with their accounts), and a term around today for the school."""
    aw = _apiworld()
    from timebank import accounts, people, regions, schools

    with world.session() as s:
        region = regions.get_region(s, world.ids["community"])
        bank = regions.bank_of(s, region)
        issuance = accounts.bank_account(s, bank, "issuance", aw.NOW)
        owners = {world.ids["student"]: accounts.person_account(s, bank=bank, person_id=world.ids["student"],
                                                                at=aw.NOW).id}
        for n in range(pool):
            birth = date(1950, 1, 1) + timedelta(days=n)
            volunteer = people.register_volunteer(s, world.sealer(), region_id=region.id, name="批量志愿者",
                                                  sex="F", birth_date=birth, id_number=aw.id_number(birth),
                                                  kind="community", phone="13800000003", at=aw.NOW)
            s.flush()
            owners[volunteer.id] = accounts.person_account(s, bank=bank, person_id=volunteer.id, at=aw.NOW).id
        today = aw.NOW.date()
        term = schools.add_term(s, school_id=world.ids["school"], name="bench term",
                                starts_on=today - timedelta(days=90), ends_on=today + timedelta(days=90), at=aw.NOW)
        s.commit()
        return _Bulk(bank.id, region.id, world.ids["elder"], issuance.id, owners), term.id


def _insert(engine: sa.Engine, bulk: _Bulk, volunteers: list[str], count: int) -> None:
    """`count` posted records, round-robin over `volunteers`, each with a synthetic deposit entry and its
    two postings (issuance → the volunteer), and the account balances kept equal to the postings."""
    from timebank import journal
    from timebank.accounts import Account, Posting
    from timebank.records import ServiceRecord

    rng = secrets.SystemRandom()
    now = datetime.now(timezone.utc)
    salt = base64.b64encode(b"bench-salt-00000").decode()
    commitment = base64.b64encode(bytes(32)).decode()
    credited: dict[str, int] = {}
    with engine.begin() as conn:
        for lo in range(0, count, BATCH):
            records, entries, postings = [], [], []
            for n in range(lo, min(count, lo + BATCH)):
                volunteer = volunteers[n % len(volunteers)]
                started = now - timedelta(days=1 + rng.random() * 360)
                minutes = 30 + n % 60
                record_id, entry_id = uuid.uuid4().hex, uuid.uuid4().hex
                bulk.seq += 1
                entries.append({"id": entry_id, "bank_id": bulk.bank_id, "log_id": "bench-synthetic", "seq": bulk.seq,
                                "leaf_hash": secrets.token_bytes(32), "type": "deposit", "subject_id": record_id,
                                "policy_version": None, "at": started + timedelta(hours=2)})
                records.append({
                    "id": record_id, "region_id": bulk.region_id, "bank_id": bulk.bank_id, "volunteer_id": volunteer,
                    "elder_id": bulk.elder_id, "catalogue_code": "MEAL", "started_at": started,
                    "ended_at": started + timedelta(minutes=minutes), "minutes": minutes, "place_sealed": None,
                    "notes_sealed": None, "details_salt": salt, "details_commitment": commitment,
                    "organisation_id": None, "responsible": None, "paid": False, "status": "posted",
                    "submitted_by": volunteer, "submitted_at": started + timedelta(minutes=minutes),
                    "confirm_attempts": 0, "confirmed_kind": "code", "confirmed_by": bulk.elder_id,
                    "confirmed_at": started + timedelta(hours=1), "verified_by": volunteer,
                    "verified_at": started + timedelta(hours=2), "credit_minutes": minutes, "points": None,
                    "policy_version": 1, "deposit_entry_id": entry_id})
                at = started + timedelta(hours=2)
                postings += [
                    {"entry_id": entry_id, "account_id": bulk.issuance_id, "amount": -minutes, "at": at},
                    {"entry_id": entry_id, "account_id": bulk.accounts[volunteer], "amount": minutes, "at": at}]
                credited[volunteer] = credited.get(volunteer, 0) + minutes
            conn.execute(sa.insert(journal.Entry), entries)
            conn.execute(sa.insert(ServiceRecord), records)
            conn.execute(sa.insert(Posting), postings)
        for volunteer, minutes in credited.items():
            conn.execute(sa.update(Account).where(Account.id == bulk.accounts[volunteer])
                         .values(balance=Account.balance + minutes))
        conn.execute(sa.update(Account).where(Account.id == bulk.issuance_id)
                     .values(balance=Account.balance - sum(credited.values())))


def _posted(engine: sa.Engine) -> int:
    from timebank.records import ServiceRecord

    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(ServiceRecord)
                               .where(ServiceRecord.status == "posted")) or 0)


def _p50(call: Callable[[], Any], samples: int) -> float:
    for _ in range(3):
        call()
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def _reads(world: Any, *, sizes: tuple[int, int], samples: int, progress: Callable[[str], None]) -> list[Figure]:
    engine = world.app.extensions["timebank.engine"]
    bulk, term_id = _bulk_target(world, pool=200)
    student = world.ids["student"]
    _insert(engine, bulk, [student], 20)  # the measured student's own posted records: the same at both sizes
    others = [v for v in bulk.accounts if v != student]
    student_client, school_client = world.as_user("student"), world.as_user("school")

    def get(client: Any, path: str) -> Callable[[], None]:
        def call() -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path}: {response.status_code} {response.json}")
        return call

    reads = {
        "balance": get(student_client, f"/api/v1/people/{student}/balance"),
        "history (first page)": get(student_client, f"/api/v1/people/{student}/history"),
        "class term report": get(school_client, f"/api/v1/schools/{world.ids['school']}/reports/class"
                                                f"?class_name=高一(3)班&term_id={term_id}"),
    }
    measured: dict[int, dict[str, float]] = {}
    for size in sizes:
        missing = size - _posted(engine)
        began = time.perf_counter()
        if missing > 0:
            _insert(engine, bulk, others, missing)
        with engine.begin() as conn:  # fresh planner statistics, as PostgreSQL's autovacuum would keep
            conn.execute(sa.text("ANALYZE"))
        progress(f"reads: {_posted(engine)} posted records ({missing} inserted in {time.perf_counter() - began:.1f} s)")
        measured[size] = {name: _p50(call, samples) for name, call in reads.items()}
        progress("reads: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in measured[size].items()))
    small, large = sizes
    figures = []
    for name in reads:
        ratio = measured[large][name] / measured[small][name]
        figures.append(Figure("reads", f"{name} p50 at {large:,}", round(measured[large][name], 3), "ms",
                              round(measured[small][name], 3), round(ratio, 3), READS_TARGET, ratio <= READS_AT_MOST,
                              f"baseline: the same read at {small:,} posted records (each with its deposit entry and "
                              f"2 postings); {samples} samples each, in process; the student's own data fixed"))
    return figures


# --- entry point ----------------------------------------------------------------------------------

def run(*, quick: bool, database_url: str, workdir: Path, progress: Callable[[str], None]) -> list[Figure]:
    """Service and read figures on `database_url` (migrated here if it is not; it must hold no other
    deployment: the network of tests/api/apiworld.py is built in it). Quick mode uses small sizes and
    asserts nothing about speed; neither mode does."""
    from api import migrate
    from ledger.database import create_engine

    workdir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url)
    migrate.upgrade(engine)
    engine.dispose()
    root = workdir / "instance"
    root.mkdir(exist_ok=True)
    world = _apiworld().build(database_url, root)
    progress("service: deployment built")
    try:
        figures = [_service(world, flows=20 if quick else 200, url=database_url, root=root, workdir=workdir,
                            progress=progress)]
        figures += _reads(world, sizes=(300, 3000) if quick else (10_000, 1_000_000), samples=31 if quick else 101,
                          progress=progress)
    finally:
        world.app.extensions["timebank.engine"].dispose()
    return figures
