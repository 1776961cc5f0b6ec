"""Listing service records: a volunteer's own, a coordinator's queue over their subtree, a record's history."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .errors import InvalidInput
from .records import STATUSES, RecordComplaint, RecordEvent, ServiceRecord, get_record
from .regions import get_region, in_subtree


def _status(status: str | None) -> str | None:
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
    return status


def records_of_volunteer(session: Session, volunteer_id: str, status: str | None = None) -> list[ServiceRecord]:
    """A volunteer's records, newest service first, optionally of one status. Raises InvalidInput (status)."""
    query = sa.select(ServiceRecord).where(ServiceRecord.volunteer_id == volunteer_id)
    if _status(status) is not None:
        query = query.where(ServiceRecord.status == status)
    return list(session.scalars(query.order_by(ServiceRecord.started_at.desc(), ServiceRecord.id)))


def queue(session: Session, *, region_id: str, status: str = "confirmed", limit: int = 200) -> list[ServiceRecord]:
    """Records of elders in `region_id`'s subtree waiting in `status` (by default: to be verified),
    oldest submission first. Raises NotFound (region), InvalidInput (status)."""
    region = get_region(session, region_id)
    query = sa.select(ServiceRecord).where(in_subtree(ServiceRecord.region_id, region),
                                           ServiceRecord.status == _status(status))
    return list(session.scalars(query.order_by(ServiceRecord.submitted_at, ServiceRecord.id).limit(limit)))


def events_of(session: Session, record_id: str) -> list[RecordEvent]:
    """Every transition of a record, oldest first. Raises NotFound."""
    record = get_record(session, record_id)
    return list(session.scalars(sa.select(RecordEvent).where(RecordEvent.record_id == record.id)
                                .order_by(RecordEvent.at, RecordEvent.id)))


def complaints_of(session: Session, record_id: str) -> list[RecordComplaint]:
    """The complaints about a record, oldest first (texts sealed: `records.opened`). Raises NotFound."""
    record = get_record(session, record_id)
    return list(session.scalars(sa.select(RecordComplaint).where(RecordComplaint.record_id == record.id)
                                .order_by(RecordComplaint.at, RecordComplaint.id)))
