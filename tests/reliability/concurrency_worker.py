"""One of the processes of the concurrency suite: a random mix of the use cases on shared accounts
(submit, confirm, verify, redeem, complete or cancel a redemption, give credit), and at each race
round, a redemption of exactly the credit a person has left, raced against another process."""

from __future__ import annotations

import random
import threading
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ledger.database import create_engine
from ledger.errors import AppendConflict
from tests.reliability.deployment import NOW, Deployment, load_network
from timebank import gifts, redemption
from timebank.errors import Conflict, InsufficientCredit, Refused
from timebank.records import ServiceRecord
from timebank.records_confirm import confirm_as_witness
from timebank.records_review import verify_record
from timebank.records_submit import submit_record
from timebank.redemption import Redemption

OPS = ("submit", "confirm", "verify", "redeem", "settle", "give")
RETRIES = 20
BARRIER_TIMEOUT = 300


@dataclass
class Outcome:
    """What one process did: (operation, outcome) counts, its races and any error."""

    worker: int
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    races: list[tuple[int, str, str]] = field(default_factory=list)  # (round, person, won|lost)
    retries: int = 0
    error: str | None = None


class Worker:
    def __init__(self, worker: int, url: str, root: str, seed: int) -> None:
        self.worker = worker
        self.deployment = Deployment(url, Path(root))
        self.net = load_network(Path(root))
        self.writer, self.sealer = self.deployment.writer(), self.deployment.sealer()
        self.engine = create_engine(url, poolclass=sa.pool.NullPool)
        self.rng = random.Random(seed)
        self.outcome = Outcome(worker)

    def run_op(self, op: str, action: Callable[[Session], Any]) -> str:
        """Run `action` in its own transaction, count how it ended and return that; retry a lost lock race."""
        for _attempt in range(RETRIES):
            with Session(self.engine) as db:
                try:
                    result = action(db)
                    db.commit()
                except (AppendConflict, DBAPIError) as exc:
                    if isinstance(exc, DBAPIError) and "deadlock" not in str(exc) and "locked" not in str(exc):
                        raise
                    db.rollback()
                    self.outcome.retries += 1
                    continue
                except InsufficientCredit:
                    ended = "insufficient credit"
                except Conflict:
                    ended = "lost to another process"
                except Refused as exc:
                    ended = f"refused ({exc.details.get('rule')})"
                else:
                    ended = "done" if result is not False else "nothing to do"
            self.outcome.counts[(op, ended)] += 1
            return ended
        raise RuntimeError(f"{op}: gave up after {RETRIES} lost lock races")

    def pick(self, db: Session, model: type, status: str, *where: Any) -> Any:
        return db.scalar(sa.select(model.id).where(model.status == status, *where).order_by(sa.func.random()).limit(1))

    # -- the operations ------------------------------------------------------------------------

    def submit(self, db: Session) -> Any:
        start = NOW - timedelta(days=self.rng.randint(1, 4), minutes=self.rng.randint(0, 900))
        volunteer = self.rng.choice(self.net.volunteers)
        return submit_record(db, self.writer, self.sealer, volunteer_id=volunteer, elder_id=self.rng.choice(
            self.net.elders), catalogue_code="VISIT", started_at=start, ended_at=start + timedelta(minutes=20),
            submitted_by=volunteer, at=NOW)

    def confirm(self, db: Session) -> Any:
        record_id = self.pick(db, ServiceRecord, "submitted")
        return record_id is not None and confirm_as_witness(db, self.writer, record_id=record_id,
                                                            staff_id=self.net.coordinator, at=NOW)

    def verify(self, db: Session) -> Any:
        record_id = self.pick(db, ServiceRecord, "confirmed")
        return record_id is not None and verify_record(db, self.writer, record_id=record_id,
                                                       staff_id=self.net.coordinator, at=NOW)

    def redeem(self, db: Session) -> Any:
        return redemption.request_redemption(db, self.writer, redeemer_id=self.rng.choice(self.net.volunteers),
                                             catalogue_code="VISIT", minutes=self.rng.randint(10, 40),
                                             region_id=self.net.region, requested_by=self.net.coordinator, at=NOW)

    def settle(self, db: Session) -> Any:
        # the racers' redemptions stay as the race left them
        redemption_id = self.pick(db, Redemption, "requested", Redemption.redeemer_id.in_(self.net.volunteers))
        if redemption_id is None:
            return False
        if self.rng.random() < 0.3:
            return redemption.cancel_redemption(db, self.writer, redemption_id=redemption_id,
                                                cancelled_by=self.net.coordinator, at=NOW)
        redeemer = db.get_one(Redemption, redemption_id).redeemer_id
        provider = self.rng.choice([v for v in self.net.volunteers if v != redeemer])
        return redemption.complete_redemption(db, self.writer, redemption_id=redemption_id,
                                              completed_by=self.net.coordinator, at=NOW,
                                              provider_volunteer_id=provider)

    def give(self, db: Session) -> Any:
        giver, recipient = self.rng.sample(self.net.volunteers, 2)
        return gifts.give_credit(db, self.writer, giver_id=giver, recipient_id=recipient,
                                 minutes=self.rng.randint(5, 30), relation="spouse", at=NOW)

    def race(self, round_: int, person: str, minutes: int) -> None:
        """Redeem all of `person`'s credit; another process tries the same at the same moment."""
        ended = self.run_op("race", lambda db: redemption.request_redemption(
            db, self.writer, redeemer_id=person, catalogue_code="VISIT", minutes=minutes, region_id=self.net.region,
            requested_by=self.net.coordinator, at=NOW))
        self.outcome.races.append((round_, person, {"done": "won", "insufficient credit": "lost"}.get(ended, ended)))


def work(worker: int, url: str, root: str, ops: int, races: list[list[str]], race_minutes: int,
         barrier: threading.Barrier, results: Any) -> None:
    """Run in a spawned process: `ops` random operations split into len(races) + 1 stretches; between
    stretches all processes meet at `barrier` and race in pairs (processes 2i and 2i+1 on races[k][i])."""
    me = Worker(worker, url, root, seed=1000 + worker)
    try:
        stretches = len(races) + 1
        for stretch in range(stretches):
            for _ in range(ops // stretches + (stretch < ops % stretches)):
                op = me.rng.choice(OPS)
                me.run_op(op, getattr(me, op))
            if stretch < len(races):
                barrier.wait(BARRIER_TIMEOUT)
                me.race(stretch, races[stretch][worker // 2], race_minutes)
    except Exception:  # reported to the test, which fails with it
        me.outcome.error = traceback.format_exc()
        barrier.abort()
    finally:
        me.engine.dispose()
        results.put(me.outcome)
