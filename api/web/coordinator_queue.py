"""The verification queue: confirmed records of elders in the coordinator's subtree, verified one by
one or in bulk (each posts the volunteer's credit), or rejected with a reason."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from timebank import catalogue, records_review, regions
from timebank.errors import DomainError, NotFound
from timebank.records import ServiceRecord, get_record

from ..auth import now
from .coordinator_common import (
    Staffer,
    bp,
    duration,
    hidden,
    name_of_person,
    page_of,
    staffer,
    when,
)
from .explain import explain
from .forms import Form
from .language import name_of
from .views import change, form_key, new_form_key, writer

BULK_LIMIT = 200
REASON_LIMIT = 1000
CONFIRMED_HOW = {"code": _l("by the elder's code"), "proxy": _l("by a family member"),
                 "witness": _l("by staff as witness")}


def _in_scope(me: Staffer) -> sa.ColumnElement[bool]:
    return regions.in_subtree(ServiceRecord.region_id, me.region)


def _record(me: Staffer, record_id: str) -> ServiceRecord:
    """A record of an elder in the staff member's subtree; NotFound otherwise."""
    try:
        record = get_record(me.session, record_id)
    except NotFound:
        raise hidden("record", record_id) from None
    if not regions.covers(me.region, regions.get_region(me.session, record.region_id)):
        raise hidden("record", record_id)
    return record


def waiting(me: Staffer) -> int:
    """How many confirmed records wait for verification in the subtree."""
    return int(me.session.scalar(sa.select(sa.func.count()).select_from(ServiceRecord).where(
        _in_scope(me), ServiceRecord.status == "confirmed")) or 0)


def _row(me: Staffer, record: ServiceRecord) -> dict[str, Any]:
    item = me.session.get_one(catalogue.CatalogueItem, record.catalogue_code)
    return {"id": record.id, "service": name_of(item), "started": when(record.started_at),
            "minutes": duration(record.minutes), "volunteer": name_of_person(me, record.volunteer_id),
            "elder": name_of_person(me, record.elder_id),
            "how": str(CONFIRMED_HOW.get(record.confirmed_kind or "", record.confirmed_kind or "")),
            "paid": record.paid}


@bp.get("/queue")
def queue() -> str:
    """Confirmed records in the subtree, newest first, a page at a time."""
    me = staffer()
    with change():  # the names shown are logged reads
        select = sa.select(ServiceRecord).where(_in_scope(me), ServiceRecord.status == "confirmed")
        records, cursor = page_of(me.session, select, ServiceRecord.id, request.args.get("cursor"))
        rows = [_row(me, r) for r in records]
        total = waiting(me)
    return render_template("web/coordinator/queue.html", rows=rows, next_cursor=cursor, total=total,
                           first=not request.args.get("cursor"), form_key=new_form_key())


@bp.post("/queue/verify")
def verify_selected() -> Response:
    """Verify the ticked records; one refused record does not stop the others."""
    me = staffer()
    ids = list(dict.fromkeys(v.strip() for v in request.form.getlist("record_id") if v.strip()))[:BULK_LIMIT]
    if not ids:
        flash(_("Please tick at least one record to verify."), "error")
        return redirect(url_for("coordinator.queue"))
    with change() as session:
        known = set(session.scalars(sa.select(ServiceRecord.id).where(ServiceRecord.id.in_(ids), _in_scope(me))))
        outcomes = records_review.verify_many(session, writer(), record_ids=[i for i in ids if i in known],
                                              staff_id=me.staff_id, at=now())
    done = sum(1 for o in outcomes if o.ok)
    refused = len(ids) - done
    if done:
        flash(_("Records verified: %(n)d. The time is credited to the volunteers.", n=done), "ok")
    if refused:
        flash(_("Records that could not be verified: %(n)d (perhaps they were done already).", n=refused), "error")
    return redirect(url_for("coordinator.queue"))


@bp.post("/queue/<record_id>/verify")
def verify_one(record_id: str) -> Response:
    """Verify one record: its credit goes to the volunteer."""
    me = staffer()
    try:
        with change() as session:
            record = _record(me, record_id)
            records_review.verify_record(session, writer(), record_id=record.id, staff_id=me.staff_id, at=now(),
                                         idempotency_key=form_key(me.who))
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        flash(_("This record could not be verified: %(why)s", why=explain(exc)), "error")
    else:
        flash(_("The record is verified: the time is credited to the volunteer."), "ok")
    return redirect(url_for("coordinator.queue"))


@bp.route("/queue/<record_id>/reject", methods=["GET", "POST"])
def reject(record_id: str) -> Response | tuple[str, int]:
    """Reject a record, saying why (the reason is kept here; the ledger sees a commitment to it)."""
    me = staffer()
    form = Form(request.form if request.method == "POST" else None)
    with change():
        row = _row(me, _record(me, record_id))
    if request.method == "POST":
        reason = form.text("reason", max_length=REASON_LIMIT, multiline=True)
        if form.ok:
            try:
                with change() as session:
                    records_review.reject_record(session, writer(), record_id=record_id, staff_id=me.staff_id,
                                                 reason=reason or "", at=now())
            except DomainError as exc:
                if isinstance(exc, NotFound):
                    raise
                form.refuse(exc)
            else:
                flash(_("The record is rejected. The volunteer can see that it was not accepted."), "ok")
                return redirect(url_for("coordinator.queue"))
    return render_template("web/coordinator/reject.html", row=row, form=form,
                           reason_limit=REASON_LIMIT), form.status
