"""Confirming a service with the elder's one-time code, no account needed: the link (or QR code) a
volunteer's page gives after logging hours, or the record number and code typed in by hand.

The service is shown only once the code checks out, so a guessed record id reveals nothing; every
wrong code counts toward the record's attempt limit, whether it is checked to show the page or to
confirm. Whoever confirmed with the code may then rate the service and complain, as the elder: this
browser session remembers the records it confirmed (or found wrong) for that."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from timebank import people, records_confirm, records_feedback, records_review
from timebank.catalogue import CatalogueItem
from timebank.checks import CHINA
from timebank.errors import Conflict, DomainError, InvalidInput, NotFound, Refused
from timebank.records import ServiceRecord, get_record, opened, policy_of
from timebank.records_confirm import WrongCode

from .. import auth
from . import language
from .forms import Form
from .views import change, check_csrf, sealer, writer

bp = Blueprint("confirm", __name__)
bp.before_request(check_csrf)

SESSION_KEY = "confirmed_by_code"  # record ids this browser confirmed or disputed with their code
REMEMBERED = 20
RECORD_ID_LIMIT = 40
STARS = ("1", "2", "3", "4", "5")


@dataclass(frozen=True)
class ServiceView:
    """What the elder is asked to confirm: no ids of people, the volunteer's name masked."""

    record_id: str
    service: str
    day: str
    start: str
    end: str
    minutes: int
    volunteer: str
    place: str | None
    status: str
    rating: int | None


def local(at: datetime) -> datetime:
    """A stored UTC time in China time, as the elder lived it."""
    return at.astimezone(CHINA)


def service_name(db: Session, code: str, lang: str) -> str:
    item = db.get(CatalogueItem, code)
    return item.name("en" if lang == "en" else "zh") if item is not None else code


def view_of(db: Session, record: ServiceRecord, lang: str, *, personal: bool) -> ServiceView:
    """`record` as the pages show it; the place and the volunteer's masked name only when `personal`."""
    start, end = local(record.started_at), local(record.ended_at)
    volunteer = place = None
    if personal:
        name = people.opened(sealer(), people.get_volunteer(db, record.volunteer_id))
        volunteer = people.masked_name(name.get("name"))
        place = opened(sealer(), record).get("place")
    return ServiceView(record.id, service_name(db, record.catalogue_code, lang), start.date().isoformat(),
                       f"{start:%H:%M}", f"{end:%H:%M}", record.minutes, volunteer or "", place, record.status,
                       record.rating)


# -- the code ----------------------------------------------------------------------------------


def _checked(db: Session, record_id: str, code: str) -> ServiceRecord:
    """The record whose live code this is, without confirming it (a wrong code is counted)."""
    record, _bank, _version = records_confirm.check_code(db, record_id=record_id, code=code, at=auth.now())
    return record


def _wrong(form: Form, exc: DomainError) -> None:
    """A refusal of the code on the form: an unknown record and a wrong code read the same."""
    if isinstance(exc, (NotFound, WrongCode)):
        form.error("code", _("The record number or the code is wrong. Please check both and try again."))
    elif isinstance(exc, InvalidInput):
        form.error("code", _("The code is 6 digits. Please check it and type it again."))
    elif isinstance(exc, Conflict):
        form.error("", _("This service is already confirmed or closed. Nothing more is needed."))
    else:
        form.refuse(exc)


def _remember(record_id: str) -> None:
    done = [r for r in session.get(SESSION_KEY, []) if r != record_id][-(REMEMBERED - 1):]
    session[SESSION_KEY] = [*done, record_id]


def _remembered(record_id: str) -> bool:
    return record_id in session.get(SESSION_KEY, [])


def _fair_id(record_id: str) -> str:
    return record_id.strip()[:RECORD_ID_LIMIT]


def _code_page(form: Form, status: int | None = None) -> tuple[str, int]:
    return render_template("web/confirm/code.html", form=form), status or form.status


# -- pages -------------------------------------------------------------------------------------


@bp.get("/confirm")
def start() -> tuple[str, int] | Response:
    """Type the record number and the code someone read out; the link's page when both are sent."""
    form = Form(request.args)
    if not request.args:
        return _code_page(form)
    record_id = form.text("record", max_length=RECORD_ID_LIMIT)
    code = form.text("code", max_length=12)
    if not form.ok:
        return _code_page(form)
    return redirect(url_for("confirm.record", record_id=record_id, code=code))


@bp.get("/confirm/<record_id>")
def record(record_id: str) -> tuple[str, int] | Response:
    """The service to confirm, once its code checks out; otherwise the code form, with what is wrong."""
    record_id = _fair_id(record_id)
    form = Form({"record": record_id, "code": request.args.get("code", "")})
    if not form.value("code"):
        return _code_page(form, 200)
    try:
        with change() as db:
            found = _checked(db, record_id, form.value("code"))
            shown = view_of(db, found, language.current(), personal=True)
    except DomainError as exc:
        _wrong(form, exc)
        return _code_page(form)
    return render_template("web/confirm/record.html", form=form, record=shown), 200


@bp.post("/confirm/<record_id>")
def confirm(record_id: str) -> tuple[str, int] | Response:
    """Yes, this is right: confirm with the code, then ask for a rating."""
    record_id = _fair_id(record_id)
    form = Form(request.form)
    who = auth.caller()
    try:
        with change() as db:
            found = _checked(db, record_id, form.value("code"))
            if who is not None and who.subject_id == found.volunteer_id and \
                    not policy_of(db, found).self_confirmation_allowed:
                raise Refused("nobody confirms their own record", rule="self_confirmation_allowed")
            records_confirm.confirm_with_code(db, writer(), record_id=found.id,
                                              code=form.value("code"), at=auth.now())
    except DomainError as exc:
        _wrong(form, exc)
        return _code_page(form)
    _remember(record_id)
    return redirect(url_for("confirm.rate", record_id=record_id))


@bp.route("/confirm/<record_id>/wrong", methods=["GET", "POST"])
def wrong(record_id: str) -> tuple[str, int] | Response:
    """This is not right: say what is wrong; the record is disputed for the coordinator to settle."""
    record_id = _fair_id(record_id)
    form = Form(request.form if request.method == "POST" else {"code": request.args.get("code", "")})
    if request.method == "POST":
        reason = form.text("reason", max_length=500, multiline=True)
        if form.ok:
            try:
                with change() as db:
                    found = _checked(db, record_id, form.value("code"))
                    records_review.dispute_record(db, writer(), record_id=found.id,
                                                  by=found.elder_id, reason=reason or "", at=auth.now())
            except DomainError as exc:
                if exc.details.get("field") == "reason":
                    form.refuse(exc, fields={"reason": "reason"})
                else:
                    code_form = Form({"record": record_id, "code": form.value("code")})
                    _wrong(code_form, exc)
                    return _code_page(code_form)
            else:
                _remember(record_id)
                return render_template("web/confirm/done.html", outcome="disputed"), 200
    return render_template("web/confirm/wrong.html", form=form, record_id=record_id), form.status


def _feedback_record(db: Session, record_id: str) -> ServiceRecord:
    """The record this browser confirmed (or disputed) with its code; NotFound for any other."""
    if not _remembered(record_id):
        raise NotFound(f"no service record {record_id!r}", field="record_id")
    return get_record(db, record_id)


@bp.route("/confirm/<record_id>/rate", methods=["GET", "POST"])
def rate(record_id: str) -> tuple[str, int] | Response:
    """How was the service? 1 to 5 stars and an optional comment, once."""
    record_id = _fair_id(record_id)
    form = Form(request.form if request.method == "POST" else {})
    if request.method == "POST":
        stars = form.choice("stars", STARS)
        comment = form.text("comment", required=False, max_length=records_feedback.COMMENT_LIMIT, multiline=True)
        if form.ok:
            try:
                with change() as db:
                    found = _feedback_record(db, record_id)
                    records_feedback.rate_record(db, writer(),
                                                 sealer(), record_id=found.id,
                                                 by=found.elder_id, stars=int(stars or 0), comment=comment,
                                                 at=auth.now())
            except NotFound:
                raise
            except DomainError as exc:
                form.refuse(exc, fields={"stars": "stars", "comment": "comment"})
            else:
                return render_template("web/confirm/done.html", outcome="rated", record_id=record_id), 200
    with change() as db:
        shown = view_of(db, _feedback_record(db, record_id), language.current(), personal=False)
    return render_template("web/confirm/rate.html", form=form, record=shown), form.status


@bp.route("/confirm/<record_id>/complaint", methods=["GET", "POST"])
def complaint(record_id: str) -> tuple[str, int] | Response:
    """Something was wrong with the service: tell the coordinator (the text is kept sealed)."""
    record_id = _fair_id(record_id)
    form = Form(request.form if request.method == "POST" else {})
    if request.method == "POST":
        text = form.text("text", max_length=records_feedback.COMPLAINT_LIMIT, multiline=True)
        if form.ok:
            try:
                with change() as db:
                    found = _feedback_record(db, record_id)
                    records_feedback.complain(db, writer(),
                                              sealer(), record_id=found.id,
                                              by=found.elder_id, text=text or "", at=auth.now())
            except NotFound:
                raise
            except DomainError as exc:
                form.refuse(exc, fields={"text": "text"})
            else:
                return render_template("web/confirm/done.html", outcome="complained", record_id=record_id), 200
    with change() as db:
        _feedback_record(db, record_id)
    return render_template("web/confirm/complaint.html", form=form, record_id=record_id), form.status
