"""The volunteer logs hours (the elder found by the code on their card or by name, shown masked)
and gets the one-time code and link for the elder; and sees their records, newest first."""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime
from typing import Any

import segno
import sqlalchemy as sa
from flask import render_template, request
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from timebank import catalogue, people, records_confirm, users
from timebank.catalogue import CatalogueItem
from timebank.checks import CHINA
from timebank.errors import Conflict, DomainError, NotFound, Refused
from timebank.people import Elder
from timebank.records import ServiceRecord, get_record, opened
from timebank.records_submit import submit_record
from timebank.regions import bank_of, get_region, in_subtree

from .. import auth
from .explain import explain
from .forms import Form
from .language import english, name_of
from .views import FORM_KEY, change, form_key, new_form_key, sealer, writer
from .volunteer_common import (
    Me,
    bp,
    hours,
    me,
    status_badge,
)

PER_PAGE = 20
NAME_SCAN = 5000  # elders read when finding one by name in the volunteer's own region
# a domain field → the form's field
FIELDS = {"ended_at": "end", "started_at": "start", "minutes": "end", "catalogue": "catalogue",
          "catalogue_code": "catalogue", "elder_id": "elder", "elder_code": "elder", "place": "place",
          "notes": "notes"}
# a refusal's rule → the field to fix
RULE_FIELDS = {"future_time": "end", "allow_overlap": "start", "daily_cap_minutes": "end",
               "confirm_deadline_working_days": "date", "training_required": "catalogue",
               "volunteer_eligible": "catalogue", "elder_status": "elder", "accepted_banks": "elder"}
SHOWN = {"pending": ("submitted", "confirmed", "disputed"), "verified": ("posted",),
         "closed": ("rejected", "reversed")}


# --- finding the elder --------------------------------------------------------------------------

def _name_key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _name(elder: Elder) -> str:
    return sealer().open(elder.name_sealed, where=people.where(elder, "name_sealed")) or ""


def _shown(session: Session, mine: Me, elder: Elder) -> str:
    """The elder's masked name (刘**), the read logged as the API's lookup logs it."""
    users.record_access(session, user_id=mine.who.user_id, action="read", subject_id=elder.id,
                        fields=["masked_name"], at=auth.now())
    return people.masked_name(_name(elder))


def _by_code(session: Session, mine: Me, form: Form, code: str) -> Elder | None:
    """An active elder of the volunteer's own bank with this card code."""
    try:
        elder = people.find_elder_by_code(session, code)
        home = bank_of(session, get_region(session, mine.volunteer.region_id)).id
        if elder.status != "active" or bank_of(session, get_region(session, elder.region_id)).id != home:
            raise NotFound("elder of another bank")
    except NotFound:
        form.error("elder", _("No elder has the code %(code)s in your time bank. Please check the code on the "
                              "elder's card.", code=code))
        return None
    return elder


def _by_name(session: Session, mine: Me, form: Form, raw: str) -> tuple[Elder | None, list[tuple[str, str]]]:
    """The active elder of the volunteer's region with this full name; with several, the one
    chosen among them (the choices are returned: id, masked name · community)."""
    region = get_region(session, mine.volunteer.region_id)
    wanted = _name_key(raw)
    found = [e for e in session.scalars(sa.select(Elder).where(
        in_subtree(Elder.region_id, region), Elder.status == "active").order_by(Elder.id).limit(NAME_SCAN))
        if _name_key(_name(e)) == wanted]
    if not found:
        form.error("elder", _("No elder of this name lives in your community. Please check the full name, or "
                              "type the code on the elder's card."))
        return None, []
    if len(found) == 1:
        return found[0], []
    chosen = next((e for e in found if e.id == form.value("elder_id")), None)
    choices = [(e.id, f"{_shown(session, mine, e)} · {name_of(get_region(session, e.region_id))} "
                      f"({e.short_code})") for e in found]
    if chosen is None:
        form.error("elder_id", _("Several elders have this name. Please choose the one you served."))
    return chosen, choices


def _find_elder(session: Session, mine: Me, form: Form) -> tuple[Elder | None, list[tuple[str, str]]]:
    raw = form.text("elder", max_length=50)
    if raw is None:
        return None, []
    code = "".join(raw.split()).upper()
    if 4 <= len(code) <= 8 and code.isascii() and code.isalnum():
        return _by_code(session, mine, form, code), []
    return _by_name(session, mine, form, raw)


# --- logging hours ------------------------------------------------------------------------------

def _services(session: Session, mine: Me) -> list[CatalogueItem]:
    region = get_region(session, mine.volunteer.region_id)
    return [item for item in catalogue.items_for(session, region) if item.volunteer_eligible]


def _service_options(items: list[CatalogueItem]) -> list[tuple[str, str]]:
    if english():
        return [(i.code, f"{i.name_en} ({i.name_zh})") for i in items]
    return [(i.code, f"{i.name_zh}（{i.name_en}）") for i in items]


def _times(form: Form) -> tuple[datetime | None, datetime | None]:
    """Start and end as UTC times from the China-time date and clock fields."""
    day, start, end = form.day("date"), form.clock("start"), form.clock("end")
    if start is not None and end is not None and end <= start:
        form.error("end", _("The end time must be after the start time (a service ends on the day it starts)."))
        return None, None
    if day is None or start is None or end is None:
        return None, None
    return datetime.combine(day, start, CHINA), datetime.combine(day, end, CHINA)


def _refuse(form: Form, exc: DomainError) -> None:
    """A domain refusal, on the field the reader must change."""
    rule = exc.details.get("rule")
    if isinstance(exc, Refused) and rule in RULE_FIELDS:
        form.error(RULE_FIELDS[rule], explain(exc))
        form.detail = exc.message
    elif isinstance(exc, Conflict):
        form.error("", _("This form was sent already. Please open a new form to log another service."))
    else:
        form.refuse(exc, fields=FIELDS)


def confirm_url(record_id: str, code: str) -> str:
    """The address the elder opens on their phone, without an account (the confirm.record page)."""
    return f"{request.host_url.rstrip('/')}/confirm/{record_id}?code={code}"


def qr_data_uri(url: str) -> str:
    """`url` as a QR code, an SVG data: URI (the CSP allows data: images; no script needed)."""
    return str(segno.make(url, error="m").svg_data_uri(scale=6, border=2, dark="#000", light="#fff"))


def _code_page(session: Session, mine: Me, record: ServiceRecord, code: str) -> str:
    elder = session.get_one(Elder, record.elder_id)
    item = session.get(CatalogueItem, record.catalogue_code)
    url = confirm_url(record.id, code)
    details = opened(sealer(), record)
    return render_template("web/volunteer/code.html", record=record, code=code, url=url, qr=qr_data_uri(url),
                           elder=_shown(session, mine, elder), service=name_of(item) if item else record.catalogue_code,
                           when=_when(record), minutes=hours(record.minutes), place=details.get("place"),
                           expires=record.confirm_code_expires_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
                           if record.confirm_code_expires_at else None)


@bp.route("/volunteer/log-hours", methods=["GET", "POST"])
def log_hours() -> str | tuple[str, int]:
    """The log-hours form; on success, the elder's one-time code, link and QR code."""
    mine = me()
    posted = request.method == "POST"
    form = Form(request.form if posted else {FORM_KEY: new_form_key()})
    found: str | None = None
    choices: list[tuple[str, str]] = []
    with change() as session:  # the lookups shown are logged; kept even when the form has errors
        items = _services(session, mine)
        if posted:
            elder, choices = _find_elder(session, mine, form)
            found = _shown(session, mine, elder) if elder is not None else None
            if form.value("action") == "find":
                return render_template("web/volunteer/log_hours.html", form=form, services=_service_options(items),
                                       found=found, choices=choices), form.status
            code = form.choice("catalogue", [i.code for i in items])
            started, ended = _times(form)
            place = form.text("place", required=False, max_length=200)
            notes = form.text("notes", required=False, max_length=2000, multiline=True)
    if posted and form.ok and elder is not None and started is not None and ended is not None:
        try:
            with change() as session:
                record, one_time = submit_record(
                    session, writer(), sealer(), volunteer_id=mine.volunteer.id, elder_id=elder.id,
                    catalogue_code=code or "", started_at=started, ended_at=ended, submitted_by=mine.volunteer.id,
                    at=auth.now(), place=place, notes=notes, idempotency_key=form_key(mine.who))
                if one_time is None:  # the same form sent twice: the first record, with a fresh code
                    one_time = records_confirm.new_code(session, record_id=record.id,
                                                        requested_by=mine.volunteer.id, at=auth.now())
                users.record_access(session, user_id=mine.who.user_id, action="change", subject_id=record.id,
                                    fields=[n for n, v in (("place", place), ("notes", notes)) if v], at=auth.now())
                return _code_page(session, mine, record, one_time)
        except DomainError as exc:
            _refuse(form, exc)
    return render_template("web/volunteer/log_hours.html", form=form, services=_service_options(items), found=found,
                           choices=choices), form.status


@bp.post("/volunteer/records/<record_id>/new-code")
def new_code(record_id: str) -> str:
    """A new one-time code for a record still waiting for the elder (the old one stops working)."""
    mine = me()
    with change() as session:
        record = _own(session, mine, record_id)
        code = records_confirm.new_code(session, record_id=record.id, requested_by=mine.volunteer.id, at=auth.now())
        return _code_page(session, mine, record, code)


def _own(session: Session, mine: Me, record_id: str) -> ServiceRecord:
    """The volunteer's own record; NotFound for any other (so ids cannot be probed)."""
    try:
        record = get_record(session, record_id)
    except NotFound:
        record = None
    if record is None or record.volunteer_id != mine.volunteer.id:
        raise NotFound(f"no service record {record_id!r}", field="record_id")
    return record


# --- my records ---------------------------------------------------------------------------------

def _when(record: ServiceRecord) -> str:
    start, end = record.started_at.astimezone(CHINA), record.ended_at.astimezone(CHINA)
    return f"{start:%Y-%m-%d} {start:%H:%M}–{end:%H:%M}"


def _row(record: ServiceRecord, names: dict[str, str]) -> dict[str, Any]:
    words, style = status_badge(record.status)
    return {"id": record.id, "service": names.get(record.catalogue_code, record.catalogue_code),
            "when": _when(record), "minutes": hours(record.minutes), "status": record.status, "words": words,
            "style": style, "credit": hours(record.credit_minutes) if record.credit_minutes is not None else None}


@bp.get("/volunteer/records")
def records() -> str:
    """The volunteer's records, newest service first, a page at a time; `?show=pending|verified|closed`."""
    mine = me()
    session = mine.session
    show = request.args.get("show", "all")
    show = show if show in SHOWN else "all"
    try:
        number = max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        number = 1
    where = [ServiceRecord.volunteer_id == mine.volunteer.id]
    if show != "all":
        where.append(ServiceRecord.status.in_(SHOWN[show]))
    total = session.scalar(sa.select(sa.func.count()).select_from(ServiceRecord).where(*where)) or 0
    pages = max(1, math.ceil(total / PER_PAGE))
    number = min(number, pages)
    rows = session.scalars(sa.select(ServiceRecord).where(*where).order_by(
        ServiceRecord.started_at.desc(), ServiceRecord.id.desc()).offset((number - 1) * PER_PAGE).limit(PER_PAGE))
    items = {i.code: name_of(i) for i in session.scalars(sa.select(CatalogueItem))}
    return render_template("web/volunteer/records.html", rows=[_row(r, items) for r in rows], show=show,
                           page=number, pages=pages, total=total)
