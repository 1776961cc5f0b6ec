"""Recognition: star ratings and other schemes by verified hours, levels reached once, awards, leaderboards."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from timebank import journal, recognition, regions
from timebank.checks import china_date
from timebank.errors import NotFound, NotPermitted
from timebank.people import Volunteer
from timebank.recognition import Award, LevelReached, Scheme

from .. import access, auth
from ..db import get_session
from ..paging import page
from ..transact import writes
from .common import now, sealer, writer
from .recognition_schemas import (
    AwardBody,
    AwardOut,
    EvaluateOut,
    LeaderboardBody,
    LeaderboardOut,
    LeaderboardPage,
    LeaderboardQuery,
    RecognitionOut,
    SchemeBody,
    SchemeOut,
    SchemePage,
    SchemeQuery,
)

blp = Blueprint("recognition", __name__, url_prefix="/api/v1",
                description="Recognition: star ratings and other schemes by verified hours, levels reached "
                            "recorded once, awards and honours, leaderboards.")


def _receipt(session: Session, entry_id: str | None) -> dict[str, Any] | None:
    entry = session.get(journal.Entry, entry_id) if entry_id else None
    return entry.receipt() if entry is not None else None


def _reached(session: Session, row: LevelReached, held: bool) -> dict[str, Any]:
    scheme = session.get(Scheme, row.scheme_id)
    return {"id": row.id, "scheme": scheme.code if scheme else None, "level": row.level,
            "period": row.period or None, "hours": row.hours, "minutes": row.minutes,
            "at": row.at, "held": held, "receipt": _receipt(session, row.entry_id)}


def _award(session: Session, award: Award) -> dict[str, Any]:
    return {"id": award.id, "volunteer_id": award.volunteer_id, "kind": award.kind, "name": award.name,
            "granting_unit": award.granting_unit, "granted_on": award.granted_on,
            "receipt": _receipt(session, award.entry_id)}


def _volunteer(session: Session, who: auth.Caller, volunteer_id: str, *, staff: tuple[str, ...]) -> Volunteer:
    """The volunteer, for themselves or for staff of the roles `staff` covering them; others in
    scope get 403, everyone else 404. Raises NotFound, NotPermitted."""
    person = access.check_person(session, who, volunteer_id)
    if not isinstance(person, Volunteer):
        raise NotFound(f"no volunteer {volunteer_id!r}", field="volunteer_id")
    if who.subject_id == person.id or who.role in staff:
        return person
    if who.is_staff:
        raise NotPermitted(f"this needs one of the roles {', '.join(staff)} or the volunteer")
    raise NotFound(f"no volunteer {volunteer_id!r}", field="volunteer_id")


# --- schemes ------------------------------------------------------------------------------------

@blp.route("/recognition/schemes", methods=["GET"])
@blp.arguments(SchemeQuery, location="query")
@blp.response(200, SchemePage)
def list_schemes(query: dict[str, Any]) -> dict[str, Any]:
    """Every recognition scheme (any signed-in user): the national star rating and local and annual
    schemes; with `region_id`, those that apply to volunteers there."""
    auth.require()
    session = get_session()
    recognition.ensure_national_schemes(session, now())
    select = sa.select(Scheme)
    if query["region_id"]:
        region = regions.get_region(session, query["region_id"])
        select = select.where(sa.or_(Scheme.region_id.is_(None), Scheme.region_id.in_(region.ancestor_ids)))
    rows, following = page(session, select, Scheme.id, limit=query["limit"], cursor=query["cursor"])
    return {"items": rows, "next": following}


@blp.route("/recognition/schemes", methods=["POST"])
@writes
@blp.arguments(SchemeBody)
@blp.response(201, SchemeOut)
def create_scheme(body: dict[str, Any]) -> Scheme:
    """A local or annual scheme for a region of the administrator's subtree (administrators)."""
    who = auth.require("administrator")
    session = get_session()
    region = access.check_region(session, who, body["region_id"])
    return recognition.create_scheme(session, region_id=region.id, code=body["code"], name_zh=body["name_zh"],
                                     name_en=body["name_en"], kind=body["kind"], levels=body["levels"],
                                     by=who.subject_id, at=now())


# --- a volunteer's recognition ------------------------------------------------------------------

@blp.route("/volunteers/<volunteer_id>/recognition", methods=["GET"])
@blp.response(200, RecognitionOut)
def volunteer_recognition(volunteer_id: str) -> dict[str, Any]:
    """Levels reached, the current standing per scheme and awards (the volunteer, staff covering them)."""
    who = auth.require()
    session = get_session()
    volunteer = _volunteer(session, who, volunteer_id, staff=auth.STAFF_ROLES)
    schemes = [{"scheme": s["scheme"], "period": s["period"], "minutes": s["minutes"],
                "current_level": s["current"], "next_level": s["next"],
                "reached": [_reached(session, r["row"], r["held"]) for r in s["reached"]]}
               for s in recognition.standing(session, volunteer_id=volunteer.id, at=now())]
    return {"volunteer_id": volunteer.id, "schemes": schemes,
            "awards": [_award(session, a) for a in recognition.awards_of(session, volunteer.id)]}


@blp.route("/volunteers/<volunteer_id>/recognition/evaluate", methods=["POST"])
@writes
@blp.response(200, EvaluateOut)
def evaluate(volunteer_id: str) -> dict[str, Any]:
    """Record the levels the volunteer has newly reached, each once with a ledger entry (the
    volunteer, staff covering them)."""
    who = auth.require()
    session = get_session()
    volunteer = _volunteer(session, who, volunteer_id, staff=auth.STAFF_ROLES)
    made = recognition.evaluate(session, writer(), volunteer_id=volunteer.id, at=now())
    return {"volunteer_id": volunteer.id, "reached": [_reached(session, row, True) for row in made]}


@blp.route("/volunteers/<volunteer_id>/awards", methods=["POST"])
@writes
@blp.arguments(AwardBody)
@blp.response(201, AwardOut)
def grant_award(body: dict[str, Any], volunteer_id: str) -> dict[str, Any]:
    """Record an award or honour with its granting unit (administrators covering the volunteer)."""
    who = auth.require()
    session = get_session()
    volunteer = _volunteer(session, who, volunteer_id, staff=("administrator",))
    if who.role != "administrator":
        raise NotPermitted("only an administrator records awards and honours")
    award = recognition.grant_award(session, writer(), volunteer_id=volunteer.id, name=body["name"],
                                    granting_unit=body["granting_unit"], granted_on=body["granted_on"],
                                    kind=body["kind"], by=who.subject_id or "", at=now())
    return _award(session, award)


@blp.route("/volunteers/<volunteer_id>/leaderboard", methods=["PUT"])
@writes
@blp.arguments(LeaderboardBody)
@blp.response(200, LeaderboardOut)
def leaderboard_opt_in(body: dict[str, Any], volunteer_id: str) -> dict[str, Any]:
    """Opt in to (under a display name, or the masked name) or out of leaderboards (the volunteer)."""
    who = auth.require()
    session = get_session()
    volunteer = _volunteer(session, who, volunteer_id, staff=())
    row = recognition.set_leaderboard_opt_in(session, sealer(), volunteer_id=volunteer.id, on=body["on"],
                                             display_name=body["display_name"], at=now())
    return {"volunteer_id": volunteer.id, "on": row.opted_in, "display_name": row.display_name}


@blp.route("/regions/<region_id>/leaderboard", methods=["GET"])
@blp.arguments(LeaderboardQuery, location="query")
@blp.response(200, LeaderboardPage)
def leaderboard(query: dict[str, Any], region_id: str) -> dict[str, Any]:
    """Opted-in volunteers of the region's subtree by verified service minutes in the period
    (any signed-in user): rank, display name and minutes only."""
    auth.require()
    session = get_session()
    today = china_date(now())
    end = query["end"] or today
    start = query["start"] or date(end.year, 1, 1)
    rows = recognition.leaderboard(session, region_id=region_id, start=start, end=end, limit=query["limit"])
    return {"region_id": region_id, "start": start, "end": end, "items": rows}
