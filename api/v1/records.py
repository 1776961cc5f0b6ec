"""Service records: submit, confirm, verify, reject, dispute, reverse, rate, complain, queues."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_smorest import Blueprint
from marshmallow import RAISE
from sqlalchemy.orm import Session

from timebank import journal, people, records_confirm, records_feedback, records_queries, records_review, regions
from timebank import schools
from timebank.errors import DomainError, InvalidInput, NotFound, NotPermitted, Refused
from timebank.records import RecordComplaint, RecordEvent, ServiceRecord, get_record, opened, policy_of
from timebank.records_submit import submit_record

from .. import access, auth
from ..db import get_session
from ..errors import STATUS
from ..paging import page
from ..transact import commits, use_case_key, writes
from .common import now, sealer, writer
from .records_schemas import (
    RECORD_FIELDS,
    RecordActionOut,
    RecordBulkOut,
    RecordBulkVerifyBody,
    RecordCodeBody,
    RecordComplaintBody,
    RecordComplaintOut,
    RecordComplaintPage,
    RecordEventPage,
    RecordNewCodeOut,
    RecordQueueQuery,
    RecordRatingBody,
    RecordReasonBody,
    RecordDetailOut,
    RecordPage,
    RecordQuery,
    RecordResolveBody,
    RecordSubmitBody,
    RecordSubmittedOut,
    day_bounds,
)

blp = Blueprint("records", __name__, url_prefix="/api/v1",
                description="Service records: submit, confirm, verify, reject, dispute, reverse, rate, complain, "
                            "queues.")

READERS = ("volunteer", "elder", "proxy", "coordinator", "administrator", "school")
STAFF = auth.STAFF_ROLES
FOR_ELDER = ("elder", "proxy")
PERSONAL = ["place", "notes", "comment"]


# --- scope --------------------------------------------------------------------------------------

def _visible(session: Session, who: auth.Caller, record: ServiceRecord) -> bool:
    """The volunteer their own; the elder and their proxy records about the elder; staff their
    subtree; a school the posted records of its students."""
    if who.role == "volunteer":
        return record.volunteer_id == who.subject_id
    if who.role == "elder":
        return record.elder_id == who.subject_id
    if who.role == "proxy":
        return record.elder_id == access.proxied_elder(session, who)
    if who.is_staff:
        return regions.covers(who.region, regions.get_region(session, record.region_id))  # type: ignore[arg-type]
    if who.role == "school":
        return record.status == "posted" and schools.is_student(session, who.subject_id, record.volunteer_id)
    return False


def _scope(session: Session, who: auth.Caller) -> sa.ColumnElement[bool]:
    """The SQL form of `_visible`."""
    if who.role == "volunteer" and who.subject_id:
        return ServiceRecord.volunteer_id == who.subject_id
    if who.role == "elder" and who.subject_id:
        return ServiceRecord.elder_id == who.subject_id
    if who.role == "proxy":
        elder_id = access.proxied_elder(session, who)
        return ServiceRecord.elder_id == elder_id if elder_id else sa.false()
    if who.is_staff:
        return regions.in_subtree(ServiceRecord.region_id, who.region)  # type: ignore[arg-type]
    if who.role == "school" and who.subject_id:
        students = schools.students_of(session, who.subject_id)
        return sa.and_(ServiceRecord.status == "posted", ServiceRecord.volunteer_id.in_(students))
    return sa.false()


def _record(session: Session, who: auth.Caller, record_id: str) -> ServiceRecord:
    """The record, if the caller may see it; otherwise NotFound, as if it did not exist."""
    try:
        record = get_record(session, record_id)
    except NotFound:
        record = None
    if record is None or not _visible(session, who, record):
        raise NotFound(f"no service record {record_id!r}", field="record_id")
    return record


def _sees_personal_data(who: auth.Caller) -> bool:
    """Of those who see a record, all but schools see its place, notes and comment."""
    return who.role != "school"


def _acting(session: Session, who: auth.Caller, record_id: str, roles: tuple[str, ...]) -> ServiceRecord:
    """The record a caller of one of `roles` acts on: NotFound out of scope, NotPermitted for
    another role that sees it."""
    record = _record(session, who, record_id)
    if who.role not in roles:
        raise NotPermitted(f"this needs one of the roles {', '.join(roles)}; you are signed in as {who.role}")
    return record


# --- shaping ------------------------------------------------------------------------------------

def _summary(record: ServiceRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in RECORD_FIELDS}


def _detail(session: Session, who: auth.Caller, record: ServiceRecord, action: str = "read") -> dict[str, Any]:
    """The record, with its personal data for those who see it (and the access logged)."""
    shown = _summary(record)
    if _sees_personal_data(who):
        shown.update(opened(sealer(), record))
        access.log_access(session, who, record.id, [name for name in PERSONAL if shown.get(name)], action=action)
    return shown


def _receipt(session: Session, entry_id: str | None) -> dict[str, Any] | None:
    entry = session.get(journal.Entry, entry_id) if entry_id else None
    return entry.receipt() if entry is not None else None


def _last_receipt(session: Session, record: ServiceRecord) -> dict[str, Any] | None:
    """The receipt of the last ledger entry a transition of `record` wrote."""
    entry_id = session.scalar(sa.select(RecordEvent.entry_id).where(
        RecordEvent.record_id == record.id, RecordEvent.entry_id.is_not(None)).order_by(RecordEvent.id.desc()).limit(1))
    return _receipt(session, entry_id)


def _done(session: Session, record: ServiceRecord) -> dict[str, Any]:
    return {"record": _summary(record), "receipt": _last_receipt(session, record)}


def _confirm_path(record_id: str, code: str) -> str:
    return f"/confirm/{record_id}?code={code}"


# --- submitting and listing ---------------------------------------------------------------------

def _elder_for(session: Session, who: auth.Caller, body: dict[str, Any]) -> people.Elder:
    if body.get("elder_code"):
        elder = people.find_elder_by_code(session, body["elder_code"])
    else:
        elder = people.get_elder(session, body["elder_id"])
    if who.is_staff and not regions.covers(who.region, regions.get_region(session, elder.region_id)):  # type: ignore[arg-type]
        field = "elder_code" if body.get("elder_code") else "elder_id"
        raise NotFound(f"no elder {body.get(field)!r} in your region", field=field)
    return elder


@blp.route("/records", methods=["POST"])
@writes
@blp.arguments(RecordSubmitBody)
@blp.response(201, RecordSubmittedOut)
def submit(body: dict[str, Any]) -> dict[str, Any]:
    """Log a service: a volunteer for themself, or a coordinator or administrator covering the
    elder's region for a volunteer. The one-time code for the elder is in this response only."""
    who = auth.require("volunteer", *STAFF)
    session = get_session()
    volunteer_id = body.get("volunteer_id")
    if who.role == "volunteer":
        if volunteer_id not in (None, who.subject_id):
            raise NotPermitted("a volunteer logs only their own service; a coordinator logs it for others",
                               field="volunteer_id")
        volunteer_id = who.subject_id
    elif volunteer_id is None:
        raise InvalidInput("name the volunteer who served", field="volunteer_id")
    elder = _elder_for(session, who, body)
    record, code = submit_record(
        session, writer(), sealer(), volunteer_id=volunteer_id, elder_id=elder.id,  # type: ignore[arg-type]
        catalogue_code=body["catalogue_code"], started_at=body["started_at"], ended_at=body["ended_at"],
        submitted_by=who.subject_id, at=now(), minutes=body["minutes"], place=body["place"],  # type: ignore[arg-type]
        notes=body["notes"], paid=body["paid"], organisation_id=body["organisation_id"],
        responsible=body["responsible"], idempotency_key=use_case_key())
    return {"record": _detail(session, who, record, action="change"),
            "receipt": _receipt(session, record.submit_entry_id), "code": code,
            "confirm_path": _confirm_path(record.id, code) if code else None}


@blp.route("/records", methods=["GET"])
@blp.arguments(RecordQuery, location="query", unknown=RAISE)
@blp.response(200, RecordPage)
def list_records(query: dict[str, Any]) -> dict[str, Any]:
    """The records the caller may see, newest id first: a volunteer's own, an elder's (or their
    proxy's), staff's subtree, a school's students' posted records."""
    who = auth.require(*READERS)
    session = get_session()
    select = sa.select(ServiceRecord).where(_scope(session, who))
    if query["region_id"]:
        region = (access.check_region(session, who, query["region_id"]) if who.is_staff
                  else regions.get_region(session, query["region_id"]))
        select = select.where(regions.in_subtree(ServiceRecord.region_id, region))
    for name in ("status", "volunteer_id", "elder_id"):
        if query[name]:
            select = select.where(getattr(ServiceRecord, name) == query[name])
    lo, hi = day_bounds(query["start"], query["end"])
    if lo is not None:
        select = select.where(ServiceRecord.started_at >= lo)
    if hi is not None:
        select = select.where(ServiceRecord.started_at < hi)
    items, cursor = page(session, select, ServiceRecord.id, limit=query["limit"], cursor=query["cursor"])
    return {"items": items, "next": cursor}


@blp.route("/records/<record_id>", methods=["GET"])
@commits
@blp.response(200, RecordDetailOut)
def get_one(record_id: str) -> dict[str, Any]:
    """One record; its place, notes and the elder's comment only for those who see personal data
    (the read is logged)."""
    who = auth.require(*READERS)
    session = get_session()
    return _detail(session, who, _record(session, who, record_id))


@blp.route("/records/<record_id>/events", methods=["GET"])
@blp.response(200, RecordEventPage)
def events(record_id: str) -> dict[str, Any]:
    """Every transition of a record, oldest first, with the ledger entry each wrote (one page)."""
    who = auth.require(*READERS)
    session = get_session()
    record = _record(session, who, record_id)
    items = [{"event": e.event, "actor": e.actor, "on_behalf_of": e.on_behalf_of, "at": e.at,
              **({"reason": e.reason} if _sees_personal_data(who) else {}), "receipt": _receipt(session, e.entry_id)}
             for e in records_queries.events_of(session, record.id)]
    return {"items": items, "next": None}


@blp.route("/regions/<region_id>/queue", methods=["GET"])
@blp.arguments(RecordQueueQuery, location="query", unknown=RAISE)
@blp.response(200, RecordPage)
def queue(query: dict[str, Any], region_id: str) -> dict[str, Any]:
    """Records of elders in the region's subtree waiting in `status` (by default confirmed: to be
    verified), for a coordinator or administrator covering it."""
    who = auth.require(*STAFF)
    session = get_session()
    region = access.check_region(session, who, region_id)
    select = sa.select(ServiceRecord).where(regions.in_subtree(ServiceRecord.region_id, region),
                                            ServiceRecord.status == query["status"])
    items, cursor = page(session, select, ServiceRecord.id, limit=query["limit"], cursor=query["cursor"])
    return {"items": items, "next": cursor}


# --- confirmation -------------------------------------------------------------------------------

@blp.route("/records/<record_id>/confirm-code", methods=["POST"])
@writes
@blp.arguments(RecordCodeBody)
@blp.response(200, RecordActionOut)
def confirm_code(body: dict[str, Any], record_id: str) -> dict[str, Any]:
    """Confirm with the elder's one-time code; no account needed (the elder's phone link). A wrong
    code is 422 with `attempts_left`; after five, the record needs a new code."""
    session = get_session()
    who = auth.caller()
    record = get_record(session, record_id)
    if who is not None and who.subject_id == record.volunteer_id and \
            not policy_of(session, record).self_confirmation_allowed:
        raise Refused("nobody confirms their own record; give the link to the elder or a family member",
                      rule="self_confirmation_allowed")
    record = records_confirm.confirm_with_code(session, writer(), record_id=record.id, code=body["code"], at=now())
    return _done(session, record)


@blp.route("/records/<record_id>/new-code", methods=["POST"])
@writes
@blp.response(201, RecordNewCodeOut)
def new_code(record_id: str) -> dict[str, Any]:
    """A new one-time code for a record awaiting confirmation (the old one dies), for the volunteer
    who gave the service, its submitter, or staff covering the elder's region."""
    who = auth.require("volunteer", *STAFF)
    session = get_session()
    record = _record(session, who, record_id)
    code = records_confirm.new_code(session, record_id=record.id, requested_by=who.subject_id,  # type: ignore[arg-type]
                                    at=now())
    return {"record_id": record.id, "code": code, "confirm_path": _confirm_path(record.id, code),
            "expires_at": record.confirm_code_expires_at}


@blp.route("/records/<record_id>/confirm", methods=["POST"])
@writes
@blp.response(200, RecordActionOut)
def confirm(record_id: str) -> dict[str, Any]:
    """Confirm on the elder's behalf: their family member or proxy, or a coordinator or
    administrator covering the region as a witness."""
    who = auth.require("proxy", *STAFF)
    session = get_session()
    record = _acting(session, who, record_id, ("proxy", *STAFF))
    if who.role == "proxy":
        record = records_confirm.confirm_as_proxy(session, writer(), record_id=record.id,
                                                  relative_id=who.subject_id, at=now())  # type: ignore[arg-type]
    else:
        record = records_confirm.confirm_as_witness(session, writer(), record_id=record.id,
                                                    staff_id=who.subject_id, at=now())  # type: ignore[arg-type]
    return _done(session, record)


# --- review -------------------------------------------------------------------------------------

@blp.route("/records/<record_id>/verify", methods=["POST"])
@writes
@blp.response(200, RecordActionOut)
def verify(record_id: str) -> dict[str, Any]:
    """Verify a confirmed record and post its credit: the receipt is the deposit's entry."""
    who = auth.require(*STAFF)
    session = get_session()
    record = _record(session, who, record_id)
    record = records_review.verify_record(session, writer(), record_id=record.id, staff_id=who.subject_id,  # type: ignore[arg-type]
                                          at=now(), idempotency_key=use_case_key())
    return {"record": _summary(record), "receipt": _receipt(session, record.deposit_entry_id)}


def _error(exc: DomainError) -> dict[str, Any]:
    status, code = next((status, code) for kind, status, code in STATUS if isinstance(exc, kind))
    return {"code": code, "status": status, "message": exc.message}


@blp.route("/records/verify", methods=["POST"])
@writes
@blp.arguments(RecordBulkVerifyBody)
@blp.response(200, RecordBulkOut)
def verify_many(body: dict[str, Any]) -> dict[str, Any]:
    """Verify up to 200 records; one refused record does not stop the others. One result per
    distinct id, in the order given."""
    who = auth.require(*STAFF)
    session = get_session()
    ids = list(dict.fromkeys(body["record_ids"]))
    hidden: dict[str, DomainError] = {}
    for record_id in ids:
        try:
            _record(session, who, record_id)
        except NotFound as exc:
            hidden[record_id] = exc
    outcomes = {o.record_id: o for o in records_review.verify_many(
        session, writer(), record_ids=[i for i in ids if i not in hidden], staff_id=who.subject_id,  # type: ignore[arg-type]
        at=now())}
    items = []
    for record_id in ids:
        outcome = outcomes.get(record_id)
        if outcome is not None and outcome.record is not None:
            items.append({"record_id": record_id, "ok": True, "record": _summary(outcome.record),
                          "receipt": _receipt(session, outcome.record.deposit_entry_id), "error": None})
        else:
            error = hidden.get(record_id) or (outcome.error if outcome else None)
            items.append({"record_id": record_id, "ok": False, "record": None, "receipt": None,
                          "error": _error(error) if error else None})
    return {"items": items}


@blp.route("/records/<record_id>/reject", methods=["POST"])
@writes
@blp.arguments(RecordReasonBody)
@blp.response(200, RecordActionOut)
def reject(body: dict[str, Any], record_id: str) -> dict[str, Any]:
    """Reject a submitted, confirmed or disputed record, with a reason (staff covering the region)."""
    who = auth.require(*STAFF)
    session = get_session()
    record = _record(session, who, record_id)
    record = records_review.reject_record(session, writer(), record_id=record.id, staff_id=who.subject_id,  # type: ignore[arg-type]
                                          reason=body["reason"], at=now())
    return _done(session, record)


@blp.route("/records/<record_id>/dispute", methods=["POST"])
@writes
@blp.arguments(RecordReasonBody)
@blp.response(200, RecordActionOut)
def dispute(body: dict[str, Any], record_id: str) -> dict[str, Any]:
    """Dispute a submitted or confirmed record: the elder, their proxy, or staff covering the region."""
    who = auth.require(*FOR_ELDER, *STAFF)
    session = get_session()
    record = _acting(session, who, record_id, (*FOR_ELDER, *STAFF))
    record = records_review.dispute_record(session, writer(), record_id=record.id, by=who.subject_id,  # type: ignore[arg-type]
                                           reason=body["reason"], at=now())
    return _done(session, record)


@blp.route("/records/<record_id>/resolve", methods=["POST"])
@writes
@blp.arguments(RecordResolveBody)
@blp.response(200, RecordActionOut)
def resolve(body: dict[str, Any], record_id: str) -> dict[str, Any]:
    """Settle a dispute: `reject` rejects the record, `reinstate` returns it to where it was."""
    who = auth.require(*STAFF)
    session = get_session()
    record = _record(session, who, record_id)
    record = records_review.resolve_dispute(session, writer(), record_id=record.id, staff_id=who.subject_id,  # type: ignore[arg-type]
                                            outcome=body["outcome"], reason=body["reason"], at=now())
    return _done(session, record)


@blp.route("/records/<record_id>/reverse", methods=["POST"])
@writes
@blp.arguments(RecordReasonBody)
@blp.response(200, RecordActionOut)
def reverse(body: dict[str, Any], record_id: str) -> dict[str, Any]:
    """Cancel a posted record with a reversal entry (an administrator covering the region)."""
    who = auth.require(*STAFF)
    session = get_session()
    record = _acting(session, who, record_id, ("administrator",))
    record = records_review.reverse_record(session, writer(), record_id=record.id, reason=body["reason"],
                                           approver_id=who.subject_id, at=now(),  # type: ignore[arg-type]
                                           idempotency_key=use_case_key())
    return {"record": _summary(record), "receipt": _receipt(session, record.reversal_entry_id)}


# --- feedback -----------------------------------------------------------------------------------

@blp.route("/records/<record_id>/rating", methods=["POST"])
@writes
@blp.arguments(RecordRatingBody)
@blp.response(200, RecordActionOut)
def rate(body: dict[str, Any], record_id: str) -> dict[str, Any]:
    """Rate a confirmed or posted record once (the elder or their proxy): 1–5 stars, a comment."""
    who = auth.require(*FOR_ELDER)
    session = get_session()
    record = _record(session, who, record_id)
    record = records_feedback.rate_record(session, writer(), sealer(), record_id=record.id, by=who.subject_id,  # type: ignore[arg-type]
                                          stars=body["stars"], comment=body["comment"], at=now())
    if body["comment"]:
        access.log_access(session, who, record.id, ["comment"], action="change")
    return _done(session, record)


def _complaint(session: Session, complaint: RecordComplaint) -> dict[str, Any]:
    return {"id": complaint.id, "record_id": complaint.record_id, "by": complaint.by,
            "on_behalf_of": complaint.on_behalf_of, "at": complaint.at, "text": opened(sealer(), complaint)["text"],
            "receipt": _receipt(session, complaint.entry_id)}


@blp.route("/records/<record_id>/complaints", methods=["POST"])
@writes
@blp.arguments(RecordComplaintBody)
@blp.response(201, RecordComplaintOut)
def complain(body: dict[str, Any], record_id: str) -> dict[str, Any]:
    """Complain about a record (the elder or their proxy); the text is sealed, the ledger gets a
    commitment to it."""
    who = auth.require(*FOR_ELDER)
    session = get_session()
    record = _record(session, who, record_id)
    complaint = records_feedback.complain(session, writer(), sealer(), record_id=record.id, by=who.subject_id,  # type: ignore[arg-type]
                                          text=body["text"], at=now())
    access.log_access(session, who, record.id, ["complaint"], action="change")
    return _complaint(session, complaint)


@blp.route("/records/<record_id>/complaints", methods=["GET"])
@commits
@blp.response(200, RecordComplaintPage)
def complaints(record_id: str) -> dict[str, Any]:
    """The complaints about a record, oldest first (staff covering the region; the read is logged)."""
    who = auth.require(*STAFF)
    session = get_session()
    record = _record(session, who, record_id)
    items = [_complaint(session, c) for c in records_queries.complaints_of(session, record.id)]
    if items:
        access.log_access(session, who, record.id, ["complaint"])
    return {"items": items, "next": None}
