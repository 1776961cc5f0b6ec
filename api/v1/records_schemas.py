"""The wire contract of /api/v1/records: bodies, queries and what is served."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from timebank.checks import china_days
from timebank.records import NOTES_LIMIT, PLACE_LIMIT, STATUSES
from timebank.records_feedback import COMMENT_LIMIT, COMPLAINT_LIMIT
from timebank.records_review import OUTCOMES, REASON_LIMIT

from ..paging import Paged, PageQuery
from .common import Day, Id, Receipt, Strict

MAX_BULK = 200
WHEN = {"format": "iso", "default_timezone": None}


# --- bodies -------------------------------------------------------------------------------------

class RecordSubmitBody(Strict):
    """A service record, as the volunteer's form or a coordinator enters it."""

    volunteer_id = Id(load_default=None, metadata={"description": "who served; a volunteer may leave it out"})
    elder_id = Id(load_default=None, metadata={"description": "whom they served (or give elder_code)"})
    elder_code = fields.String(load_default=None, validate=validate.Length(min=1, max=8),
                               metadata={"description": "the elder's six-character short code", "example": "K3M9P2"})
    catalogue_code = fields.String(required=True, validate=validate.Length(min=1, max=32),
                                   metadata={"example": "MEAL"})
    started_at = fields.AwareDateTime(required=True, **WHEN)  # type: ignore[arg-type]
    ended_at = fields.AwareDateTime(required=True, **WHEN)  # type: ignore[arg-type]
    minutes = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1, max=1440),
                             metadata={"description": "actually given, travel excluded; at most the span"})
    place = fields.String(load_default=None, validate=validate.Length(max=PLACE_LIMIT))
    notes = fields.String(load_default=None, validate=validate.Length(max=NOTES_LIMIT))
    paid = fields.Boolean(load_default=False, metadata={"description": "paid or subsidised (低偿/有偿) work"})
    organisation_id = Id(load_default=None)
    responsible = Id(load_default=None, metadata={"description": "the responsible staff member"})

    @validates_schema
    def _one_elder(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("elder_id") is None) == (data.get("elder_code") is None):
            raise ValidationError({"elder_id": ["give either elder_id or elder_code"]})
        if data["ended_at"] <= data["started_at"]:
            raise ValidationError({"ended_at": ["must be after started_at"]})


class RecordCodeBody(Strict):
    code = fields.String(required=True, validate=validate.Regexp(r"^\s*[0-9]{6}\s*$", error="6 digits"),
                         metadata={"example": "042917"})


class RecordReasonBody(Strict):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=REASON_LIMIT))


class RecordResolveBody(Strict):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    reason = fields.String(load_default=None, validate=validate.Length(max=REASON_LIMIT))


class RecordBulkVerifyBody(Strict):
    record_ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=MAX_BULK))


class RecordRatingBody(Strict):
    stars = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(load_default=None, validate=validate.Length(max=COMMENT_LIMIT))


class RecordComplaintBody(Strict):
    text = fields.String(required=True, validate=validate.Length(min=1, max=COMPLAINT_LIMIT))


# --- queries ------------------------------------------------------------------------------------

class RecordQuery(Strict, PageQuery):
    """A page of the records the caller may see, filtered."""

    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    region_id = Id(load_default=None, metadata={"description": "the elder's region or anything under it"})
    volunteer_id = Id(load_default=None)
    elder_id = Id(load_default=None)
    start = Day(data_key="from", load_default=None, metadata={"description": "first day of service (China)"})
    end = Day(data_key="to", load_default=None, metadata={"description": "last day of service (China)"})

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError({"to": ["must not be before from"]})


class RecordQueueQuery(Strict, PageQuery):
    status = fields.String(load_default="confirmed", validate=validate.OneOf(STATUSES))


def day_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """UTC bounds [lo, hi) of the China days `start`–`end`, both included."""
    lo = china_days(start, start)[0] if start else None
    hi = china_days(end + timedelta(days=1), end + timedelta(days=1))[0] if end else None
    return lo, hi


# --- what is served -----------------------------------------------------------------------------

class RecordOut(Schema):
    """A record without its personal data (place, notes, comment)."""

    id = fields.String()
    status = fields.String(metadata={"enum": list(STATUSES)})
    volunteer_id = fields.String()
    elder_id = fields.String()
    region_id = fields.String(metadata={"description": "the elder's region"})
    bank_id = fields.String(metadata={"description": "the elder's bank, whose log holds the record's entries"})
    catalogue_code = fields.String()
    started_at = fields.DateTime()
    ended_at = fields.DateTime()
    minutes = fields.Integer()
    paid = fields.Boolean()
    organisation_id = fields.String(allow_none=True)
    responsible = fields.String(allow_none=True)
    submitted_by = fields.String()
    submitted_at = fields.DateTime()
    disputed_from = fields.String(allow_none=True)
    confirmed_kind = fields.String(allow_none=True, metadata={"enum": ["code", "proxy", "witness", None]})
    confirmed_by = fields.String(allow_none=True)
    on_behalf_of = fields.String(allow_none=True)
    confirmed_at = fields.DateTime(allow_none=True)
    verified_by = fields.String(allow_none=True)
    verified_at = fields.DateTime(allow_none=True)
    credit_minutes = fields.Integer(allow_none=True)
    points = fields.Integer(allow_none=True)
    policy_version = fields.Integer(allow_none=True)
    rating = fields.Integer(allow_none=True)
    rated_at = fields.DateTime(allow_none=True)
    reversed_at = fields.DateTime(allow_none=True)


RECORD_FIELDS = tuple(RecordOut().fields)


class RecordDetailOut(RecordOut):
    """A record; place, notes and the elder's comment only for those who see personal data."""

    place = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)


class RecordPage(Paged):
    items = fields.List(fields.Nested(RecordOut))


class RecordActionOut(Schema):
    """The record after the change, and the ledger entry the change wrote."""

    record = fields.Nested(RecordOut)
    receipt = fields.Nested(Receipt, allow_none=True)


class RecordSubmittedOut(Schema):
    record = fields.Nested(RecordDetailOut)
    receipt = fields.Nested(Receipt, allow_none=True)
    code = fields.String(allow_none=True, metadata={
        "description": "the one-time confirmation code for the elder; shown once (null on a retry)"})
    confirm_path = fields.String(allow_none=True, metadata={"description": "the elder's confirmation link"})


class RecordNewCodeOut(Schema):
    record_id = fields.String()
    code = fields.String(metadata={"description": "shown once; the old code no longer works"})
    confirm_path = fields.String()
    expires_at = fields.DateTime()


class RecordEventOut(Schema):
    event = fields.String()
    actor = fields.String()
    on_behalf_of = fields.String(allow_none=True)
    at = fields.DateTime()
    reason = fields.String(allow_none=True, metadata={"description": "not shown to schools"})
    receipt = fields.Nested(Receipt, allow_none=True)


class RecordEventPage(Paged):
    items = fields.List(fields.Nested(RecordEventOut))


class RecordBulkError(Schema):
    code = fields.String()
    status = fields.Integer()
    message = fields.String()


class RecordBulkItem(Schema):
    record_id = fields.String()
    ok = fields.Boolean()
    record = fields.Nested(RecordOut, allow_none=True)
    receipt = fields.Nested(Receipt, allow_none=True)
    error = fields.Nested(RecordBulkError, allow_none=True)


class RecordBulkOut(Schema):
    items = fields.List(fields.Nested(RecordBulkItem))


class RecordComplaintOut(Schema):
    id = fields.String()
    record_id = fields.String()
    by = fields.String()
    on_behalf_of = fields.String(allow_none=True)
    at = fields.DateTime()
    text = fields.String()
    receipt = fields.Nested(Receipt, allow_none=True)


class RecordComplaintPage(Paged):
    items = fields.List(fields.Nested(RecordComplaintOut))
