"""The administrator's start page: the region dashboard, each chart drawn as inline SVG with a
title, a description in words and its data as a table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from timebank import care, catalogue, stats
from timebank.regions import Region, children

from .. import auth, dashboard_charts
from ..db import get_session
from . import language
from .admin import (
    Period,
    administrator,
    bp,
    chosen_region,
    hours,
    hours_text,
    period,
    query_form,
    region_name,
    region_options,
    today,
)
from .forms import Form

WEEKLY_UP_TO = 26 * 7  # days: longer periods are drawn by month
VISIT_MONTHS = 12


@dataclass(frozen=True)
class ChartView:
    """One chart as the page shows it and a download lists it: the drawing, its words, its table.
    `rows` hold the label then numbers (ints, or hours as floats)."""

    id: str
    kind: str  # "bar" or "line"
    title: str
    desc: str
    chart: Any
    headers: Sequence[str]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass(frozen=True)
class Dashboard:
    region: Region
    period: Period
    charts: list[ChartView]
    facts: list[tuple[str, str]]


def _day(day: date) -> str:
    return day.strftime("%Y-%m-%d")


def _bar(id: str, title: str, items: list[tuple[str, int]], headers: Sequence[str],
         rows: list[tuple[Any, ...]], nothing: str, text: Any = hours_text) -> ChartView:
    chart = dashboard_charts.bar_chart(items, text)
    if chart.empty:
        desc = nothing
    else:
        label, value = max(items, key=lambda item: item[1])
        desc = _("%(n)d rows. The largest is %(label)s: %(value)s.", n=len(items), label=label, value=text(value))
    return ChartView(id, "bar", title, desc, chart, headers, rows)


def _over_time(session: Session, region: Region, when: Period) -> ChartView:
    bucket = "week" if when.days <= WEEKLY_UP_TO else "month"
    series = stats.credit_by_period(session, region_id=region.id, start=when.start, end=when.end, bucket=bucket)
    label = (lambda d: d.strftime("%m-%d")) if bucket == "week" else (lambda d: d.strftime("%Y-%m"))
    items = [(label(first), minutes) for first, minutes in series]
    chart = dashboard_charts.line_chart(items, hours_text)
    total = sum(minutes for _, minutes in series)
    most_at, most = max(series, key=lambda row: row[1])
    if bucket == "week":
        title = _("Hours credited each week")
        desc = _("From %(first)s to %(last)s, %(total)s were credited in all; the most in one week was %(most)s "
                 "(the week from %(when)s).", first=_day(when.first), last=_day(when.last), total=hours_text(total),
                 most=hours_text(most), when=_day(most_at))
        headers = (_("Week from"), _("Hours"), _("Minutes"))
    else:
        title = _("Hours credited each month")
        desc = _("From %(first)s to %(last)s, %(total)s were credited in all; the most in one month was %(most)s "
                 "(%(when)s).", first=_day(when.first), last=_day(when.last), total=hours_text(total),
                 most=hours_text(most), when=most_at.strftime("%Y-%m"))
        headers = (_("Month"), _("Hours"), _("Minutes"))
    rows = [(_day(first) if bucket == "week" else first.strftime("%Y-%m"), hours(m), m) for first, m in series]
    return ChartView("hours-over-time", "line", title, desc, chart, headers, rows)


def _by_service(session: Session, region: Region, figures: stats.RegionStats) -> ChartView:
    lang = "en" if language.current() == "en" else "zh"
    names = {item.code: item.name(lang) for item in catalogue.items_for(session, region)}
    ranked = sorted(figures.deposited_by_catalogue.items(), key=lambda kv: (-kv[1], kv[0]))
    items = [(names.get(code, code), minutes) for code, minutes in ranked]
    rows = [(names.get(code, code), hours(minutes), minutes) for code, minutes in ranked]
    return _bar("hours-by-service", _("Hours credited by service"), items, (_("Service"), _("Hours"), _("Minutes")),
                rows, _("No hours were credited in this period."))


def _by_region(session: Session, region: Region, when: Period) -> ChartView:
    series = stats.credit_by_child_region(session, region_id=region.id, start=when.start, end=when.end)
    items = [(_place(region, r), minutes) for r, minutes in series]
    rows = [(label, hours(minutes), minutes) for label, minutes in items]
    return _bar("hours-by-region", _("Hours credited by area"), items, (_("Area"), _("Hours"), _("Minutes")), rows,
                _("No hours were credited in this period."))


def _place(top: Region, region: Region) -> str:
    """A child region by name; the region itself as "directly in" it."""
    return _("Directly in %(name)s", name=region_name(region)) if region.id == top.id else region_name(region)


def _outstanding(session: Session, region: Region) -> tuple[ChartView, int]:
    """Credit held by the people of each child area (and directly in the region): what the banks owe."""
    total = stats.outstanding(session, region)
    kids = [(kid, stats.outstanding(session, kid)) for kid in children(session, region)]
    series = [(region, total - sum(m for _, m in kids)), *sorted(kids, key=lambda kv: kv[0].path)]
    items = [(_place(region, r), minutes) for r, minutes in series]
    rows = [(label, hours(minutes), minutes) for label, minutes in items]
    view = _bar("outstanding-credit", _("Credit held by people, by area"), items,
                (_("Area"), _("Hours"), _("Minutes")), rows, _("Nobody in this area holds credit yet."))
    return view, total


def _visits(session: Session, region: Region, when: Period) -> ChartView:
    """Of the elders with a care agreement each month, the share visited at least once."""
    months: list[date] = []
    month = when.last.replace(day=1)
    while month >= when.first.replace(day=1) and len(months) < VISIT_MONTHS:
        months.insert(0, month)
        month = (month - timedelta(days=1)).replace(day=1)
    items, rows = [], []
    for first in months:
        visited, elders = care.monthly_visit_rate(session, region_id=region.id, month=first)
        percent = visited * 100 // elders if elders else 0
        items.append((first.strftime("%Y-%m"), percent))
        rows.append((first.strftime("%Y-%m"), visited, elders, percent))

    def said(percent: int) -> str:
        return f"{percent}%"

    view = _bar("visit-compliance", _("Elders with a care agreement who were visited, by month"), items,
                (_("Month"), _("Visited"), _("With an agreement"), _("Percent")), rows,
                _("No elder was visited under a care agreement in this period."), text=said)
    return view


def dashboard(session: Session, region: Region, when: Period) -> Dashboard:
    """Every figure of the dashboard for `region`'s subtree and the period."""
    at = auth.now()
    figures = stats.region_statistics(session, region_id=region.id, start=when.start, end=when.end, at=at)
    outstanding, held = _outstanding(session, region)
    facts = [(_("Hours credited"), hours_text(figures.deposited_minutes)),
             (_("Records verified"), str(figures.records_posted)),
             (_("Credit held by people now"), hours_text(held)),
             (_("Hours used for care"), hours_text(figures.redeemed_minutes)),
             (_("Care agreements in force this week"), str(figures.agreements)),
             (_("Behind this week"), str(figures.agreements_behind))]
    charts = [_over_time(session, region, when), _by_service(session, region, figures),
              _by_region(session, region, when), outstanding, _visits(session, region, when)]
    return Dashboard(region, when, charts, facts)


def dashboard_query(session: Session, who: auth.Caller, form: Form) -> Dashboard:
    """The dashboard the query string asks for (default: the last twelve weeks)."""
    region = chosen_region(session, who, form)
    default_first = today() - timedelta(days=today().weekday() + 11 * 7)
    return dashboard(session, region, period(form, default_first))


@bp.get("")
def home() -> tuple[str, int]:
    """The region dashboard."""
    who = administrator()
    session = get_session()
    form = query_form()
    board = dashboard_query(session, who, form)
    return render_template("web/admin/home.html", board=board, form=form,
                           regions=region_options(session, who)), form.status
