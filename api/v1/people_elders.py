"""Elders: registration, the short-code lookup, status, priority tags and relatives."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from marshmallow import ValidationError

from timebank import people
from timebank.errors import NotFound, NotPermitted
from timebank.people import Elder, ElderTag, Relative, Volunteer
from timebank.regions import bank_of, get_region, in_subtree

from .. import auth
from ..access import check_region, log_access
from ..db import get_session
from ..paging import PageQuery, page, page_by_time
from ..transact import commits, writes
from . import people_schemas as s
from .common import now, sealer, writer
from .people import blp
from .people_common import (
    ELDER_PERSONAL,
    STAFF,
    _elder,
    _elder_full,
    _elder_summary,
    _hidden,
    _relative_summary,
    _staff_covers,
    _staff_region,
    _status_json,
    check_id_agrees,
)


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
            "masked_name": people.masked_name(people.opened(sealer(), elder)["name"])}


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


