"""What the volunteer's pages share: the blueprint, the signed-in volunteer, hours said in words,
and a record's status as a badge."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from timebank.errors import NotPermitted
from timebank.people import Volunteer

from .. import auth
from ..db import get_session
from .views import check_csrf, signed_in

bp = Blueprint("volunteer", __name__)
bp.before_request(check_csrf)


@dataclass(frozen=True)
class Me:
    """The signed-in volunteer: who they are as a caller and as a registered volunteer."""

    who: auth.Caller
    volunteer: Volunteer
    session: Session


def me() -> Me:
    """The signed-in volunteer. Raises Unauthenticated (→ sign-in), NotPermitted (another role, or a
    volunteer user whose register row is gone)."""
    who = signed_in("volunteer")
    session = get_session()
    volunteer = session.get(Volunteer, who.subject_id) if who.subject_id else None
    if volunteer is None:
        raise NotPermitted("this user is not linked to a registered volunteer")
    return Me(who, volunteer, session)


def hours(minutes: int) -> str:
    """Minutes in words: "2 hours 30 minutes" (2小时30分钟), "45 minutes", "0 minutes"."""
    sign = "−" if minutes < 0 else ""
    h, m = divmod(abs(minutes), 60)
    if h and m:
        return sign + _("%(h)d hours %(m)d minutes", h=h, m=m)
    if h:
        return sign + _("%(h)d hours", h=h)
    return sign + _("%(m)d minutes", m=m)



# record status → (words, badge style)
STATUS_WORDS = {
    "submitted": (_l("Waiting for the elder to confirm"), "wait"),
    "confirmed": (_l("Confirmed, waiting for the coordinator"), "wait"),
    "posted": (_l("Verified: time credited"), "ok"),
    "disputed": (_l("Questioned by the elder"), "bad"),
    "rejected": (_l("Not accepted"), "bad"),
    "reversed": (_l("Cancelled"), "bad"),
}
PENDING = ("submitted", "confirmed", "disputed")


def status_badge(status: str) -> tuple[str, str]:
    words, style = STATUS_WORDS.get(status, (status, "wait"))
    return str(words), style
