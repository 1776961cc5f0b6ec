"""What the coordinator's pages share: the blueprint, the signed-in staff member and their subtree,
names of people (each read logged), times and durations in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from timebank import people
from timebank.checks import CHINA
from timebank.errors import NotFound
from timebank.people import Elder, Volunteer
from timebank.regions import Region, in_subtree

from .. import access, auth, paging
from ..db import get_session
from .language import english, name_of
from .views import check_csrf, sealer, signed_in

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")
bp.before_request(check_csrf)

ROLES = ("coordinator", "administrator")  # administrators use these pages for their own subtree
PAGE_SIZE = 25
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Staffer:
    """The signed-in coordinator (or administrator): the caller, their staff id and subtree."""

    who: auth.Caller
    staff_id: str
    region: Region
    session: Session


def staffer() -> Staffer:
    """The signed-in staff member. Raises Unauthenticated (→ sign-in), NotPermitted (another role,
    or an inactive staff record)."""
    who = signed_in(*ROLES)
    assert who.region is not None and who.subject_id is not None  # auth.require refuses inactive staff
    return Staffer(who, who.subject_id, who.region, get_session())



def duration(minutes: int) -> str:
    """Minutes in words: "1 h 30 min" (1小时30分钟)."""
    h, m = divmod(minutes, 60)
    if h and m:
        return _("%(hours)d h %(minutes)d min", hours=h, minutes=m)
    if h:
        return _("%(hours)d h", hours=h)
    return _("%(minutes)d min", minutes=m)


def when(at: datetime | None) -> str:
    """A moment in China time, as people there read it: 11月25日 09:30 / 25 Nov 09:30."""
    if at is None:
        return ""
    local = at.astimezone(CHINA)
    if english():
        return f"{local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def name_of_person(me: Staffer, person_id: str, *, masked: bool = False) -> str:
    """A volunteer's or elder's name for staff covering them (the read logged); "—" when unknown."""
    person: Volunteer | Elder | None = me.session.get(Volunteer, person_id) or me.session.get(Elder, person_id)
    if person is None or not access.may_see_person(me.session, me.who, person):
        return "—"
    name = people.opened(sealer(), person)["name"] or "—"
    access.log_access(me.session, me.who, person.id, ["masked_name" if masked else "name"])
    return people.masked_name(name) if masked else name


def regions_below(me: Staffer) -> list[Region]:
    """The staff member's region and every region below it, in tree order."""
    return list(me.session.scalars(sa.select(Region).where(in_subtree(Region.id, me.region)).order_by(Region.path)))


def region_label(region: Region, by_id: dict[str, Region]) -> str:
    """A region's name with its parent's: 朝阳社区 · 海州区."""
    parent = by_id.get(region.parent_id or "")
    return f"{name_of(region)} · {name_of(parent)}" if parent is not None else name_of(region)


def page_of(session: Session, query: sa.Select, key: sa.ColumnElement[str], cursor: str | None
            ) -> tuple[list, str | None]:
    """A page of rows (newest id first) and the next page's cursor; a cursor that is not one of
    ours starts from the first page."""
    try:
        return paging.page(session, query, key, limit=PAGE_SIZE, cursor=cursor or None)
    except ValidationError:
        return paging.page(session, query, key, limit=PAGE_SIZE, cursor=None)


def hidden(kind: str, object_id: str) -> NotFound:
    """Out of scope is reported as not found, so ids cannot be probed."""
    return NotFound(f"no {kind} {object_id!r}", field=f"{kind}_id")
