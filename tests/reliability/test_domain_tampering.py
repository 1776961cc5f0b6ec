"""Domain rows edited straight in the database (a service record's minutes, people, times, status
or credit; a policy version's knob or region; a forged policy row; a balance) are reported by
`reconcile`, which `timebank ledger verify` runs, naming the row and the seq of the leaf it
disagrees with; the command exits 1."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.conftest import Databases
from tests.reliability.deployment import NOW, Deployment, Network, build
from timebank import journal
from timebank.accounts import Account
from timebank.policy import PolicyVersion
from timebank.reconcile import reconcile
from timebank.records import ServiceRecord
from timebank.records_confirm import confirm_as_witness
from timebank.records_review import verify_record
from timebank.records_submit import submit_record
from timebank.regions import Region

TIMEBANK = Path(sys.executable).with_name("timebank")


@dataclass(frozen=True)
class Books:
    """A committed deployment with a posted, a confirmed and a submitted record and a policy version,
    and the seqs of the leaves that state them."""

    deployment: Deployment
    net: Network
    posted: str
    confirmed: str
    submitted: str
    seq: dict[str, int]  # submitted, confirmed, deposit (of the posted record), policy
    account: str  # the posted record's volunteer's credit account
    policy: int  # the version set on haizhou
    other_region: str  # a region of another bank


def _record(db: Session, deployment: Deployment, net: Network, n: int, steps: int) -> ServiceRecord:
    start = NOW - timedelta(hours=30 + 2 * n)
    writer = deployment.writer()
    record, _ = submit_record(db, writer, deployment.sealer(), volunteer_id=net.volunteers[n], elder_id=net.elders[n],
                              catalogue_code="VISIT", started_at=start, ended_at=start + timedelta(minutes=60),
                              submitted_by=net.volunteers[n], at=NOW)
    if steps > 1:
        record = confirm_as_witness(db, writer, record_id=record.id, staff_id=net.coordinator, at=NOW)
    if steps > 2:
        record = verify_record(db, writer, record_id=record.id, staff_id=net.coordinator, at=NOW)
    return record


@pytest.fixture(scope="module")
def books(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Books:
    deployment, net = build(databases.new_url(), tmp_path_factory.mktemp("tampering"))
    with deployment.session() as db:
        posted = _record(db, deployment, net, 0, 3)
        confirmed = _record(db, deployment, net, 1, 2)
        submitted = _record(db, deployment, net, 2, 1)
        entries = {e.type + ":" + str(e.subject_id): e.seq for e in db.scalars(sa.select(journal.Entry))}
        events = journal.entries_about(db, posted.id)
        policy = db.scalars(sa.select(PolicyVersion)).one()
        account = db.scalar(sa.select(Account.id).where(Account.owner_id == posted.volunteer_id,
                                                        Account.unit == "credit"))
        other = db.scalar(sa.select(Region.id).where(Region.name_en == "Sucheng"))
        db.commit()
        seq = {"submitted": events[0].seq, "confirmed": events[1].seq, "deposit": events[2].seq,
               "policy": entries[f"policy:{policy.region_id}"]}
        assert account is not None and other is not None
        return Books(deployment, net, posted.id, confirmed.id, submitted.id, seq, account, policy.version, other)


@dataclass(frozen=True)
class Tamper:
    """An edit made straight in the database, and what verification must say about it."""

    edit: Callable[[Books], sa.Executable]
    says: Callable[[Books], list[str]]


def _record_edit(which: str, **values: object) -> Callable[[Books], sa.Executable]:
    return lambda b: sa.update(ServiceRecord).where(ServiceRecord.id == getattr(b, which)).values(**values)


def _other_volunteer(b: Books) -> sa.Executable:
    return sa.update(ServiceRecord).where(ServiceRecord.id == b.posted).values(volunteer_id=b.net.volunteers[5])


def _other_elder(b: Books) -> sa.Executable:
    return sa.update(ServiceRecord).where(ServiceRecord.id == b.posted).values(elder_id=b.net.elders[3])


def _knob(b: Books) -> sa.Executable:
    values = json.dumps({"allow_overlap": True, "daily_cap_minutes": 600})
    return sa.update(PolicyVersion).where(PolicyVersion.version == b.policy).values(values_json=values)


def _forged_policy(b: Books) -> sa.Executable:
    return sa.insert(PolicyVersion).values(version=b.policy + 1, region_id=b.net.region, set_by=b.net.admin, at=NOW,
                                           values_json=json.dumps({"daily_cap_minutes": 1}), entry_id=None)


CASES = {
    "record minutes": Tamper(_record_edit("posted", minutes=50), lambda b: [
        f"service record {b.posted}: minutes 50, but leaf {b.seq['submitted']} (record submitted) says 60",
        f"service record {b.posted}: minutes 50, but leaf {b.seq['deposit']} (deposit) says 60"]),
    "record volunteer": Tamper(_other_volunteer, lambda b: [
        f"service record {b.posted}: volunteer_id '{b.net.volunteers[5]}', but leaf {b.seq['submitted']} (record "
        f"submitted) says '{b.net.volunteers[0]}'"]),
    "record elder": Tamper(_other_elder, lambda b: [
        f"service record {b.posted}: elder_id '{b.net.elders[3]}', but leaf {b.seq['deposit']} (deposit) says "
        f"'{b.net.elders[0]}'"]),
    "record start": Tamper(
        lambda b: sa.update(ServiceRecord).where(ServiceRecord.id == b.submitted)
        .values(started_at=NOW - timedelta(hours=40)),
        lambda b: [f"service record {b.submitted}: started_at '2026-11-23T17:30:00Z', but leaf "]),
    "record confirmed by": Tamper(_record_edit("posted", confirmed_by="stf_someoneelse"), lambda b: [
        f"service record {b.posted}: confirmed_by 'stf_someoneelse', but leaf {b.seq['confirmed']} (record confirmed)",
        f"service record {b.posted}: its fields (volunteer, elder, times, minutes, confirmation) no longer open the "
        f"record_commitment of leaf {b.seq['deposit']} (deposit)"]),
    "record credit": Tamper(_record_edit("posted", credit_minutes=600), lambda b: [
        f"service record {b.posted}: credit_minutes 600, but leaf {b.seq['deposit']} (deposit) says 60"]),
    "status submitted to confirmed": Tamper(_record_edit("submitted", status="confirmed"), lambda b: [
        f"service record {b.submitted}: status 'confirmed', but leaf "]),
    "status confirmed to posted": Tamper(_record_edit("confirmed", status="posted"), lambda b: [
        f"service record {b.confirmed}: status 'posted', but no deposit leaf states it"]),
    "status posted to confirmed": Tamper(_record_edit("posted", status="confirmed"), lambda b: [
        f"service record {b.posted}: status 'confirmed', but leaf {b.seq['deposit']} (deposit) posted it"]),
    "policy knob": Tamper(_knob, lambda b: [
        f"policy version {b.policy} (region {b.net.bank}): daily_cap_minutes 600, but leaf {b.seq['policy']} (policy) "
        "sets 1440"]),
    "policy region": Tamper(
        lambda b: sa.update(PolicyVersion).where(PolicyVersion.version == b.policy).values(region_id=b.net.region),
        lambda b: [f"policy version {b.policy} (region {b.net.region}): region '{b.net.region}', but leaf "
                   f"{b.seq['policy']} (policy) sets it on '{b.net.bank}'"]),
    "policy moved to another bank": Tamper(
        lambda b: sa.update(PolicyVersion).where(PolicyVersion.version == b.policy).values(region_id=b.other_region),
        lambda b: [f"policy version {b.policy} (region {b.other_region}): region '{b.other_region}', but leaf "
                   f"{b.seq['policy']} (policy)"]),
    "forged policy row": Tamper(_forged_policy, lambda b: [
        f"policy version {b.policy + 1} (region {b.net.region}): no leaf of log haizhou states it"]),
    "balance": Tamper(lambda b: sa.update(Account).where(Account.id == b.account).values(balance=900), lambda b: [
        f"account {b.account} (person): balance 900, ledger says 60 (last posted by leaf {b.seq['deposit']})"]),
}




def differences(db: Session) -> list[str]:
    """What reconciling every bank finds."""
    return [d for bank in db.scalars(sa.select(Region).where(Region.log_id.is_not(None)).order_by(Region.id))
            for d in reconcile(db, bank).differences]


def test_untouched_books_reconcile(books: Books) -> None:
    with books.deployment.session() as db:
        assert differences(db) == []


@pytest.mark.parametrize("case", CASES)
def test_an_edited_row_is_reported_naming_the_row_and_the_leaf(books: Books, case: str) -> None:
    tamper = CASES[case]
    with books.deployment.session() as db:
        db.execute(tamper.edit(books))
        found = differences(db)
        db.rollback()
    for text in tamper.says(books):
        assert any(text in difference for difference in found), (text, found)


@contextmanager
def committed(books: Books, *cases: str) -> Iterator[None]:
    """The edits of `cases` committed, and undone (rows restored as they were) afterwards."""
    tables = (ServiceRecord.__table__, PolicyVersion.__table__, Account.__table__)
    with books.deployment.session() as db:
        before = {table: db.execute(sa.select(table)).mappings().all() for table in tables}
        for case in cases:
            db.execute(CASES[case].edit(books))
        db.commit()
    try:
        yield
    finally:
        with books.deployment.session() as db:
            for table, rows in before.items():
                key = next(iter(table.primary_key.columns))
                kept = [row[key.name] for row in rows]
                db.execute(sa.delete(table).where(key.not_in(kept)))
                for row in rows:
                    db.execute(sa.update(table).where(key == row[key.name]).values(**row))
            db.commit()
            assert differences(db) == []


def verify(books: Books) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TIMEBANK), "ledger", "verify"], env=books.deployment.env(), capture_output=True,
                          text=True, timeout=300)


def test_ledger_verify_reports_edited_records_policy_and_balances_and_exits_1(books: Books) -> None:
    cases = ("record minutes", "status confirmed to posted", "policy knob", "forged policy row", "balance")
    with committed(books, *cases):
        result = verify(books)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    failures = [line for line in result.stderr.splitlines() if line.startswith("FAIL ")]
    for case in cases:
        for text in CASES[case].says(books):
            assert any(line.startswith(f"FAIL bank {books.net.bank} (haizhou): ") and text in line
                       for line in failures), (text, result.stderr)
    # the ledger itself is intact: only the rows were edited
    assert all(line.startswith("OK   log ") for line in result.stdout.splitlines() if "log " in line)
    after = verify(books)
    assert after.returncode == 0, after.stderr
