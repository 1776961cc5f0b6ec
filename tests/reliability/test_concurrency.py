"""Eight processes submitting, confirming, verifying, redeeming and giving on shared accounts, with
pairs of them racing to redeem a person's last credit: exactly one of each pair wins, no balance
is ever negative (sampled during the run, with the books reconciled in a consistent snapshot), and
at the end every bank reconciles with its ledger and every log verifies."""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.database import create_engine
from tests.conftest import Databases
from tests.reliability.concurrency_worker import Outcome, work
from tests.reliability.conftest import rounds
from tests.reliability.deployment import NOW, Deployment, Network, build, verify_everything
from tests.timebank.world import make_volunteer
from timebank import accounts
from timebank.accounts import Account
from timebank.reconcile import reconcile
from timebank.records_confirm import confirm_as_witness
from timebank.records_review import verify_record
from timebank.records_submit import submit_record
from timebank.redemption import Redemption
from timebank.regions import Region

PROCESSES = 8
OLD = date(1950, 6, 1)  # old enough to redeem their own credit
RACE_MINUTES = 30  # what each racing person holds, and what both processes try to redeem


def post(db: Session, deployment: Deployment, net: Network, volunteer: str, minutes: int, hours_ago: int) -> None:
    """A record through submit, confirm and verify: `minutes` of credit for `volunteer`."""
    start = NOW - timedelta(hours=hours_ago)
    writer = deployment.writer()
    record, _ = submit_record(db, writer, deployment.sealer(), volunteer_id=volunteer, elder_id=net.elders[0],
                              catalogue_code="VISIT", started_at=start, ended_at=start + timedelta(minutes=minutes),
                              submitted_by=volunteer, at=NOW)
    confirm_as_witness(db, writer, record_id=record.id, staff_id=net.coordinator, at=NOW)
    verify_record(db, writer, record_id=record.id, staff_id=net.coordinator, at=NOW)


def sample(engine: sa.Engine, bank_id: str, full: bool) -> tuple[int, list[str]]:
    """Negative balances now, and (when `full`) what reconciling the bank in one snapshot finds."""
    with Session(engine) as db:
        negative = db.scalar(sa.select(sa.func.count()).select_from(Account).where(
            Account.kind != "issuance", Account.balance < 0)) or 0
        differences = reconcile(db, db.get_one(Region, bank_id)).differences if full else []
    return negative, differences


@pytest.mark.slow
def test_eight_processes_on_shared_accounts_keep_the_books_exact(databases: Databases, tmp_path: Path) -> None:
    ops, race_rounds = rounds(12, 100), rounds(2, 20)
    deployment, net = build(databases.new_url(), tmp_path / "deployment")
    with deployment.session() as db:
        for n, volunteer in enumerate(net.volunteers):
            post(db, deployment, net, volunteer, 120, hours_ago=30 + 3 * n)
        racers = [[make_volunteer(db, deployment.sealer(), db.get_one(Region, net.region), NOW, birth_date=OLD).id
                   for _ in range(PROCESSES // 2)] for _ in range(race_rounds)]
        for n, person in enumerate(p for row in racers for p in row):
            post(db, deployment, net, person, RACE_MINUTES, hours_ago=30 + (n % 40))
        db.commit()
    dialect = sa.make_url(deployment.url).get_backend_name()
    # on PostgreSQL a snapshot for the whole reconciliation; SQLite's BEGIN IMMEDIATE already gives one
    sampler = create_engine(deployment.url, poolclass=sa.pool.NullPool,
                            **({"isolation_level": "REPEATABLE READ"} if dialect == "postgresql" else {}))

    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    started = time.monotonic()
    workers = [context.Process(target=work, args=(w, deployment.url, str(deployment.root), ops, racers, RACE_MINUTES,
                                                  barrier, results)) for w in range(PROCESSES)]
    for process in workers:
        process.start()
    outcomes: list[Outcome] = []
    samples = reconciled = 0
    problems: list[str] = []
    while len(outcomes) < PROCESSES:
        try:
            outcomes.append(results.get(timeout=0.2))
            continue
        except queue.Empty:
            pass
        assert time.monotonic() - started < 900, "the workers did not finish within 15 minutes"
        negative, differences = sample(sampler, net.bank, full=samples % 5 == 0)
        samples += 1
        reconciled += samples % 5 == 1
        problems += [f"{negative} negative balances"] * bool(negative) + differences
    for process in workers:
        process.join(timeout=60)
    elapsed = time.monotonic() - started
    sampler.dispose()

    errors = [o.error for o in outcomes if o.error]
    assert errors == []
    assert problems == []
    counts: Counter[tuple[str, str]] = sum((o.counts for o in outcomes), Counter())
    races: dict[tuple[int, str], list[str]] = {}
    for outcome in outcomes:
        for round_, person, result in outcome.races:
            races.setdefault((round_, person), []).append(result)
    assert len(races) == race_rounds * PROCESSES // 2
    assert all(sorted(results) == ["lost", "won"] for results in races.values()), races
    with deployment.session() as db:
        sizes = verify_everything(db, deployment.key_dir)
        for _round, person in races:
            assert accounts.person_balance(db, person) == 0
            held = db.scalars(sa.select(Redemption.credit_minutes).where(Redemption.redeemer_id == person)).all()
            assert held == [RACE_MINUTES]
        minimum = db.scalar(sa.select(sa.func.min(Account.balance)).where(Account.kind != "issuance"))
    assert minimum is not None and minimum >= 0
    done = sum(n for (op, result), n in counts.items() if result == "done")
    assert done > 0
    print(f"\nconcurrency on {dialect}: {PROCESSES} processes, {sum(counts.values())} operations ({done} done), "
          f"{len(races)} races for the last {RACE_MINUTES} credit minutes: {len(races)} won once and lost once, "
          f"{samples} samples of negative balances (0 found), {reconciled} reconciliations in a snapshot, "
          f"{sum(o.retries for o in outcomes)} retries, logs {sizes}, {elapsed:.1f}s\n"
          + "\n".join(f"  {op:8} {result:32} {n}" for (op, result), n in sorted(counts.items())))
