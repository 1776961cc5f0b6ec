"""Service records (志愿服务记录): submitted, confirmed, verified and posted as credit; disputed, rejected, reversed.

This module holds the tables and the steps the use cases share. The use cases: submission in
`records_submit`, confirmation in `records_confirm`, verification and corrections in
`records_review`, ratings and complaints in `records_feedback`, listings in `records_queries`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger import store
from ledger.writer import Writer

from . import journal, people, policy
from .checks import CHINA, china_date, china_days
from .errors import NotFound, NotPermitted
from .model import Base
from .regions import Region, covers, get_region
from .sealing import Sealer

STATUSES = ("submitted", "confirmed", "posted", "disputed", "rejected", "reversed")
# records that no longer count towards a volunteer's daily cap or block an overlapping one
DEAD = ("rejected", "reversed")
CONFIRM_KINDS = ("code", "proxy", "witness")
MAX_CODE_ATTEMPTS = 5
# China has kept UTC+8 without daylight saving since 1991; a fixed offset needs no tz database.
PLACE_LIMIT = 200
NOTES_LIMIT = 2000


class ServiceRecord(Base):
    """One service given by a volunteer to an elder, with its confirmation, verification and credit."""

    __tablename__ = "service_record"
    __table_args__ = (
        sa.Index("ix_service_record_volunteer_started", "volunteer_id", "started_at"),
        sa.CheckConstraint("minutes > 0", name="minutes_positive"),
        sa.CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
    )

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    region_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"), index=True)  # the elder's region
    bank_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"), index=True)  # the elder's bank
    volunteer_id: Mapped[str] = mapped_column(sa.ForeignKey("volunteer.id"), index=True)
    elder_id: Mapped[str] = mapped_column(sa.ForeignKey("elder.id"), index=True)
    catalogue_code: Mapped[str] = mapped_column(sa.ForeignKey("catalogue_item.code"))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    minutes: Mapped[int] = mapped_column(sa.Integer)  # actually contributed, travel excluded
    place_sealed: Mapped[str | None] = mapped_column(sa.Text)
    notes_sealed: Mapped[str | None] = mapped_column(sa.Text)
    details_salt: Mapped[str] = mapped_column(sa.String(40))  # commitment to place + notes
    details_commitment: Mapped[str] = mapped_column(sa.String(64))
    organisation_id: Mapped[str | None] = mapped_column(sa.ForeignKey("organisation.id"))
    responsible: Mapped[str | None] = mapped_column(sa.String(40))
    paid: Mapped[bool] = mapped_column(sa.Boolean, default=False)  # 低偿/有偿
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    disputed_from: Mapped[str | None] = mapped_column(sa.String(16))
    submitted_by: Mapped[str] = mapped_column(sa.String(40))
    submitted_at: Mapped[datetime]
    submit_entry_id: Mapped[str | None] = mapped_column(sa.ForeignKey("entry.id"))
    confirm_code_hash: Mapped[str | None] = mapped_column(sa.String(64))
    confirm_code_expires_at: Mapped[datetime | None]
    confirm_attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    confirmed_kind: Mapped[str | None] = mapped_column(sa.String(8))
    confirmed_by: Mapped[str | None] = mapped_column(sa.String(40))
    on_behalf_of: Mapped[str | None] = mapped_column(sa.String(40))
    confirmed_at: Mapped[datetime | None]
    verified_by: Mapped[str | None] = mapped_column(sa.String(40))
    verified_at: Mapped[datetime | None]
    credit_minutes: Mapped[int | None] = mapped_column(sa.Integer)
    points: Mapped[int | None] = mapped_column(sa.Integer)
    policy_version: Mapped[int | None] = mapped_column(sa.Integer)
    deposit_entry_id: Mapped[str | None] = mapped_column(sa.ForeignKey("entry.id"))
    record_salt: Mapped[str | None] = mapped_column(sa.String(40))  # of the deposit's record_commitment
    rating: Mapped[int | None] = mapped_column(sa.Integer)
    comment_sealed: Mapped[str | None] = mapped_column(sa.Text)
    comment_salt: Mapped[str | None] = mapped_column(sa.String(40))
    rated_by: Mapped[str | None] = mapped_column(sa.String(40))
    rated_at: Mapped[datetime | None]
    reversal_reason: Mapped[str | None] = mapped_column(sa.Text)
    reversal_salt: Mapped[str | None] = mapped_column(sa.String(40))
    reversal_approver: Mapped[str | None] = mapped_column(sa.String(40))
    reversed_at: Mapped[datetime | None]
    reversal_entry_id: Mapped[str | None] = mapped_column(sa.ForeignKey("entry.id"))


class RecordEvent(Base):
    """One transition of a record: who did it (for whom), when, why (kept here, committed to in the
    ledger), and the ledger entry it wrote."""

    __tablename__ = "record_event"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    record_id: Mapped[str] = mapped_column(sa.ForeignKey("service_record.id"), index=True)
    event: Mapped[str] = mapped_column(sa.String(20))
    actor: Mapped[str] = mapped_column(sa.String(40))
    on_behalf_of: Mapped[str | None] = mapped_column(sa.String(40))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    reason_salt: Mapped[str | None] = mapped_column(sa.String(40))
    at: Mapped[datetime]
    entry_id: Mapped[str | None] = mapped_column(sa.ForeignKey("entry.id"))


class RecordComplaint(Base):
    """A complaint about a service record by the elder, a relative or staff; its text sealed."""

    __tablename__ = "record_complaint"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    record_id: Mapped[str] = mapped_column(sa.ForeignKey("service_record.id"), index=True)
    by: Mapped[str] = mapped_column(sa.String(40))
    on_behalf_of: Mapped[str | None] = mapped_column(sa.String(40))
    text_sealed: Mapped[str] = mapped_column(sa.Text)
    text_salt: Mapped[str] = mapped_column(sa.String(40))
    entry_id: Mapped[str | None] = mapped_column(sa.ForeignKey("entry.id"))
    at: Mapped[datetime]


SEALED_COLUMNS: dict[type[Base], tuple[str, ...]] = {
    ServiceRecord: ("place_sealed", "notes_sealed", "comment_sealed"),
    RecordComplaint: ("text_sealed",),
}


def opened(sealer: Sealer, obj: ServiceRecord | RecordComplaint) -> dict[str, str | None]:
    """The personal data of a record ({"place", "notes", "comment"}) or complaint ({"text"}), opened.
    Raises SealError if a value was altered or moved."""
    return {
        column.removesuffix("_sealed"): sealer.open(getattr(obj, column), where=people.where(obj, column))
        for column in SEALED_COLUMNS[type(obj)]
    }


# --- checks and time ----------------------------------------------------------------------------





def china_day_bounds(at: datetime) -> tuple[datetime, datetime]:
    """The China-time (UTC+8) calendar day holding `at`, as [start, end) in UTC."""
    day = china_date(at)
    return china_days(day, day + timedelta(days=1))


def confirm_deadline(ended_at: datetime, working_days: int) -> datetime:
    """The first moment a record ended at `ended_at` is late: the start (China time) of the
    (working_days + 1)-th working day (Monday–Friday) after the service's day. Public holidays and
    调休 make-up days are not modelled."""
    day = ended_at.astimezone(CHINA).date()
    count = 0
    while count <= working_days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count += 1
    return datetime.combine(day, time(0), CHINA).astimezone(timezone.utc)


def code_hash(record_id: str, code: str) -> str:
    """The stored form of a one-time confirmation code: HMAC-SHA256 keyed by the record id."""
    return hmac.new(record_id.encode("ascii"), code.encode("utf-8"), hashlib.sha256).hexdigest()


def issue_code(record: ServiceRecord, expires_at: datetime) -> str:
    """A fresh 6-digit code for `record` (the old one dies); only its hash is kept."""
    code = f"{secrets.randbelow(10**6):06d}"
    record.confirm_code_hash = code_hash(record.id, code)
    record.confirm_code_expires_at = expires_at
    record.confirm_attempts = 0
    return code


# --- shared steps of the use cases --------------------------------------------------------------

def get_record(session: Session, record_id: str) -> ServiceRecord:
    """The record `record_id`. Raises NotFound."""
    found = session.get(ServiceRecord, record_id) if isinstance(record_id, str) else None
    if found is None:
        raise NotFound(f"no service record {record_id!r}", field="record_id")
    return found


def lock_record(session: Session, record_id: str, *also: Region) -> tuple[ServiceRecord, Region]:
    """The record and its bank, after taking the append locks of that bank's log and of `also`'s
    (logs first, then rows), the record re-read as of the lock. Raises NotFound."""
    record = get_record(session, record_id)
    bank = get_region(session, record.bank_id)
    store.lock_logs(session, [b.log_id for b in (bank, *also) if b.log_id is not None])
    session.refresh(record)
    return record, bank


def policy_of(session: Session, record: ServiceRecord) -> policy.Policy:
    """The policy in force for the elder's region (the elder's bank decides)."""
    return policy.effective(session, get_region(session, record.region_id))


def staff_for(session: Session, record: ServiceRecord, staff_id: str) -> people.Staff:
    """An active staff member whose subtree covers the record's region. Raises NotFound, NotPermitted."""
    return people.get_staff(session, staff_id, region_id=record.region_id)


def add_event(
    session: Session,
    record: ServiceRecord,
    event: str,
    *,
    actor: str,
    at: datetime,
    entry: journal.Entry | None = None,
    on_behalf_of: str | None = None,
    reason: str | None = None,
    reason_salt: str | None = None,
) -> RecordEvent:
    """Keep one transition of `record` (with the ledger entry it wrote, if any)."""
    row = RecordEvent(record_id=record.id, event=event, actor=actor, on_behalf_of=on_behalf_of, reason=reason,
                      reason_salt=reason_salt, at=at, entry_id=entry.id if entry else None)
    session.add(row)
    session.flush()
    return row


def write_event(
    session: Session,
    writer: Writer,
    record: ServiceRecord,
    bank: Region,
    event: str,
    *,
    at: datetime,
    policy_version: int | None = None,
    **fields: Any,
) -> journal.Entry:
    """Append a "record" leaf about `record` (opaque ids and digests only) to its bank's log."""
    return journal.write(session, writer, bank=bank, type="record", at=at, subject_id=record.id,
                         body={"record": record.id, "event": event, **fields}, policy_version=policy_version)


def actor_for_elder(session: Session, record: ServiceRecord, by: str, *, staff: bool = True) -> tuple[str, str | None]:
    """Who acts for the record's elder and for whom: the elder themself (elder, None); a relative
    of theirs who may confirm (relative, elder); with `staff`, staff covering the region (staff, elder).
    Raises NotPermitted naming who may act."""
    if by == record.elder_id:
        return by, None
    relative = session.get(people.Relative, by) if isinstance(by, str) else None
    if relative is not None and relative.removed_at is None and relative.elder_id == record.elder_id:
        if not relative.may_confirm:
            raise NotPermitted(f"relative {relative.id} may not act on records for this elder", field="by")
        return relative.id, record.elder_id
    member = session.get(people.Staff, by) if staff and isinstance(by, str) else None
    if member is not None and member.active and covers(get_region(session, member.region_id),
                                                       get_region(session, record.region_id)):
        return member.id, record.elder_id
    whom = "the elder, a relative who may confirm" + (", or staff covering the elder's region" if staff else "")
    raise NotPermitted(f"only {whom} may do this", field="by")


def commitment_parts(record: ServiceRecord) -> list[str | None]:
    """The fields a deposit's `record_commitment` covers, in order (check with the record's salt)."""
    return [record.id, record.volunteer_id, record.elder_id, record.catalogue_code,
            store.format_time(record.started_at), store.format_time(record.ended_at), str(record.minutes),
            str(record.paid).lower(), record.organisation_id, record.responsible, record.submitted_by,
            record.confirmed_kind, record.confirmed_by, record.on_behalf_of, record.details_commitment]
