"""People: volunteers, elders, their relatives and proxies, staff; personal data sealed at rest.

Opaque ids (`vol_…`, `eld_…`) are what the ledger sees. Names, ID numbers, phones, addresses and
health notes live only in `*_sealed` columns; an ID number is also kept as a keyed blind index so a
person cannot register twice.
"""

from __future__ import annotations

import secrets
import unicodedata
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger import store
from ledger.writer import Writer

from . import journal
from .catalogue import CatalogueItem
from .checks import name as name_text
from .checks import text
from .errors import Conflict, InvalidInput, NotFound, NotPermitted
from .model import new_id
# the tables and sealing helpers, reached as people.X too (`X as X`: re-exported)
from .people_tables import Volunteer as Volunteer
from .people_tables import Elder as Elder
from .people_tables import Relative as Relative
from .people_tables import Staff as Staff
from .people_tables import Training as Training
from .people_tables import StatusChange as StatusChange
from .people_tables import ElderTag as ElderTag
from .people_tables import SEALED_COLUMNS as SEALED_COLUMNS
from .people_tables import masked_name as masked_name
from .people_tables import where as where
from .people_tables import seal_into as seal_into
from .people_tables import opened as opened
from .regions import Organisation, Region, bank_of, covers, get_region
from .sealing import Sealer

SEXES = ("F", "M")
VOLUNTEER_KINDS = ("student", "party_member", "youth", "community", "elder_helping_elder", "left_behind_woman", "other")
VOLUNTEER_STATUSES = ("active", "suspended", "blacklisted", "deceased")
ELDER_STATUSES = ("active", "moved_away", "deceased")
ORGANISATION_STATUSES = ("active", "suspended", "blacklisted")  # 失信黑名单
STAFF_ROLES = ("coordinator", "administrator")
PRIORITY_TAGS = (
    "age_80_plus", "disabled", "semi_disabled", "dementia", "lost_only_child", "empty_nest", "living_alone",
    "left_behind", "childless_widowed", "extreme_poverty", "low_income", "special_family_planning", "handicapped",
    "serious_illness",
)
# what a relative is to a person (and, for gifts, what the recipient is to the giver)
RELATIONS = ("spouse", "parent", "grandparent", "child", "grandchild", "sibling", "other_relative", "friend")
SHORT_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"



# --- checks -------------------------------------------------------------------------------------



def _phone(value: str | None, required: bool = False) -> str | None:
    value = text(value, "phone", 20, required=required, multiline=False)
    if value is not None and not (value.lstrip("+").replace("-", "").replace(" ", "").isdigit()
                                  and 5 <= len(value) <= 20):
        raise InvalidInput("phone must be digits, spaces or '-', 5–20 characters", field="phone")
    return value


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_id_number(value: str) -> str:
    """A mainland resident ID (18 characters, with its check digit) or another document number
    (passport, Hong Kong/Macao/Taiwan permit: 5–20 letters and digits). Raises InvalidInput."""
    value = "".join(unicodedata.normalize("NFKC", value or "").split()).upper()
    if len(value) == 18 and value[:17].isdigit():
        check = "10X98765432"[sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=True)) % 11]
        if value[17] != check:
            raise InvalidInput("ID number's check digit is wrong; please check the number", field="id_number")
        return value
    if 5 <= len(value) <= 20 and value.isascii() and value.isalnum() and not value.isdigit():
        return value
    raise InvalidInput("id_number must be an 18-character resident ID or a 5–20 character document number",
                       field="id_number")


def id_disagreement(id_number: str, birth_date: date | None, sex: str | None) -> tuple[str, date | None] | None:
    """What a resident ID number (GB 11643: the birth date in characters 7–14, the sex in the 17th,
    odd for men) says against `birth_date` and `sex` (either may be unknown yet):
    ("no_birth_date", None) when it holds no real date, ("birth_date", the date it holds),
    ("sex", None), or None when they agree or the number is another document."""
    number = "".join(unicodedata.normalize("NFKC", id_number or "").split()).upper()
    if not (len(number) == 18 and number[:17].isdigit()):
        return None
    try:
        held = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return ("no_birth_date", None)
    if birth_date is not None and held != birth_date:
        return ("birth_date", held)
    if sex is not None and ("M" if int(number[16]) % 2 else "F") != sex:
        return ("sex", None)
    return None


def id_sex(id_number: str) -> str:
    """The sex a resident ID number's 17th character states ("M" odd, "F" even)."""
    return "M" if int(id_number[16]) % 2 else "F"


def _birth(birth_date: date, at: datetime) -> date:
    real_date = isinstance(birth_date, date) and not isinstance(birth_date, datetime)
    if not real_date or birth_date > at.date() or birth_date.year < 1900:
        raise InvalidInput("birth_date must be a real date in the past", field="birth_date")
    return birth_date


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _unique_id(session: Session, model: type[Volunteer] | type[Elder], index: str) -> None:
    if session.scalar(sa.select(model.id).where(model.id_index == index)) is not None:
        raise Conflict(f"this ID number is already registered as a{'n' if model is Elder else ''} "
                       f"{model.__tablename__}", field="id_number")


def _identity(session: Session, sealer: Sealer, model: type[Volunteer] | type[Elder], *, region_id: str, sex: str,
              id_number: str) -> tuple[Region, str, str]:
    """What registering a volunteer or an elder checks alike: a region a bank covers, the sex, the ID
    number, and that it is not registered already. Returns (region, ID number, its blind index)."""
    region = get_region(session, region_id)
    bank_of(session, region)
    if sex not in SEXES:
        raise InvalidInput("sex must be F or M", field="sex")
    id_number = check_id_number(id_number)
    index = sealer.blind_index(id_number, purpose=f"{model.__tablename__}-id")
    _unique_id(session, model, index)
    return region, id_number, index


# --- volunteers ---------------------------------------------------------------------------------

def register_volunteer(
    session: Session,
    sealer: Sealer,
    *,
    region_id: str,
    name: str,
    sex: str,
    birth_date: date,
    id_number: str,
    kind: str,
    at: datetime,
    phone: str | None = None,
    address: str | None = None,
    organisation_id: str | None = None,
    skills: list[str] | None = None,
) -> Volunteer:
    """Register a volunteer by real name in a region a bank covers.

    Raises InvalidInput (a field, named), NotFound (region, organisation), Refused (no bank), Conflict
    (the ID number is registered already).
    """
    if kind not in VOLUNTEER_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(VOLUNTEER_KINDS)}", field="kind")
    if organisation_id is not None and session.get(Organisation, organisation_id) is None:
        raise NotFound(f"no organisation {organisation_id!r}", field="organisation_id")
    skills = [name_text(s, "skills", 50) for s in (skills or [])][:20]
    region, id_number, index = _identity(session, sealer, Volunteer, region_id=region_id, sex=sex, id_number=id_number)
    volunteer = Volunteer(id=new_id("vol"), region_id=region.id, organisation_id=organisation_id, kind=kind, sex=sex,
                          birth_date=_birth(birth_date, at), id_index=index, skills=skills, status="active",
                          registered_at=at)
    seal_into(sealer, volunteer, name=name_text(name, "name", 50), id_number=id_number, phone=_phone(phone),
              address=text(address, "address", 200))
    session.add(volunteer)
    session.flush()
    return volunteer


def get_volunteer(session: Session, volunteer_id: str) -> Volunteer:
    found = session.get(Volunteer, volunteer_id)
    if found is None:
        raise NotFound(f"no volunteer {volunteer_id!r}", field="volunteer_id")
    return found


def add_training(
    session: Session,
    *,
    volunteer_id: str,
    course: str,
    study_minutes: int,
    provider: str,
    completed_on: date,
    recorded_by: str,
    at: datetime,
    content: str | None = None,
    certifies: list[str] | None = None,
) -> Training:
    """Record a completed training; `certifies` names the catalogue items it qualifies for.

    Raises NotFound (volunteer), InvalidInput.
    """
    volunteer = get_volunteer(session, volunteer_id)
    if not (isinstance(study_minutes, int) and 0 < study_minutes <= 100_000):
        raise InvalidInput("study_minutes must be 1–100000", field="study_minutes")
    if completed_on > at.date():
        raise InvalidInput("completed_on cannot be in the future", field="completed_on")
    codes = list(dict.fromkeys(certifies or []))
    unknown = [c for c in codes if session.get(CatalogueItem, c) is None]
    if unknown:
        raise InvalidInput(f"unknown catalogue codes: {', '.join(unknown)}", field="certifies")
    training = Training(id=new_id("trn"), volunteer_id=volunteer.id, course=name_text(course, "course", 200),
                        content=text(content, "content", 2000), study_minutes=study_minutes,
                        provider=name_text(provider, "provider", 200), completed_on=completed_on, certifies=codes,
                        recorded_by=recorded_by, at=at)
    session.add(training)
    session.flush()
    return training


def is_trained_for(session: Session, volunteer_id: str, code: str) -> bool:
    return any(code in (t.certifies or []) for t in session.scalars(sa.select(Training).where(
        Training.volunteer_id == volunteer_id)))


def set_status(
    session: Session, writer: Writer, *, subject_id: str, status: str, by: str, at: datetime, reason: str | None = None
) -> StatusChange:
    """Change a volunteer's (active, suspended, blacklisted, deceased), elder's (active,
    moved_away, deceased) or organisation's (active, suspended, blacklisted: 失信黑名单) status,
    kept as history and written to the ledger with a commitment to the reason.

    Raises NotFound, InvalidInput (unknown status, missing reason for suspending or blacklisting),
    Conflict (already in that status).
    """
    subject: Volunteer | Elder | Organisation | None = (
        session.get(Volunteer, subject_id) or session.get(Elder, subject_id) or session.get(Organisation, subject_id))
    if subject is None:
        raise NotFound(f"no volunteer, elder or organisation {subject_id!r}", field="subject_id")
    allowed = {Volunteer: VOLUNTEER_STATUSES, Elder: ELDER_STATUSES, Organisation: ORGANISATION_STATUSES}[type(subject)]
    if status not in allowed:
        raise InvalidInput(f"status must be one of {', '.join(allowed)}", field="status")
    if subject.status == status:
        raise Conflict(f"{subject_id} is already {status}", field="status")
    reason = text(reason, "reason", 1000, required=status in ("suspended", "blacklisted"))
    salt, digest = journal.commitment(reason)
    bank = bank_of(session, get_region(session, subject.region_id))
    store.lock_logs(session, [bank.log_id])  # type: ignore[list-item]
    session.refresh(subject, ["status"])  # read under the lock: two changes cannot both start "from active"
    if subject.status == status:
        raise Conflict(f"{subject_id} is already {status}", field="status")
    entry = journal.write(session, writer, bank=bank, type="status", at=at, subject_id=subject.id,
                          body={"subject": subject.id, "status": status, "from": subject.status, "by": by,
                                "reason_commitment": digest})
    change = StatusChange(id=new_id("sts"), subject_id=subject.id, status=status, reason=reason, reason_salt=salt,
                          by=by, entry_id=entry.id, at=at)
    subject.status = status
    session.add(change)
    session.flush()
    return change


def status_history(session: Session, subject_id: str) -> list[StatusChange]:
    return list(session.scalars(sa.select(StatusChange).where(StatusChange.subject_id == subject_id)
                                .order_by(StatusChange.at, StatusChange.id)))


# --- elders -------------------------------------------------------------------------------------

def _short_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(6))
        if session.scalar(sa.select(Elder.id).where(Elder.short_code == code)) is None:
            return code


def register_elder(
    session: Session,
    sealer: Sealer,
    *,
    region_id: str,
    name: str,
    sex: str,
    birth_date: date,
    id_number: str,
    registered_by: str,
    at: datetime,
    phone: str | None = None,
    address: str | None = None,
    health: str | None = None,
    tags: list[str] | None = None,
) -> Elder:
    """Register an elder (usually by a coordinator), with priority tags.

    Raises InvalidInput, NotFound (region), Refused (no bank), Conflict (ID number registered).
    """
    tags = list(dict.fromkeys(tags or []))
    unknown = [t for t in tags if t not in PRIORITY_TAGS]
    if unknown:
        raise InvalidInput(f"unknown tags {', '.join(unknown)}; tags are {', '.join(PRIORITY_TAGS)}", field="tags")
    region, id_number, index = _identity(session, sealer, Elder, region_id=region_id, sex=sex, id_number=id_number)
    elder = Elder(id=new_id("eld"), region_id=region.id, short_code=_short_code(session), sex=sex,
                  birth_date=_birth(birth_date, at), id_index=index, status="active", registered_at=at)
    seal_into(sealer, elder, name=name_text(name, "name", 50), id_number=id_number, phone=_phone(phone),
              address=text(address, "address", 200),
              health=text(health, "health", 2000))
    session.add(elder)
    session.flush()
    for tag in tags:
        add_tag(session, elder_id=elder.id, tag=tag, by=registered_by, at=at)
    return elder


def get_elder(session: Session, elder_id: str) -> Elder:
    found = session.get(Elder, elder_id)
    if found is None:
        raise NotFound(f"no elder {elder_id!r}", field="elder_id")
    return found


def find_elder_by_code(session: Session, short_code: str) -> Elder:
    found = session.scalar(sa.select(Elder).where(Elder.short_code == (short_code or "").strip().upper()))
    if found is None:
        raise NotFound(f"no elder with code {short_code!r}", field="elder_code")
    return found


def add_tag(session: Session, *, elder_id: str, tag: str, by: str, at: datetime) -> ElderTag:
    """Add a priority tag. Raises NotFound, InvalidInput (unknown tag), Conflict (already tagged)."""
    elder = get_elder(session, elder_id)
    if tag not in PRIORITY_TAGS:
        raise InvalidInput(f"tag must be one of {', '.join(PRIORITY_TAGS)}", field="tag")
    if tag in current_tags(session, elder.id):
        raise Conflict(f"elder already has tag {tag}", field="tag")
    row = ElderTag(id=new_id("tag"), elder_id=elder.id, tag=tag, added_by=by, added_at=at)
    session.add(row)
    session.flush()
    return row


def remove_tag(session: Session, *, elder_id: str, tag: str, by: str, at: datetime) -> ElderTag:
    """End a priority tag (its history stays). Raises NotFound when the elder does not have it."""
    row = session.scalar(sa.select(ElderTag).where(ElderTag.elder_id == elder_id, ElderTag.tag == tag,
                                                   ElderTag.removed_at.is_(None)))
    if row is None:
        raise NotFound(f"elder {elder_id} has no tag {tag}", field="tag")
    row.removed_at, row.removed_by = at, by
    session.flush()
    return row


def current_tags(session: Session, elder_id: str) -> list[str]:
    return sorted(session.scalars(sa.select(ElderTag.tag).where(ElderTag.elder_id == elder_id,
                                                                ElderTag.removed_at.is_(None))))


def add_relative(
    session: Session,
    sealer: Sealer,
    *,
    elder_id: str,
    relation: str,
    name: str,
    at: datetime,
    phone: str | None = None,
    person_id: str | None = None,
    same_household: bool = False,
    may_confirm: bool = True,
    may_redeem: bool = False,
) -> Relative:
    """Add a family member or proxy who may confirm and/or redeem for an elder. `person_id` links a
    registered volunteer or elder (needed for gifts and inheritance).

    Raises NotFound (elder, person), InvalidInput.
    """
    elder = get_elder(session, elder_id)
    if relation not in RELATIONS:
        raise InvalidInput(f"relation must be one of {', '.join(RELATIONS)}", field="relation")
    if person_id is not None:
        if session.get(Volunteer, person_id) is None and session.get(Elder, person_id) is None:
            raise NotFound(f"no volunteer or elder {person_id!r}", field="person_id")
        if person_id == elder.id:
            raise InvalidInput("an elder is not their own relative", field="person_id")
    relative = Relative(id=new_id("rel"), elder_id=elder.id, relation=relation, person_id=person_id,
                        same_household=same_household, may_confirm=may_confirm, may_redeem=may_redeem, added_at=at)
    seal_into(sealer, relative, name=name_text(name, "name", 50), phone=_phone(phone))
    session.add(relative)
    session.flush()
    return relative


def relatives_of(session: Session, elder_id: str) -> list[Relative]:
    return list(session.scalars(sa.select(Relative).where(Relative.elder_id == elder_id,
                                                          Relative.removed_at.is_(None)).order_by(Relative.added_at)))


def relation_between(session: Session, elder_id: str, person_id: str) -> Relative | None:
    """The active relative row linking `person_id` to the elder, if any."""
    return session.scalar(sa.select(Relative).where(Relative.elder_id == elder_id, Relative.person_id == person_id,
                                                    Relative.removed_at.is_(None)))


def remove_relative(session: Session, *, relative_id: str, at: datetime) -> Relative:
    relative = session.get(Relative, relative_id)
    if relative is None or relative.removed_at is not None:
        raise NotFound(f"no relative {relative_id!r}", field="relative_id")
    relative.removed_at = at
    session.flush()
    return relative


# --- staff --------------------------------------------------------------------------------------

def register_staff(session: Session, sealer: Sealer, *, region_id: str, role: str, name: str, at: datetime) -> Staff:
    """Add a coordinator or administrator for a region subtree. Raises NotFound, InvalidInput."""
    region = get_region(session, region_id)
    if role not in STAFF_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(STAFF_ROLES)}", field="role")
    staff = Staff(id=new_id("stf"), region_id=region.id, role=role, active=True, created_at=at)
    seal_into(sealer, staff, name=name_text(name, "name", 50))
    session.add(staff)
    session.flush()
    return staff


def get_staff(session: Session, staff_id: str, *, region_id: str | None = None, role: str | None = None) -> Staff:
    """An active staff member; with `region_id`, one whose subtree covers that region; with `role`,
    one of that role.

    Raises NotFound, NotPermitted (out of scope, or another role)."""
    staff = session.get(Staff, staff_id)
    if staff is None or not staff.active:
        raise NotFound(f"no active staff member {staff_id!r}", field="staff_id")
    if region_id is not None and not covers(get_region(session, staff.region_id), get_region(session, region_id)):
        raise NotPermitted(f"staff {staff_id} does not cover region {region_id}", field="staff_id")
    if role is not None and staff.role != role:
        raise NotPermitted(f"this needs an {role}; staff {staff_id} is a {staff.role}", field="staff_id")
    return staff


def person(session: Session, person_id: str) -> Volunteer | Elder:
    """The volunteer or elder `person_id`. Raises NotFound."""
    found: Volunteer | Elder | None = session.get(Volunteer, person_id) or session.get(Elder, person_id)
    if found is None:
        raise NotFound(f"no volunteer or elder {person_id!r}", field="person_id")
    return found


def home_bank(session: Session, person_id: str) -> Region:
    """The bank that keeps a person's account: the bank covering their region."""
    return bank_of(session, get_region(session, person(session, person_id).region_id))

