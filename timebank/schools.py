"""Schools (学生社区志愿服务计学分): students linked with consent, each school's credit rule and terms, reports.

A school is an Organisation (its id is the school user's subject) with a `School` profile holding its
credit rule, a term calendar (`SchoolTerm`), and students linked by a one-time invitation code with
the student's consent and, under 18, a guardian's (`StudentLink`). A school sees only the students
`students_of` returns. Reports count verified ("posted", not reversed) unpaid records by the China
date of their start, apply the rule's caps (per day, then per term) and turn minutes into credits.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger import store
from ledger.writer import Writer

from . import checks, journal
from .catalogue import CATEGORIES, CatalogueItem
from .errors import Conflict, InvalidInput, NotFound, Refused
from .model import Base, new_id
from .people import Volunteer, seal_into, where
from .records import ServiceRecord
from .regions import Organisation, bank_of, get_region
from .sealing import Sealer

ROUNDINGS = ("floor", "half_up")
INVITATION_DAYS = 14
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 8
ADULT_AGE = 18


class School(Base):
    """A school's profile and credit rule; the school is the organisation `organisation_id`."""

    __tablename__ = "school"

    organisation_id: Mapped[str] = mapped_column(sa.ForeignKey("organisation.id"), primary_key=True)
    minutes_per_credit: Mapped[int] = mapped_column(sa.Integer)
    rounding: Mapped[str] = mapped_column(sa.String(8))
    daily_cap_minutes: Mapped[int] = mapped_column(sa.Integer)
    term_cap_minutes: Mapped[int | None] = mapped_column(sa.Integer)
    counted: Mapped[list[str] | None] = mapped_column(sa.JSON)  # catalogue categories or codes; None = all
    registered_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def id(self) -> str:
        return self.organisation_id


class SchoolTerm(Base):
    """One term of a school's calendar, both ends inclusive (China dates); terms do not overlap."""

    __tablename__ = "school_term"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    school_id: Mapped[str] = mapped_column(sa.ForeignKey("school.organisation_id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    created_at: Mapped[datetime]


class SchoolInvitation(Base):
    """A one-time code a school gives a student; only its hash is kept."""

    __tablename__ = "school_invitation"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    school_id: Mapped[str] = mapped_column(sa.ForeignKey("school.organisation_id"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[str | None] = mapped_column(sa.String(40))


class StudentLink(Base):
    """A volunteer linked to a school as its student, with consent; active until unlinked (history kept)."""

    __tablename__ = "student_link"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    school_id: Mapped[str] = mapped_column(sa.ForeignKey("school.organisation_id"), index=True)
    volunteer_id: Mapped[str] = mapped_column(sa.ForeignKey("volunteer.id"), index=True)
    class_name: Mapped[str | None] = mapped_column(sa.String(60))
    student_number_sealed: Mapped[str | None] = mapped_column(sa.Text)
    student_consent: Mapped[bool] = mapped_column(sa.Boolean)
    minor: Mapped[bool] = mapped_column(sa.Boolean)  # under 18 when linked
    guardian_consent: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    guardian_name_sealed: Mapped[str | None] = mapped_column(sa.Text)
    linked_at: Mapped[datetime]
    link_entry_id: Mapped[str | None] = mapped_column(sa.ForeignKey("entry.id"))
    unlinked_at: Mapped[datetime | None]
    unlinked_by: Mapped[str | None] = mapped_column(sa.String(40))
    unlink_entry_id: Mapped[str | None] = mapped_column(sa.ForeignKey("entry.id"))


SEALED_COLUMNS: dict[type[Base], tuple[str, ...]] = {
    StudentLink: ("student_number_sealed", "guardian_name_sealed"),
}


# --- the rule -----------------------------------------------------------------------------------

def _rule(session: Session, *, minutes_per_credit: Any, rounding: Any, daily_cap_minutes: Any,
          term_cap_minutes: Any, counted: Any) -> dict[str, Any]:
    """The rule's fields, checked. Raises InvalidInput naming the field."""
    def minutes(value: Any, field: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(f"{field} must be a whole number of minutes from {low} to {high}", field=field)
        return value

    if rounding not in ROUNDINGS:
        raise InvalidInput(f"rounding must be one of {', '.join(ROUNDINGS)}", field="rounding")
    rule = {"minutes_per_credit": minutes(minutes_per_credit, "minutes_per_credit", 1, 100_000),
            "rounding": rounding, "daily_cap_minutes": minutes(daily_cap_minutes, "daily_cap_minutes", 1, 1440),
            "term_cap_minutes": None if term_cap_minutes is None
            else minutes(term_cap_minutes, "term_cap_minutes", 1, 1_000_000), "counted": None}
    if counted is not None:
        if not isinstance(counted, list | tuple) or not counted or len(counted) > 100:
            raise InvalidInput("counted must be a list of 1–100 catalogue categories or codes, or null for all",
                               field="counted")
        codes = set(session.scalars(sa.select(CatalogueItem.code).where(CatalogueItem.code.in_(
            [c for c in counted if isinstance(c, str)]))))
        unknown = [c for c in counted if c not in CATEGORIES and c not in codes]
        if unknown:
            raise InvalidInput(f"counted names no catalogue category or code: {unknown!r} (categories: "
                               f"{', '.join(CATEGORIES)})", field="counted")
        rule["counted"] = sorted(set(counted))
    return rule


def register_school(session: Session, *, organisation_id: str, minutes_per_credit: int, rounding: str = "floor",
                    daily_cap_minutes: int = 480, term_cap_minutes: int | None = None,
                    counted: list[str] | None = None, at: datetime) -> School:
    """Make an organisation a school with its credit rule. Raises NotFound, InvalidInput, Conflict."""
    if session.get(Organisation, organisation_id) is None:
        raise NotFound(f"no organisation {organisation_id!r}", field="organisation_id")
    rule = _rule(session, minutes_per_credit=minutes_per_credit, rounding=rounding,
                 daily_cap_minutes=daily_cap_minutes, term_cap_minutes=term_cap_minutes, counted=counted)
    if session.get(School, organisation_id) is not None:
        raise Conflict(f"organisation {organisation_id!r} is already a school; change its rule instead")
    school = School(organisation_id=organisation_id, registered_at=at, updated_at=at, **rule)
    session.add(school)
    session.flush()
    return school


def get_school(session: Session, school_id: str) -> School:
    school = session.get(School, school_id)
    if school is None:
        raise NotFound(f"no school {school_id!r}", field="school_id")
    return school


def school_name(session: Session, school: School) -> str:
    return session.get(Organisation, school.organisation_id).name  # type: ignore[union-attr]


def change_rule(session: Session, *, school_id: str, minutes_per_credit: int, rounding: str, daily_cap_minutes: int,
                term_cap_minutes: int | None, counted: list[str] | None, at: datetime) -> School:
    """Replace a school's credit rule (reports always use the current rule). Raises NotFound, InvalidInput."""
    school = get_school(session, school_id)
    rule = _rule(session, minutes_per_credit=minutes_per_credit, rounding=rounding,
                 daily_cap_minutes=daily_cap_minutes, term_cap_minutes=term_cap_minutes, counted=counted)
    for key, value in rule.items():
        setattr(school, key, value)
    school.updated_at = at
    session.flush()
    return school


def add_term(session: Session, *, school_id: str, name: str, starts_on: date, ends_on: date,
             at: datetime) -> SchoolTerm:
    """Add a term (both ends inclusive). Raises NotFound, InvalidInput, Conflict (overlaps another term)."""
    get_school(session, school_id)
    name = checks.name(name, "name", 100)
    starts_on, ends_on = checks.a_date(starts_on, "starts_on"), checks.a_date(ends_on, "ends_on")
    if ends_on < starts_on:
        raise InvalidInput("ends_on must be on or after starts_on", field="ends_on")
    if (ends_on - starts_on).days > 366:
        raise InvalidInput("a term lasts at most a year", field="ends_on")
    clash = session.scalar(sa.select(SchoolTerm).where(SchoolTerm.school_id == school_id,
                                                       SchoolTerm.starts_on <= ends_on,
                                                       SchoolTerm.ends_on >= starts_on))
    if clash is not None:
        raise Conflict(f"the term overlaps {clash.name} ({clash.starts_on}–{clash.ends_on}); choose other dates")
    term = SchoolTerm(id=new_id("trm"), school_id=school_id, name=name, starts_on=starts_on, ends_on=ends_on,
                      created_at=at)
    session.add(term)
    session.flush()
    return term


def terms_of(session: Session, school_id: str) -> list[SchoolTerm]:
    return list(session.scalars(sa.select(SchoolTerm).where(SchoolTerm.school_id == school_id)
                                .order_by(SchoolTerm.starts_on)))


def get_term(session: Session, school_id: str, term_id: str) -> SchoolTerm:
    term = session.get(SchoolTerm, term_id)
    if term is None or term.school_id != school_id:
        raise NotFound(f"no term {term_id!r} of this school", field="term_id")
    return term


# --- students -----------------------------------------------------------------------------------

def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode("ascii", "replace")).hexdigest()


def invite(session: Session, *, school_id: str, at: datetime) -> tuple[SchoolInvitation, str]:
    """A one-time invitation code (8 characters, valid 14 days) for one student; only its hash is
    kept, so the code is shown once. Raises NotFound."""
    get_school(session, school_id)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    invitation = SchoolInvitation(id=new_id("inv"), school_id=school_id, code_hash=_hash(code), created_at=at,
                                  expires_at=at + timedelta(days=INVITATION_DAYS))
    session.add(invitation)
    session.flush()
    return invitation, code


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def active_link(session: Session, volunteer_id: str) -> StudentLink | None:
    return session.scalar(sa.select(StudentLink).where(StudentLink.volunteer_id == volunteer_id,
                                                       StudentLink.unlinked_at.is_(None)))


def _entry(session: Session, writer: Writer, school: School, link: StudentLink, action: str,
           at: datetime) -> journal.Entry:
    org = session.get(Organisation, school.organisation_id)
    bank = bank_of(session, get_region(session, org.region_id))  # type: ignore[union-attr]
    store.lock_logs(session, [bank.log_id])  # type: ignore[list-item]
    return journal.write(session, writer, bank=bank, type="school", at=at, subject_id=link.volunteer_id,
                         body={"action": action, "school": school.organisation_id, "volunteer": link.volunteer_id,
                               "link": link.id})


def link_student(session: Session, writer: Writer, sealer: Sealer, *, code: str, volunteer_id: str,
                 student_consent: bool = True, guardian_consent: bool = False, guardian_name: str | None = None,
                 class_name: str | None = None, student_number: str | None = None, at: datetime) -> StudentLink:
    """Link a volunteer to the school that issued `code`, with their consent (and, under 18 on `at`,
    a named guardian's). Writes a "school" ledger entry of opaque ids. Raises InvalidInput, NotFound,
    Refused (consent, code expired or used, already linked)."""
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound(f"no volunteer {volunteer_id!r}", field="volunteer_id")
    if not isinstance(code, str) or len(code.strip()) != CODE_LENGTH:
        raise InvalidInput(f"code must be the {CODE_LENGTH}-character invitation code", field="code")
    class_name = checks.text(class_name, "class_name", 60, multiline=False)
    student_number = checks.text(student_number, "student_number", 40, multiline=False)
    guardian_name = checks.text(guardian_name, "guardian_name", 100, multiline=False)
    invitation = session.scalar(sa.select(SchoolInvitation).where(SchoolInvitation.code_hash == _hash(code)))
    if invitation is None:
        raise NotFound("no such invitation code; ask your school for a new one", field="code")
    if invitation.used_at is not None:
        raise Refused("this invitation code was already used; ask your school for a new one", rule="invitation")
    if at >= invitation.expires_at:
        raise Refused("this invitation code has expired; ask your school for a new one", rule="invitation")
    if student_consent is not True:
        raise Refused("the student must consent to the school seeing their service records", rule="consent")
    minor = _age(volunteer.birth_date, checks.china_date(at)) < ADULT_AGE
    if minor and (guardian_consent is not True or not guardian_name):
        raise Refused("a student under 18 needs a guardian's consent: give guardian_name and guardian_consent",
                      rule="guardian_consent")
    if active_link(session, volunteer_id) is not None:
        raise Refused("you are linked to a school already; unlink first", rule="linked")
    school = get_school(session, invitation.school_id)
    link = StudentLink(id=new_id("stl"), school_id=school.organisation_id, volunteer_id=volunteer_id,
                       class_name=class_name, student_consent=True, minor=minor,
                       guardian_consent=bool(guardian_consent), linked_at=at)
    seal_into(sealer, link, student_number=student_number, guardian_name=guardian_name)
    invitation.used_at, invitation.used_by = at, volunteer_id
    session.add(link)
    session.flush()
    link.link_entry_id = _entry(session, writer, school, link, "link", at).id
    session.flush()
    return link


def unlink(session: Session, writer: Writer, *, school_id: str, volunteer_id: str, by: str,
           at: datetime) -> StudentLink:
    """End a student's active link (by the student or the school); the history stays, and a "school"
    entry records it. Raises NotFound."""
    link = active_link(session, volunteer_id)
    if link is None or link.school_id != school_id:
        raise NotFound(f"no linked student {volunteer_id!r}", field="volunteer_id")
    school = get_school(session, school_id)
    link.unlinked_at, link.unlinked_by = at, by
    link.unlink_entry_id = _entry(session, writer, school, link, "unlink", at).id
    session.flush()
    return link


def students_of(session: Session, school_id: str | None, at: datetime | None = None) -> sa.Select[tuple[str]]:
    """SELECT of the ids of the school's students with an active, consenting link (the school's scope).
    `at` is accepted for symmetry; links are current until unlinked."""
    return sa.select(StudentLink.volunteer_id).where(
        StudentLink.school_id == (school_id or ""), StudentLink.unlinked_at.is_(None),
        StudentLink.student_consent.is_(True), sa.or_(StudentLink.minor.is_(False),
                                                      StudentLink.guardian_consent.is_(True)))


def is_student(session: Session, school_id: str | None, volunteer_id: str) -> bool:
    return session.scalar(students_of(session, school_id).where(StudentLink.volunteer_id == volunteer_id)) is not None


def links_of(session: Session, school_id: str) -> list[StudentLink]:
    """The school's active consenting links, by class then volunteer."""
    ids = students_of(session, school_id)
    return list(session.scalars(sa.select(StudentLink).where(StudentLink.school_id == school_id,
                                                             StudentLink.unlinked_at.is_(None),
                                                             StudentLink.volunteer_id.in_(ids))
                                .order_by(StudentLink.class_name, StudentLink.volunteer_id)))


def opened(sealer: Sealer, link: StudentLink) -> dict[str, str | None]:
    """A link's student number and guardian name, opened. Raises SealError if altered."""
    return {column.removesuffix("_sealed"): sealer.open(getattr(link, column), where=where(link, column))
            for column in SEALED_COLUMNS[StudentLink]}


# --- reports ------------------------------------------------------------------------------------

def _credits(minutes: int, school: School) -> int:
    if school.rounding == "half_up":
        return (2 * minutes + school.minutes_per_credit) // (2 * school.minutes_per_credit)
    return minutes // school.minutes_per_credit


def _counts(school: School, item: CatalogueItem) -> bool:
    return school.counted is None or item.code in school.counted or item.category in school.counted


def _report(session: Session, school: School, volunteer_id: str, term: SchoolTerm) -> dict[str, Any]:
    start, after = checks.china_days(term.starts_on, term.ends_on + timedelta(days=1))
    found = session.execute(
        sa.select(ServiceRecord, CatalogueItem)
        .join(CatalogueItem, CatalogueItem.code == ServiceRecord.catalogue_code)
        .where(ServiceRecord.volunteer_id == volunteer_id, ServiceRecord.status == "posted",
               ServiceRecord.started_at >= start, ServiceRecord.started_at < after)
        .order_by(ServiceRecord.started_at, ServiceRecord.id)).all()
    # the deposits in a second, by-key read: joined in, PostgreSQL's estimate for one student grows
    # with the whole table and it starts a parallel worker (about 6 ms) for a handful of rows
    deposits = {entry.id: entry for entry in session.scalars(sa.select(journal.Entry).where(
        journal.Entry.id.in_([record.deposit_entry_id for record, _ in found if record.deposit_entry_id])))}
    rows = [(record, item, deposits.get(record.deposit_entry_id or "")) for record, item in found]
    by_category: dict[str, int] = defaultdict(int)
    per_day: dict[date, int] = defaultdict(int)
    records, verified = [], 0
    for record, item, entry in rows:
        counted = _counts(school, item) and not record.paid
        verified += record.minutes
        by_category[item.category] += record.minutes
        if counted:
            per_day[checks.china_date(record.started_at)] += record.minutes
        records.append({"id": record.id, "catalogue_code": item.code, "category": item.category,
                        "date": checks.china_date(record.started_at), "minutes": record.minutes,
                        "counted": counted, "receipt": entry.receipt() if entry is not None else None})
    daily_capped = sum(min(m, school.daily_cap_minutes) for m in per_day.values())
    counted_minutes = daily_capped if school.term_cap_minutes is None else min(daily_capped, school.term_cap_minutes)
    return {"volunteer_id": volunteer_id, "term_id": term.id, "verified_minutes": verified,
            "minutes_by_category": dict(sorted(by_category.items())), "counted_minutes": counted_minutes,
            "credits": _credits(counted_minutes, school), "records": records}


def student_report(session: Session, *, school_id: str, volunteer_id: str, term_id: str) -> dict[str, Any]:
    """One linked student's term: verified minutes by catalogue category, minutes counted after the
    rule's caps (per day, then per term), credits, and the records with their ledger receipts.
    Raises NotFound (school, term, or a volunteer who is not a consenting student of the school)."""
    school = get_school(session, school_id)
    term = get_term(session, school_id, term_id)
    if not is_student(session, school_id, volunteer_id):
        raise NotFound(f"no linked student {volunteer_id!r}", field="volunteer_id")
    link = active_link(session, volunteer_id)
    return {**_report(session, school, volunteer_id, term), "class_name": link.class_name if link else None}


def class_report(session: Session, *, school_id: str, class_name: str, term_id: str) -> list[dict[str, Any]]:
    """`student_report` for every linked student of the class, by volunteer id. Raises NotFound."""
    school = get_school(session, school_id)
    term = get_term(session, school_id, term_id)
    return [{**_report(session, school, link.volunteer_id, term), "class_name": link.class_name}
            for link in links_of(session, school_id) if link.class_name == class_name]
