"""The administrators' pages: the region dashboard, the policy editor with its preview, the
settlement report between banks, and downloads of the figures. An administrator sees and changes
only their own region's subtree (auth.Caller.region).

The routes live in admin_dashboard, admin_policy and admin_reports; this module holds the
blueprint and what they share: the region asked for, the period, hours as read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from timebank import regions
from timebank.checks import CHINA
from timebank.regions import Region

from .. import access, auth
from . import language, nav
from .forms import Form
from .views import check_csrf, signed_in

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(check_csrf)

nav.item(("administrator",), "admin.home", _l("Dashboard"))
nav.item(("administrator",), "admin.policy_page", _l("Rules (policy)"))
nav.item(("administrator",), "admin.settlement", _l("Settlement between banks"))

LONGEST_PERIOD = 731  # days a dashboard or report may cover


def administrator() -> auth.Caller:
    """The signed-in administrator (others: the sign-in page or 403)."""
    return signed_in("administrator")


def region_name(region: Region) -> str:
    return region.name_en if language.current() == "en" else region.name_zh


def subtree(session: Session, who: auth.Caller) -> list[Region]:
    """Every region the administrator covers, in tree order."""
    assert who.region is not None, "an administrator has a region"
    return list(session.scalars(sa.select(Region).where(regions.in_subtree(Region.id, who.region))
                                .order_by(Region.path)))


def region_options(session: Session, who: auth.Caller) -> list[tuple[str, str]]:
    """(id, name indented by depth) for a region picker."""
    top = len(who.region.ancestor_ids) if who.region else 0
    return [(r.id, "\u3000" * (len(r.ancestor_ids) - top) + region_name(r)) for r in subtree(session, who)]


def chosen_region(session: Session, who: auth.Caller, form: Form) -> Region:
    """The region in `form`'s "region" (default: the administrator's own); out of their subtree or
    unknown → NotFound (a 404 page)."""
    wanted = form.value("region").strip()
    if not wanted:
        assert who.region is not None
        return who.region
    return access.check_region(session, who, wanted[:40])


@dataclass(frozen=True)
class Period:
    """Days `first`–`last` (China time, both included) and their bounds in UTC."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return _midnight(self.first)

    @property
    def end(self) -> datetime:
        return _midnight(self.last + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), CHINA).astimezone(timezone.utc)


def today() -> date:
    return auth.now().astimezone(CHINA).date()


def period(form: Form, default_first: date) -> Period:
    """The period in `form`'s "from" and "to" (defaults: `default_first` to today); errors go on the form."""
    last = form.day("to", required=False) or today()
    first = form.day("from", required=False) or min(default_first, last)
    if first > last:
        form.error("to", _("The last day must not be before the first day."))
        return Period(min(default_first, today()), today())
    if (last - first).days + 1 > LONGEST_PERIOD:
        form.error("from", _("Please choose at most %(n)d days.", n=LONGEST_PERIOD))
        return Period(min(default_first, today()), today())
    return Period(first, last)


def hours(minutes: int) -> float:
    """Minutes as hours, to two places (what a download shows)."""
    return round(minutes / 60, 2)


def hours_text(minutes: int) -> str:
    """Minutes as hours as a reader reads them: "1.5 h" / "1.5 小时"."""
    number = f"{minutes / 60:,.1f}".rstrip("0").rstrip(".")
    return _("%(hours)s h", hours=number)


@bp.context_processor
def _shared() -> dict[str, Any]:
    return {"region_name": region_name}


def query_form() -> Form:
    return Form(request.args)


# the routes (imported last: they use the blueprint above)
from . import admin_dashboard, admin_policy, admin_reports  # noqa: E402,F401
