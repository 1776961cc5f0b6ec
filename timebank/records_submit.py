"""Submitting a service record: every guard (status, catalogue, training, time, deadline, daily cap,
overlap) refuses before anything is written; the elder gets a one-time confirmation code."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger import store
from ledger.writer import Writer

from . import catalogue, idempotency, journal, people, policy
from .errors import InvalidInput, NotFound, NotPermitted, Refused
from .model import new_id
from .checks import aware, text
from .records import (
    DEAD,
    NOTES_LIMIT,
    PLACE_LIMIT,
    ServiceRecord,
    add_event,
    china_day_bounds,
    confirm_deadline,
    get_record,
    issue_code,
    write_event,
)
from .regions import Organisation, Region, bank_of, covers, get_region
from .sealing import Sealer


def _check_submitter(session: Session, submitted_by: str, volunteer_id: str, region: Region) -> None:
    if submitted_by == volunteer_id:
        return
    staff = session.get(people.Staff, submitted_by) if isinstance(submitted_by, str) else None
    if staff is None or not staff.active or not covers(get_region(session, staff.region_id), region):
        raise NotPermitted("a record is submitted by its volunteer or by a staff member covering the elder's region",
                           field="submitted_by")


def _minutes(minutes: int | None, started_at: datetime, ended_at: datetime) -> int:
    if started_at >= ended_at:
        raise InvalidInput("ended_at must be after started_at", field="ended_at")
    span = int((ended_at - started_at).total_seconds()) // 60
    if minutes is None:
        minutes = span
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 < minutes <= span:
        raise InvalidInput(f"minutes must be a whole number from 1 to {span} (the time between start and end, "
                           "travel excluded)", field="minutes")
    return minutes


def _check_times(
    session: Session, pol: policy.Policy, *, volunteer_id: str, started_at: datetime, ended_at: datetime,
    minutes: int, at: datetime,
) -> None:
    if ended_at > at:
        raise Refused("a service cannot end in the future; submit it once it has happened", rule="future_time")
    if at >= confirm_deadline(ended_at, pol.confirm_deadline_working_days):
        raise Refused(f"records must be complete within {pol.confirm_deadline_working_days} working days of the "
                      "service; this one is too late", rule="confirm_deadline_working_days")
    live = sa.and_(ServiceRecord.volunteer_id == volunteer_id, ServiceRecord.status.not_in(DEAD))
    # a record counts on the China-time day it started
    day_start, day_end = china_day_bounds(started_at)
    logged = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(ServiceRecord.minutes), 0)).where(
        live, ServiceRecord.started_at >= day_start, ServiceRecord.started_at < day_end)) or 0
    if logged + minutes > pol.daily_cap_minutes:
        raise Refused(f"a volunteer may log at most {pol.daily_cap_minutes} minutes a day; {logged} are logged on "
                      f"that day already, so at most {max(pol.daily_cap_minutes - logged, 0)} more",
                      rule="daily_cap_minutes")
    if not pol.allow_overlap:
        clash = session.scalar(sa.select(ServiceRecord.id).where(
            live, ServiceRecord.started_at < ended_at, ServiceRecord.ended_at > started_at).limit(1))
        if clash is not None:
            raise Refused(f"this overlaps the volunteer's record {clash}; correct the times", rule="allow_overlap",
                          record_id=clash)


def submit_record(
    session: Session,
    writer: Writer,
    sealer: Sealer,
    *,
    volunteer_id: str,
    elder_id: str,
    catalogue_code: str,
    started_at: datetime,
    ended_at: datetime,
    submitted_by: str,
    at: datetime,
    minutes: int | None = None,
    place: str | None = None,
    notes: str | None = None,
    paid: bool = False,
    organisation_id: str | None = None,
    responsible: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[ServiceRecord, str | None]:
    """Submit a service record (by the volunteer, or by staff covering the elder's region) and
    issue the elder a one-time confirmation code, valid until the confirmation deadline.

    Returns (record, code); a retry with the same `idempotency_key` returns the first record and
    None for the code (ask for a new one with `records_confirm.new_code`).
    Raises InvalidInput (times, minutes, texts), NotFound (volunteer, elder, catalogue item,
    organisation, responsible), NotPermitted (submitter), Conflict (key reused for another request),
    Refused with rule volunteer_status, elder_status, bank, accepted_banks, volunteer_eligible,
    training_required, future_time, confirm_deadline_working_days, daily_cap_minutes or allow_overlap.
    """
    at = aware(at, "at")
    started_at, ended_at = aware(started_at, "started_at"), aware(ended_at, "ended_at")
    minutes = _minutes(minutes, started_at, ended_at)
    place, notes = text(place, "place", PLACE_LIMIT), text(notes, "notes", NOTES_LIMIT)
    if not isinstance(paid, bool):
        raise InvalidInput("paid must be true or false", field="paid")
    params = {"volunteer": volunteer_id, "elder": elder_id, "catalogue": catalogue_code, "minutes": minutes,
              "started": started_at.isoformat(), "ended": ended_at.isoformat(), "by": submitted_by, "paid": paid,
              "place": place, "notes": notes, "organisation": organisation_id, "responsible": responsible}

    volunteer = people.get_volunteer(session, volunteer_id)
    elder = people.get_elder(session, elder_id)
    region = get_region(session, elder.region_id)
    bank = bank_of(session, region)
    home = people.home_bank(session, volunteer.id)
    # logs first, then rows; the volunteer's home log too, so one volunteer's submissions queue
    store.lock_logs(session, [b.log_id for b in (bank, home) if b.log_id is not None])
    # after the lock, so a retry racing its first attempt finds the first attempt's record
    earlier = idempotency.replay(session, idempotency_key, "submit_record", params)
    if earlier is not None:
        return get_record(session, earlier), None
    session.refresh(volunteer)  # status changes are written under the locks just taken
    session.refresh(elder)
    pol = policy.effective(session, region)
    if home.id != bank.id and not pol.accepts(home.id):
        raise Refused("this elder's bank does not accept volunteers of the volunteer's bank", rule="accepted_banks")
    if volunteer.status != "active":
        raise Refused(f"volunteer {volunteer.id} is {volunteer.status}; only active volunteers log service",
                      rule="volunteer_status")
    if elder.status != "active":
        raise Refused(f"elder {elder.id} is {elder.status}; records are for active elders", rule="elder_status")
    item = catalogue.item_for(session, region, catalogue_code)
    if not item.volunteer_eligible:
        raise Refused(f"{item.name_en} ({item.code}) is not given by volunteers", rule="volunteer_eligible")
    if item.training_required and not people.is_trained_for(session, volunteer.id, item.code):
        raise Refused(f"{item.name_en} ({item.code}) needs a training record that certifies it first",
                      rule="training_required")
    organisation = session.get(Organisation, organisation_id) if organisation_id is not None else None
    if organisation_id is not None and organisation is None:
        raise NotFound(f"no organisation {organisation_id!r}", field="organisation_id")
    if organisation is not None and organisation.status != "active":
        raise Refused(f"organisation {organisation.name} is {organisation.status}: its activities earn no records",
                      rule="organisation_status")
    if responsible is not None and session.get(people.Staff, responsible) is None:
        raise NotFound(f"no staff member {responsible!r} to name as responsible", field="responsible")
    _check_submitter(session, submitted_by, volunteer.id, region)
    _check_times(session, pol, volunteer_id=volunteer.id, started_at=started_at, ended_at=ended_at, minutes=minutes,
                 at=at)

    salt, digest = journal.commitment(place, notes)
    record = ServiceRecord(
        id=new_id("rec"), region_id=region.id, bank_id=bank.id, volunteer_id=volunteer.id, elder_id=elder.id,
        catalogue_code=item.code, started_at=started_at, ended_at=ended_at, minutes=minutes, details_salt=salt,
        details_commitment=digest, organisation_id=organisation_id, responsible=responsible, paid=paid,
        status="submitted", submitted_by=submitted_by, submitted_at=at, confirm_attempts=0,
    )
    people.seal_into(sealer, record, place=place, notes=notes)
    code = issue_code(record, confirm_deadline(ended_at, pol.confirm_deadline_working_days))
    session.add(record)
    session.flush()
    entry = write_event(session, writer, record, bank, "submitted", at=at, policy_version=pol.version,
                        volunteer=volunteer.id, elder=elder.id, catalogue=item.code, minutes=minutes,
                        started=store.format_time(started_at), ended=store.format_time(ended_at), paid=paid,
                        organisation=organisation_id, responsible=responsible, by=submitted_by,
                        details_commitment=digest)
    record.submit_entry_id = entry.id
    add_event(session, record, "submitted", actor=submitted_by, at=at, entry=entry,
              on_behalf_of=volunteer.id if submitted_by != volunteer.id else None)
    idempotency.remember(session, idempotency_key, "submit_record", params, record.id, at)
    return record, code
