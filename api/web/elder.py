"""The elder's pages, and their family member's (a proxy acts for their elder): the time they hold,
services given to them and waiting for their word, asking for a service paid with their time, and
cancelling such a request. One thing a page, big buttons, plain words."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from timebank import catalogue, people, records_confirm, redemption, regions
from timebank.accounts import Account
from timebank.errors import DomainError, NotFound
from timebank.records import ServiceRecord
from timebank.redemption import Redemption

from .. import access, auth
from ..db import get_session
from . import language, nav
from .confirm import ServiceView, local, service_name, view_of
from .explain import explain
from .forms import Form
from .views import change, form_key, new_form_key, signed_in, writer

bp = Blueprint("elder", __name__, url_prefix="/elder")

ROLES = ("elder", "proxy")
RECENT = 10
nav.item(ROLES, "elder.home", _l("My time"))
nav.item(ROLES, "elder.ask", _l("Ask for a service"))
nav.item(ROLES, "elder.requests", _l("My requests"))


@dataclass(frozen=True)
class Balance:
    credit_minutes: int
    held_minutes: int


@dataclass(frozen=True)
class RequestView:
    id: str
    service: str
    minutes: int
    credit_minutes: int
    status: str
    day: str


def _elder_of(db: Session, who: auth.Caller) -> people.Elder:
    """The elder the caller is, or acts for (a proxy). Raises NotFound when there is none."""
    elder_id = who.subject_id if who.role == "elder" else access.proxied_elder(db, who)
    if not elder_id:
        raise NotFound("no elder to act for", field="elder_id")
    return people.get_elder(db, elder_id)


def _balance(db: Session, person_id: str) -> Balance:
    """Credit on the person's accounts, and how much of it requests hold (as /api/v1 balance counts)."""
    credit = db.scalar(sa.select(sa.func.coalesce(sa.func.sum(Account.balance), 0)).where(
        Account.kind == "person", Account.owner_id == person_id, Account.unit == "credit"))
    held = db.scalar(sa.select(sa.func.coalesce(sa.func.sum(Redemption.credit_minutes), 0)).where(
        Redemption.redeemer_id == person_id, Redemption.status == "requested"))
    return Balance(int(credit or 0), int(held or 0))


def _records(db: Session, elder_id: str, *, waiting: bool) -> list[ServiceView]:
    select = sa.select(ServiceRecord).where(ServiceRecord.elder_id == elder_id)
    select = select.where(ServiceRecord.status == "submitted") if waiting else \
        select.where(ServiceRecord.status != "submitted")
    rows = db.scalars(select.order_by(ServiceRecord.started_at.desc()).limit(RECENT))
    return [view_of(db, r, language.current(), personal=waiting) for r in rows]


def _requests(db: Session, elder_id: str) -> list[RequestView]:
    rows = db.scalars(sa.select(Redemption).where(Redemption.redeemer_id == elder_id)
                      .order_by(Redemption.requested_at.desc()).limit(50))
    return [RequestView(r.id, service_name(db, r.catalogue_code, language.current()), r.minutes, r.credit_minutes,
                        r.status, local(r.requested_at).date().isoformat()) for r in rows]


def _mine(db: Session, who: auth.Caller, redemption_id: str) -> Redemption:
    """The elder's own request; NotFound for any other."""
    found = db.get(Redemption, redemption_id[:40])
    if found is None or found.redeemer_id != _elder_of(db, who).id:
        raise NotFound(f"no redemption {redemption_id!r}", field="redemption_id")
    return found


# -- pages -------------------------------------------------------------------------------------


@bp.get("")
def home() -> str:
    """My time: the balance, big; services waiting for my word; services given to me."""
    who = signed_in(*ROLES)
    db = get_session()
    elder = _elder_of(db, who)
    waiting = _records(db, elder.id, waiting=True)
    if waiting:  # the place of a service is the elder's personal data
        access.log_access(db, who, elder.id, ["place"])
        db.commit()
    return render_template("web/elder/home.html", who=who, balance=_balance(db, elder.id), waiting=waiting,
                           recent=_records(db, elder.id, waiting=False), may_confirm=who.role == "proxy")


@bp.post("/records/<record_id>/confirm")
def confirm(record_id: str) -> Response:
    """A family member confirms a service for their elder, with one click."""
    who = signed_in("proxy")
    try:
        with change() as db:
            record = db.get(ServiceRecord, record_id[:40])
            if record is None or record.elder_id != _elder_of(db, who).id:
                raise NotFound(f"no service record {record_id!r}", field="record_id")
            records_confirm.confirm_as_proxy(db, writer(), record_id=record.id,
                                             relative_id=who.subject_id or "", at=auth.now())
    except NotFound:
        raise
    except DomainError as exc:
        flash(explain(exc), "error")
    else:
        flash(_("Thank you. The service is confirmed."), "ok")
    return redirect(url_for("elder.home"))


@bp.route("/ask", methods=["GET", "POST"])
def ask() -> tuple[str, int] | Response:
    """Ask for a service, paid with my time: which service, and for how long."""
    who = signed_in(*ROLES)
    db = get_session()
    elder = _elder_of(db, who)
    region = regions.get_region(db, elder.region_id)
    items = [i for i in catalogue.items_for(db, region) if i.weight_pct > 0 or i.price_minutes]
    options = [(i.code, i.name("en" if language.current() == "en" else "zh")) for i in items]
    form = Form(request.form if request.method == "POST" else {"minutes": "60", "form_key": new_form_key()})
    if request.method == "POST":
        code = form.choice("service", [code for code, _name in options])
        minutes = form.integer("minutes", low=1, high=redemption.MAX_MINUTES)
        if form.ok:
            try:
                with change() as tx:
                    redemption.request_redemption(
                        tx, writer(), redeemer_id=elder.id,
                        catalogue_code=code or "", minutes=minutes or 0, region_id=region.id,
                        requested_by=who.subject_id or who.user_id, at=auth.now(), idempotency_key=form_key(who))
            except DomainError as exc:
                form.refuse(exc, fields={"catalogue_code": "service", "minutes": "minutes"})
            else:
                flash(_("Your request is sent. The time for it is set aside until the service is given."), "ok")
                return redirect(url_for("elder.requests"))
    return render_template("web/elder/ask.html", form=form, options=options,
                           balance=_balance(db, elder.id)), form.status


@bp.get("/requests")
def requests() -> str:
    """My requests for services, newest first, each with its state."""
    who = signed_in(*ROLES)
    db = get_session()
    elder = _elder_of(db, who)
    return render_template("web/elder/requests.html", items=_requests(db, elder.id),
                           balance=_balance(db, elder.id))


@bp.route("/requests/<redemption_id>/cancel", methods=["GET", "POST"])
def cancel(redemption_id: str) -> tuple[str, int] | Response:
    """Cancel one request: are you sure? Then the time set aside comes back."""
    who = signed_in(*ROLES)
    db = get_session()
    found = _mine(db, who, redemption_id)
    form = Form(request.form if request.method == "POST" else {"form_key": new_form_key()})
    if request.method == "POST":
        try:
            with change() as tx:
                redemption.cancel_redemption(tx, writer(), redemption_id=found.id,
                                             cancelled_by=who.subject_id or "", at=auth.now(),
                                             idempotency_key=form_key(who))
        except DomainError as exc:
            form.refuse(exc)
        else:
            flash(_("The request is cancelled. The time set aside is yours again."), "ok")
            return redirect(url_for("elder.requests"))
    shown = RequestView(found.id, service_name(db, found.catalogue_code, language.current()), found.minutes,
                        found.credit_minutes, found.status, local(found.requested_at).date().isoformat())
    return render_template("web/elder/cancel.html", form=form, item=shown), form.status


@bp.app_template_filter("hours")
def hours(minutes: int) -> str:
    """Minutes of time as people say it: `2 小时 30 分钟` / `2 h 30 min`."""
    whole, rest = divmod(int(minutes), 60)
    if not whole:
        return _("%(m)s minutes", m=rest)
    if not rest:
        return _("%(h)s hours", h=whole)
    return _("%(h)s hours %(m)s minutes", h=whole, m=rest)
