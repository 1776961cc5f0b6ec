"""Dispatch (派单): service requests paid with stored time in the coordinator's subtree; send a
volunteer of the serving bank, mark the service done (the volunteer sent is paid), or cancel it
(the held time goes back)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from timebank import catalogue, dispatch, redemption, regions
from timebank.errors import DomainError, NotFound
from timebank.people import Volunteer
from timebank.redemption import Redemption

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
from .forms import Form
from .language import name_of
from .views import change, form_key, new_form_key, writer

MAX_VOLUNTEERS = 300


def _in_scope(me: Staffer) -> sa.ColumnElement[bool]:
    return regions.in_subtree(Redemption.region_id, me.region)


def _request(me: Staffer, redemption_id: str) -> Redemption:
    """A redemption whose service is given in the staff member's subtree; NotFound otherwise."""
    found = me.session.get(Redemption, redemption_id)
    if found is None or not regions.covers(me.region, regions.get_region(me.session, found.region_id)):
        raise hidden("redemption", redemption_id)
    return found


def waiting(me: Staffer) -> int:
    """Requests in the subtree that nobody has been sent to yet."""
    sent = sa.select(dispatch.Dispatch.redemption_id)
    return int(me.session.scalar(sa.select(sa.func.count()).select_from(Redemption).where(
        _in_scope(me), Redemption.status == "requested", Redemption.id.not_in(sent))) or 0)


def _row(me: Staffer, found: Redemption) -> dict[str, Any]:
    item = me.session.get_one(catalogue.CatalogueItem, found.catalogue_code)
    sent = dispatch.current_dispatch(me.session, found.id)
    return {"id": found.id, "service": name_of(item), "minutes": duration(found.minutes),
            "credit": duration(found.credit_minutes), "redeemer": name_of_person(me, found.redeemer_id),
            "place": name_of(regions.get_region(me.session, found.region_id)), "requested": when(found.requested_at),
            "sent": name_of_person(me, sent.volunteer_id) if sent else None,
            "sent_at": when(sent.at) if sent else None, "status": found.status}


@bp.get("/requests")
def requests() -> str:
    """Requested services in the subtree, newest first, a page at a time."""
    me = staffer()
    with change():  # the names shown are logged reads
        select = sa.select(Redemption).where(_in_scope(me), Redemption.status == "requested")
        found, cursor = page_of(me.session, select, Redemption.id, request.args.get("cursor"))
        rows = [_row(me, r) for r in found]
    return render_template("web/coordinator/requests.html", rows=rows, next_cursor=cursor,
                           first=not request.args.get("cursor"))


def _volunteers(me: Staffer, found: Redemption) -> list[tuple[str, str]]:
    """(id, name) of the active volunteers of the serving bank within the staff member's subtree."""
    serving = regions.get_region(me.session, found.serving_bank_id)
    rows = me.session.scalars(sa.select(Volunteer).where(
        regions.in_subtree(Volunteer.region_id, me.region), regions.in_subtree(Volunteer.region_id, serving),
        Volunteer.status == "active", Volunteer.id != found.redeemer_id).order_by(Volunteer.id).limit(MAX_VOLUNTEERS))
    banks: dict[str, str] = {}
    options = []
    for volunteer in rows:
        if volunteer.region_id not in banks:
            banks[volunteer.region_id] = regions.bank_of(me.session, regions.get_region(
                me.session, volunteer.region_id)).id
        if banks[volunteer.region_id] == serving.id:
            place = name_of(regions.get_region(me.session, volunteer.region_id))
            options.append((volunteer.id, f"{name_of_person(me, volunteer.id)} · {place}"))
    return sorted(options, key=lambda option: option[1])


def _detail(me: Staffer, redemption_id: str, form: Form) -> tuple[str, int]:
    with change():
        found = _request(me, redemption_id)
        row, options = _row(me, found), _volunteers(me, found) if found.status == "requested" else []
    return render_template("web/coordinator/request.html", row=row, form=form, options=options,
                           keys={"complete": new_form_key(), "cancel": new_form_key()}), form.status


@bp.get("/requests/<redemption_id>")
def request_page(redemption_id: str) -> tuple[str, int]:
    """One request: who asked, what for, who is sent; send someone, mark it done, or cancel it."""
    me = staffer()
    sent = dispatch.current_dispatch(me.session, redemption_id)
    return _detail(me, redemption_id, Form({"volunteer_id": sent.volunteer_id} if sent else {}))


@bp.post("/requests/<redemption_id>/send")
def send(redemption_id: str) -> Response | tuple[str, int]:
    """Send a volunteer to give the service (a ledger entry in the serving bank)."""
    me = staffer()
    form = Form(request.form)
    found = _request(me, redemption_id)
    with change():
        allowed = [value for value, _label in _volunteers(me, found)]
    volunteer_id = form.choice("volunteer_id", allowed)
    if form.ok:
        try:
            with change() as session:
                dispatch.dispatch_redemption(session, writer(), redemption_id=found.id, volunteer_id=volunteer_id or "",
                                             by=me.staff_id, at=now())
        except DomainError as exc:
            if isinstance(exc, NotFound) and exc.details.get("field") == "redemption_id":
                raise
            form.refuse(exc, fields={"volunteer_id": "volunteer_id"})
        else:
            flash(_("The volunteer is sent. Mark the service done when it has been given."), "ok")
            return redirect(url_for("coordinator.request_page", redemption_id=found.id))
    return _detail(me, found.id, form)


@bp.post("/requests/<redemption_id>/complete")
def complete(redemption_id: str) -> Response | tuple[str, int]:
    """The service was given: the volunteer sent is paid the held time."""
    me = staffer()
    form = Form(request.form)
    found = _request(me, redemption_id)
    try:
        with change() as session:
            done = dispatch.complete_dispatched(session, writer(), redemption_id=found.id, completed_by=me.staff_id,
                                                at=now(), idempotency_key=form_key(me.who))
            paid = name_of_person(me, done.provider_id or "")
    except DomainError as exc:
        if isinstance(exc, NotFound) and exc.details.get("field") == "redemption_id":
            raise
        if exc.details.get("field") == "provider_volunteer_id":
            form.error("volunteer_id", _("Please send a volunteer first: the one sent is paid when it is done."))
        else:
            form.refuse(exc, fields={"provider_volunteer_id": "volunteer_id"})
        return _detail(me, found.id, form)
    flash(_("Done: %(time)s paid to %(name)s.", time=duration(done.credit_minutes), name=paid), "ok")
    return redirect(url_for("coordinator.requests"))


@bp.post("/requests/<redemption_id>/cancel")
def cancel(redemption_id: str) -> Response | tuple[str, int]:
    """Cancel the request: the held time goes back to whoever redeemed it."""
    me = staffer()
    form = Form(request.form)
    found = _request(me, redemption_id)
    try:
        with change() as session:
            redemption.cancel_redemption(session, writer(), redemption_id=found.id, cancelled_by=me.staff_id,
                                         at=now(), idempotency_key=form_key(me.who))
    except DomainError as exc:
        if isinstance(exc, NotFound) and exc.details.get("field") == "redemption_id":
            raise
        form.refuse(exc)
        return _detail(me, found.id, form)
    flash(_("The request is cancelled and the time is returned."), "ok")
    return redirect(url_for("coordinator.requests"))

