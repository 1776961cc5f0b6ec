"""Scopes: which objects a caller may see or act on. An object out of scope is reported as not
found, so ids cannot be probed. Personal data goes only to those who need it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from timebank import people, regions, schools, users
from timebank.errors import NotFound
from timebank.people import Elder, Relative, Volunteer
from timebank.regions import Region

from .auth import Caller, now


def _hidden(kind: str, object_id: str) -> NotFound:
    return NotFound(f"no {kind} {object_id!r}", field=f"{kind}_id")


def region_visible(caller: Caller, region: Region) -> bool:
    """Staff see their subtree; everyone else sees the tree itself (names of places are public)."""
    return not caller.is_staff or regions.covers(caller.region, region)  # type: ignore[arg-type]


def check_region(session: Session, caller: Caller, region_id: str, *, staff_only: bool = True) -> Region:
    """The region, if the caller's scope covers it (staff: their subtree). Raises NotFound."""
    region = regions.get_region(session, region_id)
    if caller.is_staff and not regions.covers(caller.region, region):  # type: ignore[arg-type]
        raise _hidden("region", region_id)
    if staff_only and not caller.is_staff and caller.role != "auditor":
        raise _hidden("region", region_id)
    return region


def proxied_elder(session: Session, caller: Caller) -> str | None:
    """The elder a proxy acts for."""
    if caller.role != "proxy" or not caller.subject_id:
        return None
    relative = session.get(Relative, caller.subject_id)
    return relative.elder_id if relative is not None and relative.removed_at is None else None


def may_see_person(session: Session, caller: Caller, person: Volunteer | Elder) -> bool:
    """Whether the caller may see this person at all."""
    if caller.subject_id == person.id:
        return True
    if caller.is_staff:
        return regions.covers(caller.region, regions.get_region(session, person.region_id))  # type: ignore[arg-type]
    if caller.role == "proxy":
        return proxied_elder(session, caller) == person.id
    if caller.role == "school":
        return isinstance(person, Volunteer) and schools.is_student(session, caller.subject_id, person.id)
    return False


def sees_personal_data(session: Session, caller: Caller, person: Volunteer | Elder) -> bool:
    """Names, phones, ID numbers and addresses: the person, their proxy, staff covering them."""
    return may_see_person(session, caller, person) and caller.role != "school"


def check_person(session: Session, caller: Caller, person_id: str) -> Volunteer | Elder:
    """The volunteer or elder, if the caller may see them. Raises NotFound."""
    try:
        person = people.person(session, person_id)
    except NotFound:
        raise _hidden("person", person_id) from None
    if not may_see_person(session, caller, person):
        raise _hidden("person", person_id)
    return person


def log_access(session: Session, caller: Caller, subject_id: str, fields: list[str], action: str = "read") -> None:
    """Record that the caller read or changed this person's personal data."""
    if fields:
        users.record_access(session, user_id=caller.user_id, action=action, subject_id=subject_id, fields=fields,
                            at=now())
