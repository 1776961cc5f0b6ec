"""Care agreements (关爱服务协议) with key elders, their contact log and the compliance list.

A coordinator signs an agreement between an elder and a carer (a volunteer, a relative, a neighbour
or a grid worker) for a number of calls or visits a week (policy `care_contacts_per_week`, 3 by
default, as 连云港 asks). Signing and ending are ledger entries of opaque ids; a carer who is not
registered is kept by sealed name, and a contact's note is sealed. Weeks run Monday to Sunday and
months by the calendar, both in China time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger import store
from ledger.writer import Writer

from . import journal, people, policy
from .checks import a_date, aware, china_date, china_days, text
from .errors import Conflict, InvalidInput, NotFound, NotPermitted, Refused
from .model import Base, new_id
from .regions import bank_of, covers, get_region, in_subtree
from .sealing import Sealer

CARER_KINDS = ("volunteer", "relative", "neighbour", "grid_worker")
CONTACT_KINDS = ("call", "visit")
# Asia/Shanghai has been UTC+8 without daylight saving since 1991: a fixed offset needs no tz database.


class CareAgreement(Base):
    """An agreement that a carer calls on or visits an elder `contacts_per_week` times a week, in
    force from `starts_on` to `ends_on` (both included; open-ended while None)."""

    __tablename__ = "care_agreement"
    __table_args__ = (
        sa.CheckConstraint("carer_kind IN ('volunteer', 'relative', 'neighbour', 'grid_worker')", name="carer_kind"),
        sa.CheckConstraint("carer_id IS NOT NULL OR carer_name_sealed IS NOT NULL", name="carer_named"),
        sa.CheckConstraint("contacts_per_week BETWEEN 1 AND 21", name="contacts_per_week"),
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    elder_id: Mapped[str] = mapped_column(sa.ForeignKey("elder.id"), index=True)
    region_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"), index=True)
    carer_kind: Mapped[str] = mapped_column(sa.String(16))
    # a volunteer's id, or a registered relative's (`rel_…`); else the name, sealed
    carer_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    carer_name_sealed: Mapped[str | None] = mapped_column(sa.Text)
    contacts_per_week: Mapped[int] = mapped_column(sa.Integer)
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    signed_by: Mapped[str] = mapped_column(sa.ForeignKey("staff.id"))
    signed_at: Mapped[datetime]
    entry_id: Mapped[str] = mapped_column(sa.ForeignKey("entry.id"))
    ended_by: Mapped[str | None] = mapped_column(sa.ForeignKey("staff.id"))
    ended_at: Mapped[datetime | None]
    end_entry_id: Mapped[str | None] = mapped_column(sa.ForeignKey("entry.id"))


class Contact(Base):
    """A call or visit made under an agreement: when it happened (`happened_at`), who made or
    logged it (`by`) and when it was logged (`at`)."""

    __tablename__ = "care_contact"
    __table_args__ = (
        sa.UniqueConstraint("agreement_id", "happened_at", name="uq_care_contact_once"),
        sa.CheckConstraint("kind IN ('call', 'visit')", name="kind"),
        sa.CheckConstraint("minutes IS NULL OR minutes BETWEEN 1 AND 1440", name="minutes"),
    )

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(sa.ForeignKey("care_agreement.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    happened_at: Mapped[datetime] = mapped_column(index=True)
    by: Mapped[str] = mapped_column(sa.String(40))
    minutes: Mapped[int | None]
    note_sealed: Mapped[str | None] = mapped_column(sa.Text)
    at: Mapped[datetime]


SEALED_COLUMNS: dict[type[Base], tuple[str, ...]] = {
    CareAgreement: ("carer_name_sealed",),
    Contact: ("note_sealed",),
}


@dataclass(frozen=True)
class ComplianceRow:
    """One agreement's week: contacts required (pro rata for a part week) and done."""

    agreement: CareAgreement
    elder_id: str
    required: int
    done: int

    @property
    def behind(self) -> bool:
        return self.done < self.required

    @property
    def missing(self) -> int:
        return max(self.required - self.done, 0)


# --- checks -------------------------------------------------------------------------------------











def _carer(session: Session, elder: people.Elder, kind: str, carer_id: str | None,
           carer_name: str | None) -> str | None:
    """Check who the carer is; the name to seal (None when the carer is named by id)."""
    if kind not in CARER_KINDS:
        raise InvalidInput(f"carer_kind must be one of {', '.join(CARER_KINDS)}", field="carer_kind")
    name = text(carer_name, "carer_name", 50)
    if carer_id is not None and name is not None:
        raise InvalidInput("give carer_id for a registered carer or carer_name for another, not both",
                           field="carer_name")
    if kind == "volunteer":
        if carer_id is None:
            raise InvalidInput("a volunteer carer is named by carer_id (their volunteer id)", field="carer_id")
        volunteer = session.get(people.Volunteer, carer_id)
        if volunteer is None:
            raise NotFound(f"no volunteer {carer_id!r}", field="carer_id")
        if volunteer.status != "active":
            raise Refused(f"volunteer {carer_id} is {volunteer.status}; choose an active volunteer",
                          rule="carer_status")
    elif kind == "relative" and carer_id is not None:
        relative = session.get(people.Relative, carer_id)
        if relative is None or relative.elder_id != elder.id or relative.removed_at is not None:
            raise NotFound(f"{carer_id!r} is not a relative of elder {elder.id}; add them first", field="carer_id")
    elif carer_id is not None:
        raise InvalidInput(f"a {kind} is named by carer_name; carer_id is for volunteers and relatives",
                           field="carer_id")
    if carer_id is None and name is None:
        raise InvalidInput(f"name the {kind} with carer_name (or carer_id when registered)", field="carer_name")
    return name


# --- agreements ---------------------------------------------------------------------------------

def sign_agreement(
    session: Session,
    writer: Writer,
    sealer: Sealer,
    *,
    elder_id: str,
    carer_kind: str,
    signed_by: str,
    starts_on: date,
    at: datetime,
    carer_id: str | None = None,
    carer_name: str | None = None,
    contacts_per_week: int | None = None,
) -> CareAgreement:
    """Sign a care agreement for an active elder, witnessed by staff covering the elder's region;
    `contacts_per_week` defaults to the policy in force there. Writes a "care" entry in the
    elder's bank.

    Raises NotFound (elder, staff, carer), NotPermitted (staff out of scope), InvalidInput (a
    field, named), Refused (elder or volunteer carer not active), Conflict (the same carer already
    has an agreement with the elder in force then).
    """
    elder = people.get_elder(session, elder_id)
    if elder.status != "active":
        raise Refused(f"elder {elder.id} is {elder.status}; only an active elder gets a care agreement",
                      rule="elder_status")
    people.get_staff(session, signed_by, region_id=elder.region_id)
    name = _carer(session, elder, carer_kind, carer_id, carer_name)
    starts_on = a_date(starts_on, "starts_on")
    region = get_region(session, elder.region_id)
    rules = policy.effective(session, region)
    if contacts_per_week is None:
        contacts_per_week = int(rules.care_contacts_per_week)
    elif not policy.KNOBS["care_contacts_per_week"].valid(contacts_per_week):
        raise InvalidInput("contacts_per_week must be 1–21", field="contacts_per_week")
    if carer_id is not None and session.scalar(sa.select(CareAgreement.id).where(
            CareAgreement.elder_id == elder.id, CareAgreement.carer_id == carer_id,
            sa.or_(CareAgreement.ends_on.is_(None), CareAgreement.ends_on >= starts_on))) is not None:
        raise Conflict(f"{carer_id} already has a care agreement with elder {elder.id}; end it first",
                       field="carer_id")
    bank = bank_of(session, region)
    assert bank.log_id is not None
    store.lock_logs(session, [bank.log_id])
    agreement = CareAgreement(id=new_id("care"), elder_id=elder.id, region_id=region.id, carer_kind=carer_kind,
                              carer_id=carer_id, contacts_per_week=contacts_per_week, starts_on=starts_on,
                              signed_by=signed_by, signed_at=at)
    people.seal_into(sealer, agreement, carer_name=name)
    entry = journal.write(session, writer, bank=bank, type="care", at=at, subject_id=agreement.id,
                          policy_version=rules.version,
                          body={"event": "signed", "agreement": agreement.id, "elder": elder.id,
                                "carer_kind": carer_kind, "carer": carer_id, "contacts_per_week": contacts_per_week,
                                "starts_on": starts_on.isoformat(), "by": signed_by})
    agreement.entry_id = entry.id
    session.add(agreement)
    session.flush()
    return agreement


def get_agreement(session: Session, agreement_id: str) -> CareAgreement:
    """The agreement `agreement_id`. Raises NotFound."""
    found = session.get(CareAgreement, agreement_id)
    if found is None:
        raise NotFound(f"no care agreement {agreement_id!r}", field="agreement_id")
    return found


def agreements_of(session: Session, elder_id: str) -> list[CareAgreement]:
    """An elder's agreements, ended ones included, oldest first."""
    return list(session.scalars(sa.select(CareAgreement).where(CareAgreement.elder_id == elder_id)
                                .order_by(CareAgreement.starts_on, CareAgreement.signed_at, CareAgreement.id)))


def end_agreement(
    session: Session, writer: Writer, *, agreement_id: str, ends_on: date, by: str, at: datetime
) -> CareAgreement:
    """End an agreement: `ends_on` is its last day in force (not before it starts, nor before a
    contact already logged). Writes a "care" entry in the elder's bank.

    Raises NotFound, NotPermitted (staff out of scope), InvalidInput (ends_on), Conflict (ended already).
    """
    agreement = get_agreement(session, agreement_id)
    if agreement.ended_at is not None:
        raise Conflict(f"care agreement {agreement.id} already ended on {agreement.ends_on}", field="agreement_id")
    people.get_staff(session, by, region_id=agreement.region_id)
    ends_on = a_date(ends_on, "ends_on")
    if ends_on < agreement.starts_on:
        raise InvalidInput(f"ends_on cannot be before the agreement starts ({agreement.starts_on})", field="ends_on")
    last = session.scalar(sa.select(sa.func.max(Contact.happened_at)).where(Contact.agreement_id == agreement.id))
    if last is not None and china_date(last) > ends_on:
        raise InvalidInput(f"ends_on cannot be before a contact logged on {china_date(last)}", field="ends_on")
    bank = bank_of(session, get_region(session, agreement.region_id))
    assert bank.log_id is not None
    store.lock_logs(session, [bank.log_id])
    entry = journal.write(session, writer, bank=bank, type="care", at=at, subject_id=agreement.id,
                          body={"event": "ended", "agreement": agreement.id, "elder": agreement.elder_id,
                                "ends_on": ends_on.isoformat(), "by": by})
    agreement.ends_on, agreement.ended_by, agreement.ended_at, agreement.end_entry_id = ends_on, by, at, entry.id
    session.flush()
    return agreement


# --- contacts -----------------------------------------------------------------------------------

def log_contact(
    session: Session,
    sealer: Sealer,
    *,
    agreement_id: str,
    kind: str,
    happened_at: datetime,
    by: str,
    at: datetime,
    minutes: int | None = None,
    note: str | None = None,
) -> Contact:
    """Log a call or visit that happened under an agreement, by its carer (when registered) or by
    staff covering the region. It may not be in the future nor outside the agreement's days.

    Raises NotFound (agreement), NotPermitted (`by`), InvalidInput (a field, named), Conflict
    (a contact at that very time is logged already).
    """
    agreement = get_agreement(session, agreement_id)
    if kind not in CONTACT_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(CONTACT_KINDS)}", field="kind")
    happened_at = aware(happened_at, "happened_at")
    if happened_at > at:
        raise InvalidInput("happened_at cannot be in the future", field="happened_at")
    day = china_date(happened_at)
    if day < agreement.starts_on or (agreement.ends_on is not None and day > agreement.ends_on):
        raise InvalidInput(f"happened_at ({day}) is outside the agreement ({agreement.starts_on} to "
                           f"{agreement.ends_on or 'open'})", field="happened_at")
    if minutes is not None and not (isinstance(minutes, int) and not isinstance(minutes, bool)
                                    and 1 <= minutes <= 1440):
        raise InvalidInput("minutes must be 1–1440", field="minutes")
    note = text(note, "note", 1000)
    if by != agreement.carer_id:
        staff = session.get(people.Staff, by)
        if staff is None or not staff.active or not covers(get_region(session, staff.region_id),
                                                           get_region(session, agreement.region_id)):
            raise NotPermitted(f"{by} may not log contacts of agreement {agreement.id}: only its carer or "
                               "staff covering the elder's region may", field="by")
    if session.scalar(sa.select(Contact.id).where(Contact.agreement_id == agreement.id,
                                                  Contact.happened_at == happened_at)) is not None:
        raise Conflict("a contact at this time is logged already", field="happened_at")
    contact = Contact(id=new_id("cnt"), agreement_id=agreement.id, kind=kind, happened_at=happened_at, by=by,
                      minutes=minutes, at=at)
    people.seal_into(sealer, contact, note=note)
    session.add(contact)
    session.flush()
    return contact


def contacts_of(session: Session, agreement_id: str) -> list[Contact]:
    """An agreement's contacts, oldest first."""
    return list(session.scalars(sa.select(Contact).where(Contact.agreement_id == agreement_id)
                                .order_by(Contact.happened_at)))


# --- supervision --------------------------------------------------------------------------------

def _in_force(first: date, last: date, at: datetime | None = None) -> sa.ColumnElement[bool]:
    """Agreements in force on some day of [first, last], as known at `at`."""
    ended = sa.or_(CareAgreement.ends_on.is_(None), CareAgreement.ends_on >= first)
    if at is None:
        return sa.and_(CareAgreement.starts_on <= last, ended)
    return sa.and_(CareAgreement.starts_on <= last, CareAgreement.signed_at <= at,
                   sa.or_(ended, CareAgreement.ended_at > at))


def _days_in_force(agreement: CareAgreement, first: date, last: date, at: datetime) -> int:
    ends_on = agreement.ends_on if agreement.ended_at is not None and agreement.ended_at <= at else None
    start, end = max(agreement.starts_on, first), min(ends_on or last, last)
    return max((end - start).days + 1, 0)


def compliance(session: Session, *, region_id: str, week_start: date, at: datetime) -> list[ComplianceRow]:
    """Every agreement in force in the week from Monday `week_start` (China time) in the region's
    subtree, as known at `at`: contacts required (pro rata when in force only part of the week) and
    done, the most behind first.

    Raises NotFound (region), InvalidInput (week_start not a Monday).
    """
    region = get_region(session, region_id)
    if a_date(week_start, "week_start").weekday() != 0:
        raise InvalidInput("week_start must be a Monday", field="week_start")
    last = week_start + timedelta(days=6)
    listed = sa.and_(in_subtree(CareAgreement.region_id, region), _in_force(week_start, last, at))
    agreements = session.scalars(sa.select(CareAgreement).where(listed)).all()
    lo, hi = china_days(week_start, last + timedelta(days=1))
    done: dict[str, int] = {agreement_id: int(n) for agreement_id, n in session.execute(
        sa.select(Contact.agreement_id, sa.func.count())
        .join(CareAgreement, CareAgreement.id == Contact.agreement_id)
        .where(listed, Contact.happened_at >= lo, Contact.happened_at < hi, Contact.at <= at)
        .group_by(Contact.agreement_id))}
    rows = []
    for agreement in agreements:
        # ceil(per week × days / 7) in integers: a part week asks for its share, rounded up
        required = -(-agreement.contacts_per_week * _days_in_force(agreement, week_start, last, at) // 7)
        rows.append(ComplianceRow(agreement, agreement.elder_id, required, done.get(agreement.id, 0)))
    return sorted(rows, key=lambda r: (-r.missing, r.done - r.required, r.elder_id, r.agreement.id))


def monthly_visit_rate(session: Session, *, region_id: str, month: date) -> tuple[int, int]:
    """(elders visited at least once in the month, elders with an agreement in force in it) in the
    region's subtree; `month` is any day of the month (China time). Calls do not count as visits.

    Raises NotFound (region), InvalidInput (month).
    """
    region = get_region(session, region_id)
    first = a_date(month, "month").replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    in_force = sa.and_(in_subtree(CareAgreement.region_id, region), _in_force(first, after - timedelta(days=1)))
    elders = session.scalar(sa.select(sa.func.count(sa.distinct(CareAgreement.elder_id))).where(in_force))
    lo, hi = china_days(first, after)
    visited = session.scalar(
        sa.select(sa.func.count(sa.distinct(CareAgreement.elder_id)))
        .join(Contact, Contact.agreement_id == CareAgreement.id)
        .where(in_force, Contact.kind == "visit", Contact.happened_at >= lo, Contact.happened_at < hi))
    return int(visited or 0), int(elders or 0)
