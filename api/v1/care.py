"""Care agreements, contacts and the compliance list."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates

from timebank import care, journal, people, regions
from timebank.care import CareAgreement, Contact
from timebank.errors import NotFound, NotPermitted

from .. import access, auth
from ..db import get_session
from ..paging import PageQuery, Paged, page
from ..transact import commits, writes
from .common import Day, Id, Receipt, Strict, now, sealer, writer
from ..paging import decode_int_cursor, encode_int_cursor
from .credits_schemas import DateRange, time_bounds

blp = Blueprint("care", __name__, url_prefix="/api/v1",
                description="Care agreements, contacts and the compliance list.")

STAFF = auth.STAFF_ROLES


# --- schemas ------------------------------------------------------------------------------------

class CareAgreementBody(Strict):
    elder_id = Id(required=True)
    carer_kind = fields.String(required=True, validate=validate.OneOf(care.CARER_KINDS))
    carer_id = Id(load_default=None, metadata={"description": "a volunteer's id, or a registered relative's"})
    carer_name = fields.String(load_default=None, validate=validate.Length(min=1, max=50),
                               metadata={"description": "personal data: a carer who is not registered"})
    starts_on = Day(required=True)
    contacts_per_week = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1, max=21),
                                       metadata={"description": "default: policy care_contacts_per_week"})


class CareEndBody(Strict):
    ends_on = Day(required=True, metadata={"description": "the last day in force"})


class CareAgreementQuery(PageQuery):
    region_id = Id(load_default=None, metadata={"description": "default: your whole subtree"})
    elder_id = Id(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(("open", "ended")))


class CareAgreementReceipts(Schema):
    signed = fields.Nested(Receipt)
    ended = fields.Nested(Receipt, allow_none=True)


class CareAgreementSummary(Schema):
    id = fields.String()
    elder_id = fields.String()
    region_id = fields.String()
    carer_kind = fields.String()
    carer_id = fields.String(allow_none=True)
    contacts_per_week = fields.Integer()
    starts_on = Day()
    ends_on = Day(allow_none=True)
    signed_by = fields.String()
    signed_at = fields.DateTime()
    ended_by = fields.String(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    receipts = fields.Nested(CareAgreementReceipts)


class CareAgreementOut(CareAgreementSummary):
    carer_name = fields.String(allow_none=True, metadata={
        "description": "personal data, only for those who see the elder's: an unregistered carer's name"})


class CareAgreementPage(Paged):
    items = fields.List(fields.Nested(CareAgreementSummary))


class CareContactBody(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(care.CONTACT_KINDS))
    happened_at = fields.AwareDateTime(required=True, format="iso", default_timezone=None)
    minutes = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1, max=1440))
    note = fields.String(load_default=None, validate=validate.Length(max=1000),
                         metadata={"description": "personal data, sealed at rest"})


class CareContactOut(Schema):
    id = fields.String()
    agreement_id = fields.String()
    kind = fields.String()
    happened_at = fields.DateTime()
    by = fields.String()
    minutes = fields.Integer(allow_none=True)
    at = fields.DateTime()
    has_note = fields.Boolean()
    note = fields.String(allow_none=True, metadata={"description": "only for those who see the elder's personal data"})


class CareContactPage(Paged):
    items = fields.List(fields.Nested(CareContactOut))


class CareComplianceQuery(PageQuery):
    week_start = Day(required=True, metadata={"description": "a Monday (China time)"})
    behind_only = fields.Boolean(load_default=False)

    @validates("week_start")
    def _monday(self, value: date, **_: Any) -> None:
        if value.weekday() != 0:
            raise ValidationError("must be a Monday")


class CareComplianceRowOut(Schema):
    agreement_id = fields.String()
    elder_id = fields.String()
    carer_kind = fields.String()
    carer_id = fields.String(allow_none=True)
    contacts_per_week = fields.Integer()
    required = fields.Integer(metadata={"description": "pro rata for a part week"})
    done = fields.Integer()
    missing = fields.Integer()
    behind = fields.Boolean()


class CareCompliancePage(Paged):
    region_id = fields.String()
    week_start = Day()
    items = fields.List(fields.Nested(CareComplianceRowOut))


class CareVisitRateQuery(Strict):
    month = Day(required=True, metadata={"description": "the first day of the month: YYYY-MM-01"})

    @validates("month")
    def _first(self, value: date, **_: Any) -> None:
        if value.day != 1:
            raise ValidationError("must be the first day of a month (YYYY-MM-01)")


class CareVisitRateOut(Schema):
    region_id = fields.String()
    month = Day()
    visited = fields.Integer(metadata={"description": "elders visited at least once (calls do not count)"})
    elders = fields.Integer(metadata={"description": "elders with an agreement in force in the month"})
    rate = fields.Float(allow_none=True, metadata={"description": "visited / elders; null with no elders"})


# --- scope --------------------------------------------------------------------------------------

def _covers(session: Any, who: auth.Caller, region_id: str) -> bool:
    return who.is_staff and regions.covers(who.region, regions.get_region(session, region_id))  # type: ignore[arg-type]


def _visible(session: Any, who: auth.Caller, agreement_id: str) -> CareAgreement:
    """The agreement, if the caller is staff covering it, its carer, or its elder or their proxy. Raises NotFound."""
    found = session.get(CareAgreement, agreement_id)
    seen = found is not None and (
        _covers(session, who, found.region_id)
        or (who.subject_id is not None and who.subject_id in (found.carer_id, found.elder_id))
        or (who.role == "proxy" and access.proxied_elder(session, who) == found.elder_id))
    if not seen:
        raise NotFound(f"no care agreement {agreement_id!r}", field="agreement_id")
    return found


def _sees(session: Any, who: auth.Caller, agreement: CareAgreement) -> bool:
    return access.sees_personal_data(session, who, people.get_elder(session, agreement.elder_id))


def _receipt(session: Any, entry_id: str | None) -> dict[str, Any] | None:
    entry = session.get(journal.Entry, entry_id) if entry_id else None
    return entry.receipt() if entry is not None else None


def _summary(session: Any, agreement: CareAgreement) -> dict[str, Any]:
    return {**{name: getattr(agreement, name) for name in CareAgreementSummary().fields if name != "receipts"},
            "receipts": {"signed": _receipt(session, agreement.entry_id),
                         "ended": _receipt(session, agreement.end_entry_id)}}


def _full(session: Any, who: auth.Caller, agreement: CareAgreement, action: str = "read") -> dict[str, Any]:
    """The agreement with the carer's name for those who see the elder's personal data (logged)."""
    name = None
    if agreement.carer_name_sealed is not None and _sees(session, who, agreement):
        name = sealer().open(agreement.carer_name_sealed, where=people.where(agreement, "carer_name_sealed"))
        access.log_access(session, who, agreement.elder_id, ["carer_name"], action=action)
    return {**_summary(session, agreement), "carer_name": name}


def _contact(contact: Contact, note: str | None) -> dict[str, Any]:
    return {**{name: getattr(contact, name) for name in ("id", "agreement_id", "kind", "happened_at", "by", "minutes",
                                                         "at")},
            "has_note": contact.note_sealed is not None, "note": note}


def _open_note(contact: Contact) -> str | None:
    if contact.note_sealed is None:
        return None
    return sealer().open(contact.note_sealed, where=people.where(contact, "note_sealed"))


# --- agreements ---------------------------------------------------------------------------------

@blp.route("/care-agreements", methods=["POST"])
@writes
@blp.arguments(CareAgreementBody)
@blp.response(201, CareAgreementOut)
def sign(body: dict[str, Any]) -> dict[str, Any]:
    """Sign a care agreement (关爱服务协议) between an elder and a carer (a coordinator or
    administrator covering the elder)."""
    who = auth.require(*STAFF)
    session = get_session()
    elder = access.check_person(session, who, body["elder_id"])
    if not isinstance(elder, people.Elder):
        raise NotFound(f"no elder {body['elder_id']!r}", field="elder_id")
    agreement = care.sign_agreement(
        session, writer(), sealer(), elder_id=elder.id, carer_kind=body["carer_kind"], signed_by=who.subject_id or "",
        starts_on=body["starts_on"], at=now(), carer_id=body["carer_id"], carer_name=body["carer_name"],
        contacts_per_week=body["contacts_per_week"])
    return _full(session, who, agreement, action="change")


@blp.route("/care-agreements", methods=["GET"])
@blp.arguments(CareAgreementQuery, location="query")
@blp.response(200, CareAgreementPage)
def list_agreements(query: dict[str, Any]) -> dict[str, Any]:
    """Care agreements in your subtree, or under `region_id` (staff)."""
    who = auth.require(*STAFF)
    session = get_session()
    region = access.check_region(session, who, query["region_id"]) if query["region_id"] else who.region
    assert region is not None
    select = sa.select(CareAgreement).where(regions.in_subtree(CareAgreement.region_id, region))
    if query["elder_id"]:
        select = select.where(CareAgreement.elder_id == query["elder_id"])
    if query["status"] == "open":
        select = select.where(CareAgreement.ended_at.is_(None))
    elif query["status"] == "ended":
        select = select.where(CareAgreement.ended_at.is_not(None))
    rows, cursor = page(session, select, CareAgreement.id, limit=query["limit"], cursor=query["cursor"])
    return {"items": [_summary(session, row) for row in rows], "next": cursor}


@blp.route("/care-agreements/<agreement_id>", methods=["GET"])
@commits
@blp.response(200, CareAgreementOut)
def get_agreement(agreement_id: str) -> dict[str, Any]:
    """One agreement (staff covering it, its carer, the elder or their proxy)."""
    who = auth.require()
    session = get_session()
    return _full(session, who, _visible(session, who, agreement_id))


@blp.route("/care-agreements/<agreement_id>/end", methods=["POST"])
@writes
@blp.arguments(CareEndBody)
@blp.response(200, CareAgreementOut)
def end(body: dict[str, Any], agreement_id: str) -> dict[str, Any]:
    """End an agreement on its last day in force (staff covering it)."""
    who = auth.require(*STAFF)
    session = get_session()
    _visible(session, who, agreement_id)
    agreement = care.end_agreement(session, writer(), agreement_id=agreement_id, ends_on=body["ends_on"],
                                   by=who.subject_id or "", at=now())
    return _full(session, who, agreement)


# --- contacts -----------------------------------------------------------------------------------

@blp.route("/care-agreements/<agreement_id>/contacts", methods=["POST"])
@writes
@blp.arguments(CareContactBody)
@blp.response(201, CareContactOut)
def log_contact(body: dict[str, Any], agreement_id: str) -> dict[str, Any]:
    """Log a call or visit (its carer, or staff covering it). The note is personal data, sealed."""
    who = auth.require("volunteer", "proxy", *STAFF)
    session = get_session()
    agreement = _visible(session, who, agreement_id)
    if not who.is_staff and who.subject_id != agreement.carer_id:
        raise NotPermitted("only the agreement's carer or staff covering it log contacts", field="agreement_id")
    contact = care.log_contact(session, sealer(), agreement_id=agreement.id, kind=body["kind"],
                               happened_at=body["happened_at"], by=who.subject_id or "", at=now(),
                               minutes=body["minutes"], note=body["note"])
    note = None
    if contact.note_sealed is not None:
        access.log_access(session, who, agreement.elder_id, ["note"], action="change")
        note = _open_note(contact) if _sees(session, who, agreement) else None
    return _contact(contact, note)


@blp.route("/care-agreements/<agreement_id>/contacts", methods=["GET"])
@commits
@blp.arguments(DateRange, location="query")
@blp.response(200, CareContactPage)
def contacts(query: dict[str, Any], agreement_id: str) -> dict[str, Any]:
    """An agreement's calls and visits, newest first (its carer, or staff covering it); notes only
    for those who see the elder's personal data."""
    who = auth.require()
    session = get_session()
    agreement = _visible(session, who, agreement_id)
    if not who.is_staff and who.subject_id != agreement.carer_id:
        raise NotPermitted("only the agreement's carer or staff covering it read its contacts", field="agreement_id")
    select = sa.select(Contact).where(Contact.agreement_id == agreement.id)
    lo, hi = time_bounds(query)
    if lo is not None:
        select = select.where(Contact.happened_at >= lo)
    if hi is not None:
        select = select.where(Contact.happened_at < hi)
    rows, cursor = page(session, select, Contact.id, limit=query["limit"], cursor=query["cursor"])
    sees = _sees(session, who, agreement)
    items = [_contact(row, _open_note(row) if sees else None) for row in rows]
    if sees and any(row.note_sealed is not None for row in rows):
        access.log_access(session, who, agreement.elder_id, ["note"])
    return {"items": items, "next": cursor}


# --- supervision --------------------------------------------------------------------------------

@blp.route("/regions/<region_id>/care-compliance", methods=["GET"])
@blp.arguments(CareComplianceQuery, location="query")
@blp.response(200, CareCompliancePage)
def compliance(query: dict[str, Any], region_id: str) -> dict[str, Any]:
    """The week's agreements in the region's subtree with contacts required and done, the most
    behind first (staff covering the region). The cursor is a position in that order."""
    who = auth.require(*STAFF)
    session = get_session()
    region = access.check_region(session, who, region_id)
    rows = care.compliance(session, region_id=region.id, week_start=query["week_start"], at=now())
    if query["behind_only"]:
        rows = [row for row in rows if row.behind]
    start, limit = decode_int_cursor(query["cursor"]) or 0, query["limit"]
    chosen = rows[start:start + limit]
    items = [{"agreement_id": row.agreement.id, "elder_id": row.elder_id, "carer_kind": row.agreement.carer_kind,
              "carer_id": row.agreement.carer_id, "contacts_per_week": row.agreement.contacts_per_week,
              "required": row.required, "done": row.done, "missing": row.missing, "behind": row.behind}
             for row in chosen]
    more = start + limit < len(rows)
    return {"region_id": region.id, "week_start": query["week_start"], "items": items,
            "next": encode_int_cursor(start + limit) if more else None}


@blp.route("/regions/<region_id>/visit-rate", methods=["GET"])
@blp.arguments(CareVisitRateQuery, location="query")
@blp.response(200, CareVisitRateOut)
def visit_rate(query: dict[str, Any], region_id: str) -> dict[str, Any]:
    """Elders visited at least once in the month over elders with an agreement in force (启东's
    100% target), for the region's subtree (staff covering it, or an auditor)."""
    who = auth.require(*STAFF, "auditor")
    session = get_session()
    region = access.check_region(session, who, region_id)
    visited, elders = care.monthly_visit_rate(session, region_id=region.id, month=query["month"])
    return {"region_id": region.id, "month": query["month"], "visited": visited, "elders": elders,
            "rate": visited / elders if elders else None}
