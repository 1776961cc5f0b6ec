"""Care-agreement compliance (关爱服务协议): this week's calls and visits against each agreement in the
coordinator's subtree, the ones behind first, and this month's visit rate."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import render_template
from flask_babel import lazy_gettext as _l

from timebank import care
from timebank.checks import china_date

from ..auth import now
from .coordinator_common import (
    MONTHS,
    Staffer,
    bp,
    name_of_person,
    staffer,
)
from .language import english
from .views import change

CARER_WORDS = {"volunteer": _l("Volunteer"), "relative": _l("Family member"), "neighbour": _l("Neighbour"),
               "grid_worker": _l("Grid worker")}


def this_week() -> date:
    """The Monday of this week, China time."""
    today = china_date(now())
    return today - timedelta(days=today.weekday())


def rows(me: Staffer) -> list[care.ComplianceRow]:
    """This week's compliance in the subtree, the most behind first."""
    return care.compliance(me.session, region_id=me.region.id, week_start=this_week(), at=now())


def behind(me: Staffer) -> int:
    return sum(1 for row in rows(me) if row.behind)


def _day(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]}" if english() else f"{day.month}月{day.day}日"


def _row(me: Staffer, row: care.ComplianceRow) -> dict[str, Any]:
    agreement = row.agreement
    carer = name_of_person(me, agreement.carer_id) if agreement.carer_kind == "volunteer" and agreement.carer_id \
        else None
    return {"elder": name_of_person(me, row.elder_id), "carer_kind": str(CARER_WORDS[agreement.carer_kind]),
            "carer": carer, "per_week": agreement.contacts_per_week, "required": row.required, "done": row.done,
            "missing": row.missing, "behind": row.behind}


@bp.get("/care")
def care_page() -> str:
    """The week's list (behind first, said in words and with a badge) and the month's visit rate."""
    me = staffer()
    monday = this_week()
    with change():  # the names shown are logged reads
        shown = [_row(me, row) for row in rows(me)]
        visited, elders = care.monthly_visit_rate(me.session, region_id=me.region.id, month=china_date(now()))
    return render_template("web/coordinator/care.html", rows=shown, behind=sum(1 for r in shown if r["behind"]),
                           week_from=_day(monday), week_to=_day(monday + timedelta(days=6)), visited=visited,
                           elders=elders, rate=round(100 * visited / elders) if elders else None)
