"""Volunteers and elders: registration and sign-up, status, tags, relatives, training, heirs, personal data."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from timebank import gifts, people, schools, users
from timebank.errors import InvalidInput, NotPermitted, Refused
from timebank.people import Elder, StatusChange, Training, Volunteer
from timebank.regions import Organisation, bank_of, covers, get_region, in_subtree

from .. import auth
from ..access import check_region, log_access
from ..auth import Caller
from ..db import get_session
from ..paging import PageQuery, decode_int_cursor, encode_int_cursor, page, page_by_time
from ..transact import commits, writes
from . import people_schemas as s
from .common import now, sealer, writer
from .people_common import (
    STAFF,
    VOLUNTEER_PERSONAL,
    _hidden,
    _staff_covers,
    _staff_region,
    _status_json,
    _volunteer,
    _volunteer_full,
    _volunteer_public,
    check_id_agrees,
)

blp = Blueprint("people", __name__, url_prefix="/api/v1",
                description="Volunteers and elders: registration and sign-up, status, tags, relatives, training, "
                            "heirs, personal data.")


# --- sign-up and volunteers ---------------------------------------------------------------------

def _check_organisation(session: Session, body: dict[str, Any]) -> None:
    """A volunteer joins a team or brand of their own bank, or one above their region (a city-wide
    brand), so nobody appears among the students of a school far away. Raises InvalidInput."""
    org = session.get(Organisation, body["organisation_id"]) if body.get("organisation_id") else None
    if org is None:
        return  # none named, or the use case reports it unknown
    home, theirs = get_region(session, body["region_id"]), get_region(session, org.region_id)
    if covers(theirs, home):
        return
    try:
        same_bank = bank_of(session, theirs).id == bank_of(session, home).id
    except Refused:
        same_bank = False
    if not same_bank:
        raise InvalidInput("organisation_id must be a team or brand of your own time bank", field="organisation_id")


def _register_volunteer(session: Session, body: dict[str, Any]) -> Volunteer:
    check_id_agrees(body)
    _check_organisation(session, body)
    return people.register_volunteer(
        session, sealer(), region_id=body["region_id"], name=body["name"], sex=body["sex"],
        birth_date=body["birth_date"], id_number=body["id_number"], kind=body["kind"], phone=body["phone"],
        address=body.get("address"), organisation_id=body.get("organisation_id"), skills=body.get("skills"), at=now())


@blp.route("/sign-up", methods=["POST"])
@writes
@blp.doc(security=[])
@blp.arguments(s.SignUpBody)
@blp.response(201, s.SignUpOut)
def sign_up(body: dict[str, Any]) -> dict[str, Any]:
    """Register yourself as a volunteer (real name) with a username and password; starts a session.

    The volunteer and their user are made in one transaction: a refused username or password
    registers nothing. Refused to anyone already signed in (sign out first)."""
    if auth.caller() is not None:
        raise NotPermitted("you are signed in already; sign out before registering someone new")
    session = get_session()
    volunteer = _register_volunteer(session, body)
    user = users.create_user(session, username=body["username"], password=body["password"], role="volunteer",
                             subject_id=volunteer.id, at=now())
    users.record_access(session, user_id=user.id, action="change", subject_id=volunteer.id,
                        fields=VOLUNTEER_PERSONAL, at=now())
    return {"user": user, "volunteer": _volunteer_full(volunteer), "csrf_token": auth.start_session(user)}


@blp.route("/volunteers")
class Volunteers(MethodView):
    @commits
    @blp.arguments(s.VolunteerQuery, location="query")
    @blp.response(200, s.VolunteerPage)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Volunteers: staff see their subtree (with names, each read logged); a school sees its
        students (without personal data). Filters: region_id, status, kind."""
        who = auth.require(*STAFF, "school")
        session = get_session()
        select = sa.select(Volunteer)
        if who.is_staff:
            select = select.where(in_subtree(Volunteer.region_id, _staff_region(session, who, query["region_id"])))
        else:
            select = select.where(Volunteer.id.in_(schools.students_of(session, who.subject_id)))
            if query["region_id"]:
                select = select.where(in_subtree(Volunteer.region_id, get_region(session, query["region_id"])))
        for column in ("status", "kind"):
            if query[column]:
                select = select.where(getattr(Volunteer, column) == query[column])
        rows, cursor = page(session, select, Volunteer.id, limit=query["limit"], cursor=query["cursor"])
        items = []
        for v in rows:
            item = {**_volunteer_public(v), "region_id": v.region_id, "registered_at": v.registered_at}
            if who.is_staff:
                item["name"] = people.opened(sealer(), v)["name"]
                log_access(session, who, v.id, ["name"])
            items.append(item)
        return {"items": items, "next": cursor}

    @writes
    @blp.arguments(s.VolunteerBody)
    @blp.response(201, s.RegisteredVolunteerOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register a volunteer in your subtree (staff). The personal data sent is not echoed back."""
        who = auth.require(*STAFF)
        session = get_session()
        check_region(session, who, body["region_id"])
        volunteer = _register_volunteer(session, body)
        log_access(session, who, volunteer.id, VOLUNTEER_PERSONAL, action="change")
        return {**_volunteer_public(volunteer), "region_id": volunteer.region_id,
                "registered_at": volunteer.registered_at}


@blp.route("/volunteers/<volunteer_id>", methods=["GET"])
@commits
@blp.response(200, s.VolunteerOut)
def get_volunteer(volunteer_id: str) -> dict[str, Any]:
    """One volunteer. The volunteer themself and staff covering them see the personal data (the read
    is logged); their school sees only id, kind, organisation and status."""
    who = auth.require("volunteer", "school", *STAFF)
    session = get_session()
    volunteer = _volunteer(session, who, volunteer_id, self_=True, school=True)
    if who.role == "school":
        return _volunteer_public(volunteer)
    log_access(session, who, volunteer.id, VOLUNTEER_PERSONAL)
    return _volunteer_full(volunteer)


@blp.route("/volunteers/<volunteer_id>/status", methods=["POST"])
@writes
@blp.arguments(s.VolunteerStatusBody)
@blp.response(201, s.StatusChangeOut)
def set_volunteer_status(body: dict[str, Any], volunteer_id: str) -> dict[str, Any]:
    """Suspend, blacklist, reinstate or record the death of a volunteer (an administrator covering
    them). Suspending and blacklisting need a reason; the ledger holds only a commitment to it."""
    who = auth.require("administrator")
    session = get_session()
    volunteer = _volunteer(session, who, volunteer_id)
    change = people.set_status(session, writer(), subject_id=volunteer.id, status=body["status"],
                               reason=body.get("reason"), by=who.subject_id or who.user_id, at=now())
    return _status_json(change, session)


def _history(session: Session, subject_id: str, query: dict[str, Any]) -> dict[str, Any]:
    select = sa.select(StatusChange).where(StatusChange.subject_id == subject_id)
    rows, cursor = page_by_time(session, select, StatusChange.at, StatusChange.id, limit=query["limit"],
                                cursor=query["cursor"])
    return {"items": [_status_json(c, session, reason=True) for c in rows], "next": cursor}


@blp.route("/volunteers/<volunteer_id>/status-history", methods=["GET"])
@blp.arguments(PageQuery, location="query")
@blp.response(200, s.StatusHistoryPage)
def volunteer_status_history(query: dict[str, Any], volunteer_id: str) -> dict[str, Any]:
    """A volunteer's status changes, newest first, with reasons (staff covering them, the volunteer)."""
    who = auth.require("volunteer", *STAFF)
    session = get_session()
    return _history(session, _volunteer(session, who, volunteer_id, self_=True).id, query)


@blp.route("/volunteers/<volunteer_id>/trainings")
class Trainings(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, s.TrainingPage)
    def get(self, query: dict[str, Any], volunteer_id: str) -> dict[str, Any]:
        """A volunteer's training records, newest first (the volunteer, staff covering them)."""
        who = auth.require("volunteer", *STAFF)
        session = get_session()
        volunteer = _volunteer(session, who, volunteer_id, self_=True)
        select = sa.select(Training).where(Training.volunteer_id == volunteer.id)
        rows, cursor = page_by_time(session, select, Training.at, Training.id, limit=query["limit"],
                                    cursor=query["cursor"])
        return {"items": rows, "next": cursor}

    @writes
    @blp.arguments(s.TrainingBody)
    @blp.response(201, s.TrainingOut)
    def post(self, body: dict[str, Any], volunteer_id: str) -> Training:
        """Record a completed training (staff covering the volunteer); `certifies` names the
        catalogue items it qualifies them for."""
        who = auth.require(*STAFF)
        session = get_session()
        volunteer = _volunteer(session, who, volunteer_id)
        return people.add_training(session, volunteer_id=volunteer.id, course=body["course"],
                                   content=body.get("content"), study_minutes=body["study_minutes"],
                                   provider=body["provider"], completed_on=body["completed_on"],
                                   certifies=body["certifies"], recorded_by=who.subject_id or who.user_id, at=now())


# --- heirs and the access log -------------------------------------------------------------------

def _person(session: Session, who: Caller, person_id: str) -> Volunteer | Elder:
    """The person, if it is the caller or staff cover them. Raises NotFound."""
    found: Volunteer | Elder | None = session.get(Volunteer, person_id) or session.get(Elder, person_id)
    if found is not None and ((who.role in ("volunteer", "elder") and who.subject_id == found.id)
                              or _staff_covers(session, who, found.region_id)):
        return found
    raise _hidden("person", person_id)


@blp.route("/people/<person_id>/heir", methods=["PUT"])
@writes
@blp.arguments(s.HeirBody)
@blp.response(200, s.HeirOut)
def set_heir(body: dict[str, Any], person_id: str) -> dict[str, Any]:
    """Name (or, with null, clear) the registered person who inherits this person's credit (the
    person themself, or staff covering them)."""
    who = auth.require("volunteer", "elder", *STAFF)
    session = get_session()
    person = _person(session, who, person_id)
    changed = gifts.set_heir(session, person_id=person.id, heir_id=body["heir_id"])
    log_access(session, who, person.id, ["heir_id"], action="change")
    return {"person_id": changed.id, "heir_id": changed.heir_id}


@blp.route("/people/<person_id>/access-log", methods=["GET"])
@blp.arguments(PageQuery, location="query")
@blp.response(200, s.AccessPage)
def access_log(query: dict[str, Any], person_id: str) -> dict[str, Any]:
    """Who read or changed this person's personal data, newest first (the person themself, or an
    administrator covering them)."""
    who = auth.require("volunteer", "elder", "administrator")
    session = get_session()
    person = _person(session, who, person_id)
    select = sa.select(users.AccessRecord, users.User.role).join(
        users.User, users.User.id == users.AccessRecord.user_id, isouter=True).where(
        users.AccessRecord.subject_id == person.id)
    if query["cursor"]:
        select = select.where(users.AccessRecord.id < decode_int_cursor(query["cursor"]))
    rows = list(session.execute(select.order_by(users.AccessRecord.id.desc()).limit(query["limit"] + 1)))
    more, rows = len(rows) > query["limit"], rows[:query["limit"]]
    items = [{"id": r.id, "user_id": r.user_id, "role": role, "action": r.action, "fields_": list(r.fields),
              "at": r.at} for r, role in rows]
    return {"items": items, "next": encode_int_cursor(rows[-1][0].id) if more and rows else None}


