"""The settlement report between banks (通存通兑) with its settle step, and the downloads (CSV and
XLSX) of the dashboard and of the settlement report."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from timebank import interbank, regions
from timebank.accounts import Account
from timebank.errors import DomainError, NotFound
from timebank.interbank import Position
from timebank.regions import Region

from .. import auth
from ..db import get_session
from .admin import Period, administrator, bp, period, query_form, region_name, today
from .admin_dashboard import Dashboard, dashboard_query
from .forms import Form
from .views import change, form_key, new_form_key, writer

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class PairView:
    """One pair of banks as the report shows it."""

    position: Position
    a: Region
    b: Region
    debtor: str | None
    creditor: str | None

    @property
    def open(self) -> bool:
        """Clearing balances remain to be settled."""
        return bool(self.position.a_owes_b_closing or self.position.b_owes_a_closing)


def positions(session: Session, who: auth.Caller, when: Period) -> list[PairView]:
    """The period's positions of the pairs with a bank in the administrator's subtree."""
    banks = {bank.id: bank for bank in regions.list_banks(session)}
    assert who.region is not None
    shown = []
    for p in interbank.settlement_report(session, start=when.start, end=when.end):
        a, b = banks.get(p.bank_a_id), banks.get(p.bank_b_id)
        if a is None or b is None or not (regions.covers(who.region, a) or regions.covers(who.region, b)):
            continue
        owes = p.owes()
        shown.append(PairView(p, a, b, region_name(banks[owes[0]]) if owes else None,
                              region_name(banks[owes[1]]) if owes else None))
    return shown


def _pair(session: Session, who: auth.Caller, form: Form) -> tuple[Region, Region]:
    """The two banks named in the form, one of them the administrator's; else NotFound."""
    assert who.region is not None
    found = []
    for name in ("bank_a", "bank_b"):
        region = session.get(Region, form.value(name)[:40])
        if region is None or not region.is_bank:
            raise NotFound("no such bank", field=name)
        found.append(region)
    a, b = found
    if a.id == b.id or not (regions.covers(who.region, a) or regions.covers(who.region, b)):
        raise NotFound("no such pair of banks", field="bank_b")
    return a, b


def _owed(session: Session, bank: Region, other: Region) -> int:
    """What `bank` owes `other` now: its clearing balance for it (0 when it never owed it)."""
    return int(session.scalar(sa.select(Account.balance).where(
        Account.bank_id == bank.id, Account.unit == "credit", Account.kind == "clearing",
        Account.owner_id == other.id)) or 0)


@bp.get("/settlement")
def settlement() -> tuple[str, int]:
    """What each pair of banks' members used in the other during a period, and what is left to settle."""
    who = administrator()
    form = query_form()
    when = period(form, today().replace(day=1))
    pairs = positions(get_session(), who, when)
    return render_template("web/admin/settlement.html", pairs=pairs, when=when, form=form), form.status


@bp.route("/settlement/settle", methods=["GET", "POST"])
def settle() -> Response | tuple[str, int]:
    """Confirm, then record that two banks settled off the ledger (both clearing balances retired)."""
    who = administrator()
    form = Form(request.form if request.method == "POST" else request.args)
    session = get_session()
    a, b = _pair(session, who, form)
    if request.method == "POST":
        try:
            with change() as writing:
                done = interbank.settle(writing, writer(), bank_a_id=a.id, bank_b_id=b.id,
                                        settled_by=who.subject_id or "", at=auth.now(), idempotency_key=form_key(who))
        except DomainError as exc:
            form.refuse(exc)
        else:
            flash(_("Settled: %(a)s and %(b)s owe each other nothing now (%(a_owed)d and %(b_owed)d minutes "
                    "were retired).", a=region_name(a), b=region_name(b), a_owed=done.a_owed, b_owed=done.b_owed),
                  "ok")
            return redirect(url_for("admin.settlement"))
    return render_template("web/admin/settle.html", a=a, b=b, a_owes=_owed(session, a, b),
                           b_owes=_owed(session, b, a), form=form,
                           key=form.value("form_key") or new_form_key()), form.status


# --- downloads ----------------------------------------------------------------------------------

def _dashboard_sheets(board: Dashboard) -> list[tuple[str, list[Sequence[Any]]]]:
    """(sheet name, rows) for the dashboard: a summary, then one sheet a chart."""
    summary: list[Sequence[Any]] = [(_("Area"), region_name(board.region)),
                                    (_("First day"), board.period.first.isoformat()),
                                    (_("Last day"), board.period.last.isoformat()), *board.facts]
    return [("summary", summary)] + [(view.id, [(view.title,), tuple(view.headers), *view.rows])
                                     for view in board.charts]


def _settlement_rows(pairs: list[PairView]) -> list[Sequence[Any]]:
    rows: list[Sequence[Any]] = [(_("Bank A"), _("Bank B"), _("A's members used in B (minutes)"),
                                  _("B's members used in A (minutes)"), _("Net (minutes)"), _("Owes"), _("Is owed"),
                                  _("A owes B at the end (minutes)"), _("B owes A at the end (minutes)"),
                                  _("Reconciled"))]
    for pair in pairs:
        p = pair.position
        rows.append((region_name(pair.a), region_name(pair.b), p.a_to_b, p.b_to_a, abs(p.net), pair.debtor or "",
                     pair.creditor or "", p.a_owes_b_closing, p.b_owes_a_closing,
                     _("yes") if p.reconciled else _("no")))
    return rows


def _csv(blocks: list[list[Sequence[Any]]]) -> bytes:
    out = io.StringIO()
    table = csv.writer(out)
    for i, rows in enumerate(blocks):
        if i:
            table.writerow([])
        table.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the mark tells Excel the file is UTF-8


def _xlsx(sheets: list[tuple[str, list[Sequence[Any]]]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets:
        sheet = book.create_sheet(name[:31])
        for row in rows:
            sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _download(body: bytes, content_type: str, filename: str) -> Response:
    response = Response(body, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _board() -> tuple[Dashboard, str]:
    who = administrator()
    board = dashboard_query(get_session(), who, query_form())
    return board, f"dashboard-{board.region.id}-{board.period.first:%Y%m%d}-{board.period.last:%Y%m%d}"


@bp.get("/dashboard.csv")
def dashboard_csv() -> Response:
    board, name = _board()
    return _download(_csv([rows for _, rows in _dashboard_sheets(board)]), CSV, f"{name}.csv")


@bp.get("/dashboard.xlsx")
def dashboard_xlsx() -> Response:
    board, name = _board()
    return _download(_xlsx(_dashboard_sheets(board)), XLSX, f"{name}.xlsx")


def _settlement() -> tuple[list[Sequence[Any]], str]:
    who = administrator()
    when = period(query_form(), today().replace(day=1))
    return (_settlement_rows(positions(get_session(), who, when)),
            f"settlement-{when.first:%Y%m%d}-{when.last:%Y%m%d}")


@bp.get("/settlement.csv")
def settlement_csv() -> Response:
    rows, name = _settlement()
    return _download(_csv([rows]), CSV, f"{name}.csv")


@bp.get("/settlement.xlsx")
def settlement_xlsx() -> Response:
    rows, name = _settlement()
    return _download(_xlsx([("settlement", rows)]), XLSX, f"{name}.xlsx")
