"""Scope checks and response shapes shared by the people endpoints (volunteers, elders, heirs)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from timebank import people, schools
from timebank.errors import InvalidInput, NotFound
from timebank.journal import Entry
from timebank.people import Elder, Relative, StatusChange, Volunteer
from timebank.regions import Region, covers, get_region

from ..access import check_region, proxied_elder
from ..auth import Caller
from .common import sealer


STAFF = ("coordinator", "administrator")


# --- scope --------------------------------------------------------------------------------------

def _hidden(kind: str, object_id: str) -> NotFound:
    return NotFound(f"no {kind} {object_id!r}", field=f"{kind}_id")


def _staff_covers(session: Session, who: Caller, region_id: str) -> bool:
    return who.is_staff and covers(who.region, get_region(session, region_id))  # type: ignore[arg-type]


def _volunteer(session: Session, who: Caller, volunteer_id: str, *, self_: bool = False,
               school: bool = False) -> Volunteer:
    """The volunteer if staff cover them, or (with `self_`) it is the caller, or (with `school`) the
    caller is their school. Raises NotFound otherwise, so ids cannot be probed."""
    found = session.get(Volunteer, volunteer_id)
    if found is not None and (_staff_covers(session, who, found.region_id)
                              or (self_ and who.role == "volunteer" and who.subject_id == found.id)
                              or (school and who.role == "school"
                                  and schools.is_student(session, who.subject_id, found.id))):
        return found
    raise _hidden("volunteer", volunteer_id)


def _elder(session: Session, who: Caller, elder_id: str, *, self_: bool = False, proxy: bool = False) -> Elder:
    """The elder if staff cover them, or (with `self_`) it is the caller, or (with `proxy`) the
    caller acts for them. Raises NotFound otherwise."""
    found = session.get(Elder, elder_id)
    if found is not None and (_staff_covers(session, who, found.region_id)
                              or (self_ and who.role == "elder" and who.subject_id == found.id)
                              or (proxy and proxied_elder(session, who) == found.id)):
        return found
    raise _hidden("elder", elder_id)


def _staff_region(session: Session, who: Caller, region_id: str | None) -> Region:
    """The subtree a staff list covers: theirs, or a region within it."""
    return check_region(session, who, region_id) if region_id else who.region  # type: ignore[return-value]


# --- reads that log -----------------------------------------------------------------------------

# --- shaping ------------------------------------------------------------------------------------

VOLUNTEER_PERSONAL = ["name", "sex", "birth_date", "id_number", "phone", "address"]
ELDER_PERSONAL = ["name", "sex", "birth_date", "id_number", "phone", "address", "health", "tags"]


def _volunteer_public(v: Volunteer) -> dict[str, Any]:
    return {"id": v.id, "kind": v.kind, "organisation_id": v.organisation_id, "status": v.status}


def _volunteer_full(v: Volunteer) -> dict[str, Any]:
    return {**_volunteer_public(v), "region_id": v.region_id, "registered_at": v.registered_at,
            **people.opened(sealer(), v), "sex": v.sex, "birth_date": v.birth_date, "skills": v.skills or [],
            "heir_id": v.heir_id}


def _elder_summary(e: Elder) -> dict[str, Any]:
    return {"id": e.id, "short_code": e.short_code, "region_id": e.region_id, "status": e.status,
            "registered_at": e.registered_at}


def _elder_full(session: Session, e: Elder) -> dict[str, Any]:
    return {**_elder_summary(e), **people.opened(sealer(), e), "sex": e.sex, "birth_date": e.birth_date,
            "tags": people.current_tags(session, e.id), "heir_id": e.heir_id}


def _status_json(change: StatusChange, session: Session, *, reason: bool = False) -> dict[str, Any]:
    entry = session.get(Entry, change.entry_id) if change.entry_id else None
    out = {"id": change.id, "subject_id": change.subject_id, "status": change.status, "by": change.by,
           "at": change.at, "receipt": entry.receipt() if entry else None}
    return {**out, "reason": change.reason} if reason else out


def _relative_summary(r: Relative) -> dict[str, Any]:
    return {"id": r.id, "elder_id": r.elder_id, "relation": r.relation, "person_id": r.person_id,
            "same_household": r.same_household, "may_confirm": r.may_confirm, "may_redeem": r.may_redeem,
            "added_at": r.added_at}


def check_id_agrees(body: dict[str, Any]) -> None:
    """A resident ID number holds the birth date and the sex: they must agree with `birth_date` and
    `sex` (people.id_disagreement). Raises InvalidInput naming id_number."""
    found = people.id_disagreement(body["id_number"], body["birth_date"], body["sex"])
    if found is None:
        return
    what, held = found
    if what == "no_birth_date":
        raise InvalidInput("the ID number does not hold a real birth date", field="id_number")
    if what == "birth_date":
        raise InvalidInput(f"the ID number says born {held.isoformat()}, not {body['birth_date'].isoformat()}; "
                           "please check both", field="id_number")
    raise InvalidInput("the ID number's sex digit does not agree with sex; please check both", field="id_number")


