"""Dispatch (派单): a coordinator sends a volunteer of the serving bank to give a requested service.

A redemption waits in "requested" until the service is given. Sending someone is a "dispatch"
entry in the serving bank's log naming the redemption, the volunteer and the coordinator (opaque
ids only), kept here as a row in the same transaction. Sending another volunteer later is a new
dispatch; the last one counts. Completing without naming a provider pays the volunteer sent.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger import store
from ledger.writer import Writer

from . import catalogue, journal, people
from .checks import aware
from .errors import Conflict, InvalidInput, NotFound, Refused
from .model import Base, new_id
from .redemption import Redemption, complete_redemption, get_redemption
from .regions import get_region


class Dispatch(Base):
    """One sending of a volunteer to a requested redemption; `number` counts them per redemption."""

    __tablename__ = "dispatch"
    __table_args__ = (sa.UniqueConstraint("redemption_id", "number", name="uq_dispatch_number"),)

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    redemption_id: Mapped[str] = mapped_column(sa.ForeignKey("redemption.id"), index=True)
    number: Mapped[int] = mapped_column(sa.Integer)
    volunteer_id: Mapped[str] = mapped_column(sa.ForeignKey("volunteer.id"), index=True)
    by: Mapped[str] = mapped_column(sa.ForeignKey("staff.id"))
    at: Mapped[datetime]
    entry_id: Mapped[str] = mapped_column(sa.ForeignKey("entry.id"))


def current_dispatch(session: Session, redemption_id: str) -> Dispatch | None:
    """The last volunteer sent to a redemption, or None when nobody was."""
    return session.scalar(sa.select(Dispatch).where(Dispatch.redemption_id == redemption_id)
                          .order_by(Dispatch.number.desc()).limit(1))


def dispatches_of(session: Session, redemption_id: str) -> list[Dispatch]:
    """Every sending for a redemption, first first."""
    return list(session.scalars(sa.select(Dispatch).where(Dispatch.redemption_id == redemption_id)
                                .order_by(Dispatch.number)))


def _check_volunteer(session: Session, redemption: Redemption, volunteer_id: str) -> people.Volunteer:
    """The volunteer, if they may give this redemption's service for its serving bank."""
    volunteer = session.get(people.Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound(f"no volunteer {volunteer_id!r}", field="volunteer_id")
    if volunteer.id == redemption.redeemer_id:
        raise Refused("the redeemer cannot be sent to give their own redeemed service", rule="provider",
                      field="volunteer_id")
    if volunteer.status != "active":
        raise Refused(f"volunteer {volunteer.id} is {volunteer.status}; only an active volunteer is sent",
                      rule="dispatch_status", field="volunteer_id")
    if people.home_bank(session, volunteer.id).id != redemption.serving_bank_id:
        raise Refused(f"the volunteer must belong to the serving bank {redemption.serving_bank_id}",
                      rule="provider", field="volunteer_id")
    item = session.get_one(catalogue.CatalogueItem, redemption.catalogue_code)
    if not item.volunteer_eligible:
        raise Refused(f"volunteers may not give {item.code}; a station provides it", rule="volunteer_eligible",
                      field="volunteer_id")
    if item.training_required and not people.is_trained_for(session, volunteer.id, item.code):
        raise Refused(f"{item.code} needs a training certificate volunteer {volunteer.id} lacks",
                      rule="training_required", field="volunteer_id")
    return volunteer


def dispatch_redemption(
    session: Session, writer: Writer, *, redemption_id: str, volunteer_id: str, by: str, at: datetime
) -> Dispatch:
    """Send `volunteer_id` to give a requested redemption's service: staff `by` covering the region of
    the service; an active volunteer of the serving bank, not the redeemer, who may give the item
    (trained where training is required). Writes a "dispatch" entry in the serving bank's log.
    Sending the volunteer already sent returns that dispatch and writes nothing.

    Raises NotFound (redemption, staff, volunteer), NotPermitted (staff out of scope), InvalidInput
    (at), Refused (rule provider, dispatch_status, volunteer_eligible, training_required), Conflict
    (the redemption is not requested any more).
    """
    at = aware(at, "at")
    redemption = get_redemption(session, redemption_id)
    home, serving = get_region(session, redemption.home_bank_id), get_region(session, redemption.serving_bank_id)
    assert home.log_id is not None and serving.log_id is not None
    store.lock_logs(session, [home.log_id, serving.log_id])  # as completing and cancelling lock them
    session.get(Redemption, redemption.id, with_for_update=True, populate_existing=True)
    if redemption.status != "requested":
        raise Conflict(f"redemption {redemption.id} is already {redemption.status}", field="redemption_id")
    if at < redemption.requested_at:
        raise InvalidInput("at is before the redemption was requested", field="at")
    staff = people.get_staff(session, by, region_id=redemption.region_id)
    volunteer = _check_volunteer(session, redemption, volunteer_id)
    last = current_dispatch(session, redemption.id)
    if last is not None and last.volunteer_id == volunteer.id:
        return last
    dispatch_id = new_id("dsp")
    body = {"dispatch": dispatch_id, "redemption": redemption.id, "volunteer": volunteer.id, "by": staff.id}
    if last is not None:
        body["replaces"] = last.volunteer_id
    entry = journal.write(session, writer, bank=serving, type="dispatch", at=at, subject_id=redemption.id, body=body)
    dispatch = Dispatch(id=dispatch_id, redemption_id=redemption.id, number=(last.number + 1) if last else 1,
                        volunteer_id=volunteer.id, by=staff.id, at=at, entry_id=entry.id)
    session.add(dispatch)
    session.flush()
    return dispatch


def complete_dispatched(
    session: Session, writer: Writer, *, redemption_id: str, completed_by: str, at: datetime,
    idempotency_key: str | None = None,
) -> Redemption:
    """Complete a redemption, paying the volunteer last sent to it (see `complete_redemption`).

    Raises NotFound (redemption), Conflict (nobody was sent: name the provider instead), and what
    `complete_redemption` raises.
    """
    redemption = get_redemption(session, redemption_id)
    sent = current_dispatch(session, redemption.id)
    if sent is None:
        if redemption.status != "requested":
            raise Conflict(f"redemption {redemption.id} is already {redemption.status}", field="redemption_id")
        raise Conflict(f"nobody was sent to redemption {redemption.id}; send a volunteer or name the provider",
                       field="provider_volunteer_id")
    return complete_redemption(session, writer, redemption_id=redemption.id, completed_by=completed_by, at=at,
                               provider_volunteer_id=sent.volunteer_id, idempotency_key=idempotency_key)
