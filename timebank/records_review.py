"""Reviewing service records: verification posts credit, rejection and disputes stop a record, and a
reversal cancels a posted one with a reason and an approver (corrections never edit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger import store
from ledger.writer import Writer

from . import accounts, catalogue, idempotency, journal, people
from .errors import Conflict, DomainError, InsufficientCredit, InvalidInput, NotPermitted
from .checks import aware, text
from .records import (
    ServiceRecord,
    actor_for_elder,
    add_event,
    commitment_parts,
    get_record,
    lock_record,
    policy_of,
    staff_for,
    write_event,
)
from .regions import get_region

REVIEWERS = ("coordinator", "administrator")
REASON_LIMIT = 1000
OUTCOMES = ("reject", "reinstate")


@dataclass(frozen=True)
class Outcome:
    """What one record of a bulk verification came to: the posted record, or the error that refused it."""

    record_id: str
    record: ServiceRecord | None
    error: DomainError | None

    @property
    def ok(self) -> bool:
        return self.error is None


def _reason(value: str | None, *, required: bool = True) -> str | None:
    reason = text(value, "reason", REASON_LIMIT)
    if reason is None and required:
        raise InvalidInput("give a reason", field="reason")
    return reason


def _no_credit_reason(session: Session, record: ServiceRecord, paid_work_earns: bool, own_household_earns: bool,
                      credit: int) -> str | None:
    if record.paid and not paid_work_earns:
        return "paid"
    if not own_household_earns:
        relative = people.relation_between(session, record.elder_id, record.volunteer_id)
        if relative is not None and relative.same_household:
            return "own_household"
    return "zero_weight" if credit == 0 else None


def verify_record(
    session: Session, writer: Writer, *, record_id: str, staff_id: str, at: datetime, idempotency_key: str | None = None
) -> ServiceRecord:
    """Verify a confirmed record and post its credit (minutes × the policy's weight, rounded by its
    rule; a priced item's fixed price) and points as one "deposit" entry in the volunteer's home
    bank. Paid work and serving one's own household post a deposit of 0 unless policy says they earn.

    Raises NotFound (record, staff), NotPermitted (staff out of region or role), Conflict (not
    confirmed, or the key reused for another request).
    """
    at = aware(at, "at")
    params = {"record": record_id, "staff": staff_id}
    home = people.home_bank(session, get_record(session, record_id).volunteer_id)
    record, _bank = lock_record(session, record_id, home)
    # after the lock, so a retry racing its first attempt returns the first attempt's result
    earlier = idempotency.replay(session, idempotency_key, "verify_record", params)
    if earlier is not None:
        return get_record(session, earlier)
    staff = staff_for(session, record, staff_id)
    if staff.role not in REVIEWERS:
        raise NotPermitted("only a coordinator or an administrator verifies records", field="staff_id")
    if record.status != "confirmed":
        raise Conflict(f"record {record.id} is {record.status}; only a confirmed record can be verified",
                       field="status")
    pol = policy_of(session, record)
    item = session.get(catalogue.CatalogueItem, record.catalogue_code)
    assert item is not None  # a foreign key
    weight = pol.weight(item.code, item.weight_pct)
    credit = catalogue.credit_minutes(record.minutes, weight, pol.rounding, item.price_minutes)
    no_credit = _no_credit_reason(session, record, pol.paid_work_earns, pol.own_household_earns, credit)
    if no_credit is not None:
        credit = 0
    points = credit * pol.points_per_hour // 60

    salt, digest = journal.commitment(*commitment_parts(record))
    body = {"record": record.id, "record_bank": record.bank_id, "volunteer": record.volunteer_id,
            "elder": record.elder_id, "catalogue": item.code, "minutes": record.minutes, "weight_pct": weight,
            "price_minutes": item.price_minutes, "rounding": pol.rounding, "credit_minutes": credit, "points": points,
            "verified_by": staff.id, "record_commitment": digest}
    moves: list[tuple[accounts.Account, int]] = []
    if credit:
        moves += [(accounts.bank_account(session, home, "issuance", at), -credit),
                  (accounts.person_account(session, bank=home, person_id=record.volunteer_id, at=at), credit)]
    if points:
        moves += [(accounts.bank_account(session, home, "issuance", at, unit="point"), -points),
                  (accounts.person_account(session, bank=home, person_id=record.volunteer_id, at=at, unit="point"),
                   points)]
    if moves:
        entry = accounts.transfer(session, writer, bank=home, type="deposit", body=body, moves=moves, at=at,
                                  subject_id=record.id, policy_version=pol.version)
    else:
        entry = journal.write(session, writer, bank=home, type="deposit", body={**body, "no_credit": no_credit},
                              at=at, subject_id=record.id, policy_version=pol.version)
    record.status = "posted"
    record.verified_by, record.verified_at = staff.id, at
    record.credit_minutes, record.points, record.policy_version = credit, points, pol.version
    record.deposit_entry_id, record.record_salt = entry.id, salt
    add_event(session, record, "verified", actor=staff.id, at=at, entry=entry)
    idempotency.remember(session, idempotency_key, "verify_record", params, record.id, at)
    return record


def verify_many(session: Session, writer: Writer, *, record_ids: Sequence[str], staff_id: str, at: datetime
                ) -> list[Outcome]:
    """Verify several records, each in its own savepoint: one refused record does not stop the
    others. Returns one Outcome per distinct id, in the order given; domain errors are reported in
    it, never raised (ledger errors are)."""
    ids = list(dict.fromkeys(record_ids))
    # every log the batch may append to, locked at once in id order, so two batches never deadlock
    logs: set[str] = set()
    for record in session.scalars(sa.select(ServiceRecord).where(ServiceRecord.id.in_(ids))):
        logs.add(get_region(session, record.bank_id).log_id or "")
        try:
            logs.add(people.home_bank(session, record.volunteer_id).log_id or "")
        except DomainError:
            pass  # reported by verify_record below
    store.lock_logs(session, sorted(logs - {""}))
    outcomes = []
    for record_id in ids:
        try:
            with session.begin_nested():
                outcomes.append(Outcome(record_id, verify_record(session, writer, record_id=record_id,
                                                                 staff_id=staff_id, at=at), None))
        except DomainError as exc:
            outcomes.append(Outcome(record_id, None, exc))
    return outcomes


def reject_record(
    session: Session, writer: Writer, *, record_id: str, staff_id: str, reason: str, at: datetime
) -> ServiceRecord:
    """Reject a submitted, confirmed or disputed record; the reason stays here, the ledger gets a
    commitment to it.

    Raises InvalidInput (reason), NotFound, NotPermitted (staff out of region), Conflict (status).
    """
    at = aware(at, "at")
    reason = _reason(reason)
    record, bank = lock_record(session, record_id)
    staff = staff_for(session, record, staff_id)
    if record.status not in ("submitted", "confirmed", "disputed"):
        raise Conflict(f"record {record.id} is {record.status}; only a submitted, confirmed or disputed record can "
                       "be rejected (reverse a posted one)", field="status")
    salt, digest = journal.commitment(reason)
    entry = write_event(session, writer, record, bank, "rejected", at=at, by=staff.id, previous=record.status,
                        reason_commitment=digest)
    record.status, record.disputed_from = "rejected", None
    record.confirm_code_hash, record.confirm_code_expires_at = None, None
    add_event(session, record, "rejected", actor=staff.id, at=at, entry=entry, reason=reason, reason_salt=salt)
    return record


def dispute_record(
    session: Session, writer: Writer, *, record_id: str, by: str, reason: str, at: datetime
) -> ServiceRecord:
    """The elder, a relative who may confirm, or staff covering the region disputes that a submitted
    or confirmed record happened as written; it waits for `resolve_dispute`.

    Raises InvalidInput (reason), NotFound, NotPermitted (who), Conflict (status).
    """
    at = aware(at, "at")
    reason = _reason(reason)
    record, bank = lock_record(session, record_id)
    actor, on_behalf_of = actor_for_elder(session, record, by)
    if record.status not in ("submitted", "confirmed"):
        raise Conflict(f"record {record.id} is {record.status}; only a submitted or confirmed record can be disputed",
                       field="status")
    salt, digest = journal.commitment(reason)
    entry = write_event(session, writer, record, bank, "disputed", at=at, by=actor, on_behalf_of=on_behalf_of,
                        previous=record.status, reason_commitment=digest)
    record.disputed_from, record.status = record.status, "disputed"
    add_event(session, record, "disputed", actor=actor, on_behalf_of=on_behalf_of, at=at, entry=entry, reason=reason,
              reason_salt=salt)
    return record


def resolve_dispute(
    session: Session, writer: Writer, *, record_id: str, staff_id: str, outcome: str, at: datetime,
    reason: str | None = None,
) -> ServiceRecord:
    """Settle a dispute: 'reject' rejects the record, 'reinstate' returns it to the status it had.

    Raises InvalidInput (outcome, reason), NotFound, NotPermitted (staff out of region), Conflict (not disputed).
    """
    at = aware(at, "at")
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome must be one of {', '.join(OUTCOMES)}", field="outcome")
    reason = _reason(reason, required=False)
    record, bank = lock_record(session, record_id)
    staff = staff_for(session, record, staff_id)
    if record.status != "disputed" or record.disputed_from is None:
        raise Conflict(f"record {record.id} is {record.status}, not disputed", field="status")
    status = "rejected" if outcome == "reject" else record.disputed_from
    salt, digest = journal.commitment(reason)
    entry = write_event(session, writer, record, bank, "dispute_resolved", at=at, by=staff.id, outcome=outcome,
                        status=status, reason_commitment=digest)
    record.status, record.disputed_from = status, None
    add_event(session, record, "rejected" if outcome == "reject" else "reinstated", actor=staff.id, at=at,
              entry=entry, reason=reason, reason_salt=salt)
    return record


def reverse_record(
    session: Session, writer: Writer, *, record_id: str, reason: str, approver_id: str, at: datetime,
    idempotency_key: str | None = None,
) -> ServiceRecord:
    """Cancel a posted record: a "reversal" entry in the deposit's log names the deposit's seq
    (`corrects`) and carries the opposite postings. Approved by an administrator covering the region.

    Raises InvalidInput (reason), NotFound, NotPermitted (approver out of region or not an
    administrator), Conflict (not posted, reversed already, or the key reused), InsufficientCredit
    (the volunteer has spent the credit or points since; nothing is changed).
    """
    at = aware(at, "at")
    reason = _reason(reason)
    params = {"record": record_id, "approver": approver_id, "reason": reason}
    found = get_record(session, record_id)
    deposit = session.get(journal.Entry, found.deposit_entry_id) if found.deposit_entry_id else None
    home = get_region(session, deposit.bank_id) if deposit is not None else None
    record, _bank = lock_record(session, record_id, *([home] if home is not None else []))
    earlier = idempotency.replay(session, idempotency_key, "reverse_record", params)
    if earlier is not None:
        return get_record(session, earlier)
    approver = staff_for(session, record, approver_id)
    if approver.role != "administrator":
        raise NotPermitted("a reversal is approved by an administrator covering the region", field="approver_id")
    if record.status == "reversed":
        raise Conflict(f"record {record.id} is reversed already", field="status")
    if record.status != "posted" or deposit is None or home is None:
        raise Conflict(f"record {record.id} is {record.status}; only a posted record can be reversed",
                       field="status")
    moves = [(accounts.get_account(session, p.account_id), -p.amount) for p in session.scalars(
        sa.select(accounts.Posting).where(accounts.Posting.entry_id == deposit.id).order_by(accounts.Posting.id))]
    for acc, amount in moves:
        held = accounts.balance_of(session, acc.id)
        if acc.kind != "issuance" and held + amount < 0:
            what = "credit minutes" if acc.unit == "credit" else "points"
            raise InsufficientCredit(
                f"the volunteer has already spent some of the {what} this record earned (account {acc.id} holds "
                f"{held}, the reversal takes back {-amount}); it can be reversed once they are returned",
                account=acc.id, needed=-amount)
    salt, digest = journal.commitment(reason)
    body = {"record": record.id, "corrects": deposit.seq, "volunteer": record.volunteer_id, "approver": approver.id,
            "reason_commitment": digest}
    if moves:
        entry = accounts.transfer(session, writer, bank=home, type="reversal", body=body, moves=moves, at=at,
                                  subject_id=record.id)
    else:
        entry = journal.write(session, writer, bank=home, type="reversal", body=body, at=at, subject_id=record.id)
    record.status = "reversed"
    record.reversal_reason, record.reversal_salt, record.reversal_approver = reason, salt, approver.id
    record.reversed_at, record.reversal_entry_id = at, entry.id
    add_event(session, record, "reversed", actor=approver.id, at=at, entry=entry, reason=reason, reason_salt=salt)
    idempotency.remember(session, idempotency_key, "reverse_record", params, record.id, at)
    return record
