"""The wire contract of balances, history, redemptions, gifts, estates, points and expiry; and the
cursors of lists that are not ordered by a string id."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from timebank import accounts, gifts, policy, redemption
from timebank import points as point_rules
from timebank.checks import china_days

from ..paging import PageQuery, Paged
from .common import Day, Id, Receipt, Strict

# --- cursors ------------------------------------------------------------------------------------




# --- shared query pieces ------------------------------------------------------------------------


class DateRange(PageQuery):
    """A page, within China days `from`–`to` (both included)."""

    start = Day(data_key="from", load_default=None, metadata={"description": "first day (China time)"})
    end = Day(data_key="to", load_default=None, metadata={"description": "last day (China time)"})

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError({"to": ["must not be before from"]})


def time_bounds(query: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """UTC bounds [lo, hi) of the query's China days."""
    start: date | None = query.get("start")
    end: date | None = query.get("end")
    lo = china_days(start, start)[0] if start else None
    hi = china_days(end + timedelta(days=1), end + timedelta(days=1))[0] if end else None
    return lo, hi


# --- balances and history -----------------------------------------------------------------------


class BankBalanceOut(Schema):
    bank_id = fields.String()
    credit_minutes = fields.Integer()
    points = fields.Integer()


class PersonBalanceOut(Schema):
    person_id = fields.String()
    credit_minutes = fields.Integer(metadata={"description": "credit over all banks, in minutes (60 = 1 时间币)"})
    points = fields.Integer(metadata={"description": "points (积分) over all banks"})
    held_minutes = fields.Integer(metadata={"description": "credit held for redemptions still requested"})
    banks = fields.List(fields.Nested(BankBalanceOut))


class PostingHistoryQuery(DateRange):
    unit = fields.String(load_default=None, validate=validate.OneOf(accounts.UNITS))


class PostingHistoryItem(Schema):
    posting_id = fields.Integer()
    at = fields.DateTime()
    bank_id = fields.String()
    unit = fields.String()
    amount = fields.Integer(metadata={"description": "into (positive) or out of (negative) the person's account"})
    entry_type = fields.String()
    subject_id = fields.String(allow_none=True, metadata={"description": "the record, redemption, gift… it moved for"})
    receipt = fields.Nested(Receipt)


class PostingHistoryPage(Paged):
    items = fields.List(fields.Nested(PostingHistoryItem))


# --- redemptions --------------------------------------------------------------------------------


class RedemptionBody(Strict):
    redeemer_id = Id(required=True, metadata={"description": "the elder or volunteer whose credit pays"})
    catalogue_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=redemption.MAX_MINUTES))
    region_id = Id(required=True, metadata={"description": "where the service is given"})


class RedemptionCompleteBody(Strict):
    provider_volunteer_id = Id(load_default=None, metadata={"description": "the volunteer who gave the service"})
    station_id = Id(load_default=None, metadata={"description": "or the station that gave it (paid by the bank)"})


class RedemptionReceipts(Schema):
    hold = fields.Nested(Receipt, allow_none=True, metadata={"description": "home bank: credit held"})
    release = fields.Nested(Receipt, allow_none=True, metadata={"description": "home bank: paid out or returned"})
    away = fields.Nested(Receipt, allow_none=True, metadata={"description": "serving bank's entry (away from home)"})
    link = fields.Nested(Receipt, allow_none=True, metadata={"description": "home bank: names the away entry"})


class RedemptionOut(Schema):
    id = fields.String()
    redeemer_id = fields.String()
    home_bank_id = fields.String()
    serving_bank_id = fields.String()
    region_id = fields.String()
    catalogue_code = fields.String()
    minutes = fields.Integer()
    credit_minutes = fields.Integer()
    policy_version = fields.Integer()
    status = fields.String()
    requested_by = fields.String()
    on_behalf_of = fields.String(allow_none=True)
    provider_kind = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    completed_by = fields.String(allow_none=True)
    cancelled_by = fields.String(allow_none=True)
    requested_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    is_away = fields.Boolean()
    receipts = fields.Nested(RedemptionReceipts)


class RedemptionQuery(DateRange):
    status = fields.String(load_default=None, validate=validate.OneOf(redemption.STATUSES))
    region_id = Id(load_default=None, metadata={"description": "the service's region or below"})
    redeemer_id = Id(load_default=None)


class RedemptionPage(Paged):
    items = fields.List(fields.Nested(RedemptionOut))


# --- gifts and estates --------------------------------------------------------------------------


class GiftBody(Strict):
    recipient_id = Id(required=True)
    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=gifts.MAX_GIFT))
    relation = fields.String(required=True, validate=validate.OneOf(policy.RELATIONS),
                             metadata={"description": "what the recipient is to the giver"})


class GiftReceipts(Schema):
    entry = fields.Nested(Receipt, metadata={"description": "the giver's bank"})
    away = fields.Nested(Receipt, allow_none=True, metadata={"description": "the recipient's bank, when another"})
    link = fields.Nested(Receipt, allow_none=True)


class GiftOut(Schema):
    id = fields.String()
    giver_id = fields.String()
    recipient_id = fields.String()
    giver_bank_id = fields.String()
    recipient_bank_id = fields.String()
    minutes = fields.Integer()
    relation = fields.String(metadata={"description": "personal data: what the recipient is to the giver"})
    policy_version = fields.Integer()
    at = fields.DateTime()
    receipts = fields.Nested(GiftReceipts)


class GiftPage(Paged):
    items = fields.List(fields.Nested(GiftOut))


class EstateOut(Schema):
    id = fields.String()
    person_id = fields.String()
    heir_id = fields.String(allow_none=True, metadata={"description": "None: returned to the bank's pool"})
    minutes = fields.Integer()
    settled_by = fields.String()
    at = fields.DateTime()
    receipts = fields.List(fields.Nested(Receipt))


# --- points and expiry --------------------------------------------------------------------------


class PointSpendBody(Strict):
    volunteer_id = Id(required=True)
    points = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=point_rules.MAX_POINTS))
    shop = fields.String(required=True, validate=validate.OneOf(point_rules.SHOPS))
    item = fields.String(required=True, validate=validate.Length(min=1, max=point_rules.MAX_ITEM),
                         metadata={"description": "the goods, briefly (no personal data)"})


class PointSpendOut(Schema):
    id = fields.String()
    volunteer_id = fields.String()
    bank_id = fields.String()
    shop = fields.String()
    points = fields.Integer()
    item = fields.String()
    at = fields.DateTime()
    receipt = fields.Nested(Receipt)


class ExpiredCreditOut(Schema):
    person_id = fields.String()
    credit_minutes = fields.Integer()
    receipt = fields.Nested(Receipt)


class CreditExpiryOut(Schema):
    bank_id = fields.String()
    at = fields.DateTime()
    total_minutes = fields.Integer()
    expired = fields.List(fields.Nested(ExpiredCreditOut))
