"""Helpers that take a record through its lifecycle with the use cases, for tests of records and
of what builds on them (statistics, the property test)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from world import World

from timebank.people import Elder, Volunteer
from timebank.checks import CHINA
from timebank.records import ServiceRecord
from timebank.records_confirm import confirm_with_code
from timebank.records_review import verify_record
from timebank.records_submit import submit_record


def china(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of November 2026 in China time, as UTC (the 20th is a Friday, the 25th a Wednesday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=CHINA).astimezone(timezone.utc)


def pair(world: World) -> tuple[Volunteer, Elder]:
    return world.volunteer(), world.elder()


def submit(
    world: World, volunteer: Volunteer, elder: Elder, *, code: str = "VISIT", start: datetime | None = None,
    span: int = 60, **kw: Any,
) -> tuple[ServiceRecord, str | None]:
    start = start or china(24, 9)
    fields: dict[str, Any] = dict(submitted_by=volunteer.id, at=world.now)
    fields.update(kw)
    return submit_record(world.session, world.writer, world.sealer, volunteer_id=volunteer.id, elder_id=elder.id,
                         catalogue_code=code, started_at=start, ended_at=start + timedelta(minutes=span), **fields)


def confirmed(world: World, volunteer: Volunteer, elder: Elder, **kw: Any) -> ServiceRecord:
    record, code = submit(world, volunteer, elder, **kw)
    assert code is not None
    return confirm_with_code(world.session, world.writer, record_id=record.id, code=code, at=world.now)


def posted(world: World, volunteer: Volunteer, elder: Elder, **kw: Any) -> ServiceRecord:
    record = confirmed(world, volunteer, elder, **kw)
    return verify_record(world.session, world.writer, record_id=record.id, staff_id=world.coordinator.id, at=world.now)
