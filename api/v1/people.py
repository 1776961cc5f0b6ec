"""Volunteers and elders: registration and sign-up, status, tags, relatives, training, heirs, personal data."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from timebank import gifts, people, users
from timebank.errors import InvalidInput, NotFound, NotPermitted, Refused
from timebank.journal import Entry
from timebank.people import Elder, ElderTag, Relative, StatusChange, Training, Volunteer
from timebank.regions import Organisation, Region, bank_of, covers, get_region, in_subtree

from .. import auth
from ..access import check_region, log_access, proxied_elder
from ..auth import Caller
from ..db import get_session
from ..paging import PageQuery, decode_int_cursor, encode_int_cursor, page, page_by_time
from ..transact import commits, writes
from . import people_schemas as s
from .common import now, sealer, writer

blp = Blueprint("people", __name__, url_prefix="/api/v1",
                description="Volunteers and elders: registration and sign-up, status, tags, relatives, training, "
                            "heirs, personal data.")

STAFF = ("coordinator", "administrator")
View = TypeVar("View", bound=Callable[..., Any])


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
                              or (school and who.role == "school" and found.organisation_id == who.subject_id)):
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


def mask(name: str | None) -> str:
    """The family name and a star for every other character: 刘奶奶 → 刘**."""
    name = (name or "").strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else "*"


def check_id_agrees(body: dict[str, Any]) -> None:
    """A resident ID number (GB 11643) holds the birth date and, in its 17th digit, the sex (odd for
    men): they must agree with `birth_date` and `sex`. Raises InvalidInput naming id_number."""
    number = "".join(unicodedata.normalize("NFKC", body["id_number"]).split()).upper()
    if not (len(number) == 18 and number[:17].isdigit()):
        return  # another document: nothing to compare
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidInput("the ID number does not hold a real birth date", field="id_number") from None
    if born != body["birth_date"]:
        raise InvalidInput(f"the ID number says born {born.isoformat()}, not {body['birth_date'].isoformat()}; "
                           "please check both", field="id_number")
    if ("M" if int(number[16]) % 2 else "F") != body["sex"]:
        raise InvalidInput("the ID number's sex digit does not agree with sex; please check both", field="id_number")


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
            select = select.where(Volunteer.organisation_id == who.subject_id)
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


# --- elders -------------------------------------------------------------------------------------

@blp.route("/elders")
class Elders(MethodView):
    @commits
    @blp.arguments(s.ElderQuery, location="query")
    @blp.response(200, s.ElderPage)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Elders in your subtree (staff), with names and priority tags (each read logged).
        Filters: region_id, status, tag."""
        who = auth.require(*STAFF)
        session = get_session()
        select = sa.select(Elder).where(in_subtree(Elder.region_id, _staff_region(session, who, query["region_id"])))
        if query["status"]:
            select = select.where(Elder.status == query["status"])
        if query["tag"]:
            select = select.where(Elder.id.in_(sa.select(ElderTag.elder_id).where(
                ElderTag.tag == query["tag"], ElderTag.removed_at.is_(None))))
        rows, cursor = page(session, select, Elder.id, limit=query["limit"], cursor=query["cursor"])
        items = []
        for e in rows:
            items.append({**_elder_summary(e), "name": people.opened(sealer(), e)["name"],
                          "tags": people.current_tags(session, e.id)})
            log_access(session, who, e.id, ["name", "tags"])
        return {"items": items, "next": cursor}

    @writes
    @blp.arguments(s.ElderBody)
    @blp.response(201, s.ElderSummaryOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register an elder in your subtree (staff), with priority tags. Returns the short code for
        the elder's card; the personal data sent is not echoed back."""
        who = auth.require(*STAFF)
        session = get_session()
        check_region(session, who, body["region_id"])
        check_id_agrees(body)
        elder = people.register_elder(
            session, sealer(), region_id=body["region_id"], name=body["name"], sex=body["sex"],
            birth_date=body["birth_date"], id_number=body["id_number"], phone=body.get("phone"),
            address=body.get("address"), health=body.get("health"), tags=body["tags"],
            registered_by=who.subject_id or who.user_id, at=now())
        log_access(session, who, elder.id, ELDER_PERSONAL, action="change")
        return _elder_summary(elder)


@blp.route("/elders/<elder_id>", methods=["GET"])
@commits
@blp.response(200, s.ElderOut)
def get_elder(elder_id: str) -> dict[str, Any]:
    """One elder with personal data (the elder, their proxy, staff covering them; the read is logged)."""
    who = auth.require("elder", "proxy", *STAFF)
    session = get_session()
    elder = _elder(session, who, elder_id, self_=True, proxy=True)
    log_access(session, who, elder.id, ELDER_PERSONAL)
    return _elder_full(session, elder)


@blp.route("/elders/by-code/<short_code>", methods=["GET"])
@commits
@blp.response(200, s.ElderByCodeOut)
def elder_by_code(short_code: str) -> dict[str, Any]:
    """Find an elder by the code on their card, for the log-hours form: an active volunteer of the
    same bank as the elder, or staff covering them. Only a masked name is shown (the lookup is logged)."""
    who = auth.require("volunteer", *STAFF)
    session = get_session()
    code = short_code.strip().upper()
    if not (4 <= len(code) <= 8 and code.isascii() and code.isalnum()):
        raise ValidationError({"short_code": ["a short code is 6 letters and digits, as on the elder's card"]})
    try:
        elder = people.find_elder_by_code(session, code)
    except NotFound:
        raise _hidden("elder", code) from None
    if who.is_staff:
        if not _staff_covers(session, who, elder.region_id):
            raise _hidden("elder", code)
    else:
        volunteer = session.get(Volunteer, who.subject_id) if who.subject_id else None
        if volunteer is None or volunteer.status != "active":
            raise NotPermitted("only an active volunteer looks elders up; ask your coordinator")
        same_bank = bank_of(session, get_region(session, volunteer.region_id)).id == bank_of(
            session, get_region(session, elder.region_id)).id
        if not same_bank or elder.status != "active":
            raise _hidden("elder", code)
    log_access(session, who, elder.id, ["masked_name"])
    return {"id": elder.id, "short_code": elder.short_code, "region_id": elder.region_id,
            "masked_name": mask(people.opened(sealer(), elder)["name"])}


@blp.route("/elders/<elder_id>/status", methods=["POST"])
@writes
@blp.arguments(s.ElderStatusBody)
@blp.response(201, s.StatusChangeOut)
def set_elder_status(body: dict[str, Any], elder_id: str) -> dict[str, Any]:
    """Record that an elder moved away, died, or is active again (an administrator covering them)."""
    who = auth.require("administrator")
    session = get_session()
    elder = _elder(session, who, elder_id)
    change = people.set_status(session, writer(), subject_id=elder.id, status=body["status"],
                               reason=body.get("reason"), by=who.subject_id or who.user_id, at=now())
    return _status_json(change, session)


@blp.route("/elders/<elder_id>/tags", methods=["POST"])
@writes
@blp.arguments(s.TagBody)
@blp.response(201, s.TagOut)
def add_tag(body: dict[str, Any], elder_id: str) -> ElderTag:
    """Add a priority tag to an elder (staff covering them)."""
    who = auth.require(*STAFF)
    session = get_session()
    elder = _elder(session, who, elder_id)
    row = people.add_tag(session, elder_id=elder.id, tag=body["tag"], by=who.subject_id or who.user_id, at=now())
    log_access(session, who, elder.id, ["tags"], action="change")
    return row


@blp.route("/elders/<elder_id>/tags/<tag>", methods=["DELETE"])
@writes
@blp.response(200, s.TagOut)
def remove_tag(elder_id: str, tag: str) -> ElderTag:
    """End a priority tag (staff covering the elder); its history stays."""
    who = auth.require(*STAFF)
    session = get_session()
    elder = _elder(session, who, elder_id)
    if tag not in people.PRIORITY_TAGS:
        raise ValidationError({"tag": [f"must be one of {', '.join(people.PRIORITY_TAGS)}"]})
    row = people.remove_tag(session, elder_id=elder.id, tag=tag, by=who.subject_id or who.user_id, at=now())
    log_access(session, who, elder.id, ["tags"], action="change")
    return row


@blp.route("/elders/<elder_id>/tags/history", methods=["GET"])
@commits
@blp.arguments(PageQuery, location="query")
@blp.response(200, s.TagPage)
def tag_history(query: dict[str, Any], elder_id: str) -> dict[str, Any]:
    """Every priority tag an elder has had, newest first, with who added and removed it (staff)."""
    who = auth.require(*STAFF)
    session = get_session()
    elder = _elder(session, who, elder_id)
    select = sa.select(ElderTag).where(ElderTag.elder_id == elder.id)
    rows, cursor = page_by_time(session, select, ElderTag.added_at, ElderTag.id, limit=query["limit"],
                                cursor=query["cursor"])
    log_access(session, who, elder.id, ["tags"])
    return {"items": rows, "next": cursor}


@blp.route("/elders/<elder_id>/relatives")
class Relatives(MethodView):
    @commits
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, s.RelativePage)
    def get(self, query: dict[str, Any], elder_id: str) -> dict[str, Any]:
        """An elder's relatives and proxies with names and phones, newest first (staff covering the
        elder, the elder, their proxy; the read is logged)."""
        who = auth.require("elder", "proxy", *STAFF)
        session = get_session()
        elder = _elder(session, who, elder_id, self_=True, proxy=True)
        select = sa.select(Relative).where(Relative.elder_id == elder.id, Relative.removed_at.is_(None))
        rows, cursor = page_by_time(session, select, Relative.added_at, Relative.id, limit=query["limit"],
                                    cursor=query["cursor"])
        if rows:
            log_access(session, who, elder.id, ["relatives.name", "relatives.phone"])
        return {"items": [{**_relative_summary(r), **people.opened(sealer(), r)} for r in rows], "next": cursor}

    @writes
    @blp.arguments(s.RelativeBody)
    @blp.response(201, s.RelativeSummaryOut)
    def post(self, body: dict[str, Any], elder_id: str) -> dict[str, Any]:
        """Add a relative or proxy of an elder (staff covering the elder). `person_id` links a
        registered volunteer or elder (needed for gifts and inheritance). Name and phone are not
        echoed back."""
        who = auth.require(*STAFF)
        session = get_session()
        elder = _elder(session, who, elder_id)
        relative = people.add_relative(
            session, sealer(), elder_id=elder.id, relation=body["relation"], name=body["name"],
            phone=body.get("phone"), person_id=body.get("person_id"), same_household=body["same_household"],
            may_confirm=body["may_confirm"], may_redeem=body["may_redeem"], at=now())
        log_access(session, who, elder.id, ["relatives.name", "relatives.phone"], action="change")
        return _relative_summary(relative)


@blp.route("/elders/<elder_id>/relatives/<relative_id>", methods=["DELETE"])
@writes
@blp.response(204)
def remove_relative(elder_id: str, relative_id: str) -> None:
    """Remove a relative or proxy of an elder (staff covering the elder); they can no longer act for them."""
    who = auth.require(*STAFF)
    session = get_session()
    elder = _elder(session, who, elder_id)
    relative = session.get(Relative, relative_id)
    if relative is None or relative.elder_id != elder.id:
        raise _hidden("relative", relative_id)
    people.remove_relative(session, relative_id=relative.id, at=now())
    log_access(session, who, elder.id, ["relatives"], action="change")


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


