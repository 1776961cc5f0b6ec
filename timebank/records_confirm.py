"""Confirming a service record: by the elder's one-time code, by a family member (proxy), or by a
coordinator's witness, before the confirmation deadline."""

from __future__ import annotations

import hmac
from datetime import datetime

from sqlalchemy.orm import Session

from ledger.writer import Writer

from . import people
from .errors import Conflict, InvalidInput, NotFound, NotPermitted, Refused
from .checks import aware
from .records import (
    MAX_CODE_ATTEMPTS,
    ServiceRecord,
    add_event,
    code_hash,
    confirm_deadline,
    issue_code,
    lock_record,
    policy_of,
    staff_for,
    write_event,
)
from .regions import Region


class WrongCode(Refused):
    """A wrong one-time code. The failed attempt is counted in the session before this is raised:
    the caller must commit it (not roll back), or guessing would be unlimited."""

    code = "wrong_code"
    keep_changes = True


def _open_for_confirmation(session: Session, record: ServiceRecord, at: datetime) -> int:
    """Refuse unless the record awaits confirmation and its deadline has not passed; the policy version."""
    if record.status != "submitted":
        raise Conflict(f"record {record.id} is {record.status}; only a submitted record can be confirmed",
                       field="status")
    pol = policy_of(session, record)
    if at >= confirm_deadline(record.ended_at, pol.confirm_deadline_working_days):
        raise Refused(f"the {pol.confirm_deadline_working_days} working days to confirm this record have passed",
                      rule="confirm_deadline_working_days")
    return pol.version


def _confirm(
    session: Session, writer: Writer, record: ServiceRecord, bank: Region, *, kind: str, actor: str,
    on_behalf_of: str | None, at: datetime, policy_version: int,
) -> ServiceRecord:
    entry = write_event(session, writer, record, bank, "confirmed", at=at, policy_version=policy_version, kind=kind,
                        actor=actor, on_behalf_of=on_behalf_of)
    record.status = "confirmed"
    record.confirmed_kind, record.confirmed_by, record.on_behalf_of, record.confirmed_at = kind, actor, on_behalf_of, at
    record.confirm_code_hash, record.confirm_code_expires_at = None, None
    add_event(session, record, "confirmed", actor=actor, on_behalf_of=on_behalf_of, at=at, entry=entry)
    return record


def new_code(session: Session, *, record_id: str, requested_by: str, at: datetime) -> str:
    """Issue a new one-time code for a submitted record (the old one dies, the attempt count
    restarts); it expires at the confirmation deadline. `requested_by` is the volunteer, the
    submitter, or staff covering the elder's region.

    Raises NotFound, NotPermitted (requester), Conflict (not awaiting confirmation), Refused
    (confirm_deadline_working_days passed).
    """
    at = aware(at, "at")
    record, _bank = lock_record(session, record_id)
    if requested_by not in (record.volunteer_id, record.submitted_by):
        staff_for(session, record, requested_by)
    _open_for_confirmation(session, record, at)
    pol = policy_of(session, record)
    code = issue_code(record, confirm_deadline(record.ended_at, pol.confirm_deadline_working_days))
    add_event(session, record, "code_issued", actor=requested_by, at=at)
    return code


def check_code(session: Session, *, record_id: str, code: str, at: datetime) -> tuple[ServiceRecord, Region, int]:
    """The record awaiting confirmation whose live one-time code is `code`, locked, with its bank and
    the policy version in force, without confirming it (a page shows the service before the elder
    says yes). A wrong code is counted before WrongCode is raised: the caller must commit then.

    Raises NotFound, InvalidInput (not 6 digits), Conflict (not awaiting confirmation), Refused with
    rule confirm_deadline_working_days, confirm_attempts (5 wrong codes: ask for a new one) or
    confirm_code_expired, and WrongCode (a Refused, rule confirm_code) after counting the attempt.
    """
    at = aware(at, "at")
    if not (isinstance(code, str) and len(code.strip()) == 6 and code.strip().isascii() and code.strip().isdigit()):
        raise InvalidInput("the confirmation code is 6 digits", field="code")
    record, bank = lock_record(session, record_id)
    version = _open_for_confirmation(session, record, at)
    if record.confirm_attempts >= MAX_CODE_ATTEMPTS:
        raise Refused(f"{MAX_CODE_ATTEMPTS} wrong codes were given; ask for a new code", rule="confirm_attempts")
    expires = record.confirm_code_expires_at
    if record.confirm_code_hash is None or expires is None or at >= expires:
        raise Refused("this confirmation code has expired; ask for a new code", rule="confirm_code_expired")
    if not hmac.compare_digest(code_hash(record.id, code.strip()), record.confirm_code_hash):
        record.confirm_attempts += 1
        session.flush()
        left = MAX_CODE_ATTEMPTS - record.confirm_attempts
        raise WrongCode(f"wrong confirmation code; {left} tr{'y' if left == 1 else 'ies'} left"
                        if left else "wrong confirmation code; ask for a new code", rule="confirm_code",
                        attempts_left=left)
    return record, bank, version


def confirm_with_code(session: Session, writer: Writer, *, record_id: str, code: str, at: datetime) -> ServiceRecord:
    """Confirm with the elder's one-time code (the elder confirms). Raises as `check_code` does."""
    record, bank, version = check_code(session, record_id=record_id, code=code, at=at)
    return _confirm(session, writer, record, bank, kind="code", actor=record.elder_id, on_behalf_of=None,
                    at=aware(at, "at"), policy_version=version)


def confirm_as_proxy(
    session: Session, writer: Writer, *, record_id: str, relative_id: str, at: datetime
) -> ServiceRecord:
    """Confirm on the elder's behalf as a family member or proxy who may confirm.

    Raises NotFound (record, relative), NotPermitted (not this elder's relative, or may not confirm),
    Conflict (not awaiting confirmation), Refused with rule confirm_deadline_working_days or
    self_confirmation_allowed (the relative is the record's volunteer).
    """
    at = aware(at, "at")
    record, bank = lock_record(session, record_id)
    relative = session.get(people.Relative, relative_id) if isinstance(relative_id, str) else None
    if relative is None or relative.removed_at is not None:
        raise NotFound(f"no relative {relative_id!r}", field="relative_id")
    if relative.elder_id != record.elder_id:
        raise NotPermitted(f"relative {relative.id} does not act for this record's elder", field="relative_id")
    if not relative.may_confirm:
        raise NotPermitted(f"relative {relative.id} may not confirm records for this elder; a coordinator can "
                           "grant it", field="relative_id")
    version = _open_for_confirmation(session, record, at)
    pol = policy_of(session, record)
    if relative.person_id == record.volunteer_id and not pol.self_confirmation_allowed:
        raise Refused("a volunteer may not confirm their own record, even as the elder's relative",
                      rule="self_confirmation_allowed")
    return _confirm(session, writer, record, bank, kind="proxy", actor=relative.id, on_behalf_of=record.elder_id,
                    at=at, policy_version=version)


def confirm_as_witness(
    session: Session, writer: Writer, *, record_id: str, staff_id: str, at: datetime
) -> ServiceRecord:
    """Confirm on the elder's behalf as staff covering the elder's region who witnessed it.

    Raises NotFound (record, staff), NotPermitted (staff out of region), Conflict (not awaiting
    confirmation), Refused with rule confirm_deadline_working_days or self_confirmation_allowed
    (the staff member submitted the record).
    """
    at = aware(at, "at")
    record, bank = lock_record(session, record_id)
    staff = staff_for(session, record, staff_id)
    version = _open_for_confirmation(session, record, at)
    pol = policy_of(session, record)
    if staff.id == record.submitted_by and not pol.self_confirmation_allowed:
        raise Refused("staff who submitted a record may not also witness it; ask the elder, a relative or another "
                      "coordinator", rule="self_confirmation_allowed")
    return _confirm(session, writer, record, bank, kind="witness", actor=staff.id, on_behalf_of=record.elder_id,
                    at=at, policy_version=version)
