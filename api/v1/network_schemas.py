"""The wire contract of the network blueprint: regions, banks, stations, organisations, staff, the
catalogue, policy, statistics and settlement."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ledger.store import MAX_IDS
from timebank import catalogue, people, policy, regions
from timebank.errors import InvalidInput

from ..paging import PageQuery, Paged
from .common import Day, Id, Receipt, Strict

NAME = validate.Length(min=1, max=100)
MAX_DAYS = 3660  # a period of at most ten years


# --- regions and banks --------------------------------------------------------------------------

class RegionQuery(PageQuery):
    parent_id = Id(load_default=None, metadata={"description": "only the children of this region"})
    level = fields.String(load_default=None, validate=validate.OneOf(regions.LEVELS))


class RegionBody(Strict):
    parent_id = Id(required=True, metadata={"description": "a region in your subtree"})
    level = fields.String(required=True, validate=validate.OneOf(regions.LEVELS))
    name_zh = fields.String(required=True, validate=NAME, metadata={"example": "朝阳街道"})
    name_en = fields.String(required=True, validate=NAME, metadata={"example": "Chaoyang"})
    code = fields.String(load_default=None, validate=validate.Length(min=1, max=32),
                         metadata={"description": "an administrative code, unique"})


class RegionOut(Schema):
    id = fields.String()
    parent_id = fields.String(allow_none=True)
    level = fields.String()
    level_name = fields.String(metadata={"example": "县/区"})
    code = fields.String(allow_none=True)
    name_zh = fields.String()
    name_en = fields.String()
    is_bank = fields.Boolean()
    log_id = fields.String(allow_none=True)


class RegionDetailOut(RegionOut):
    ancestor_ids = fields.List(fields.String(), metadata={"description": "from the root down, itself included"})
    bank_id = fields.String(allow_none=True, metadata={"description": "the nearest bank at or above it"})
    origin = fields.String(allow_none=True, metadata={"description": "its log's origin, when it is a bank"})


class RegionPage(Paged):
    items = fields.List(fields.Nested(RegionOut))


class BankBody(Strict):
    log_id = fields.String(required=True, validate=validate.Regexp(
        rf"^[a-z][a-z0-9-]{{0,{MAX_IDS - 1}}}$",
        error=f"a log id is 1–{MAX_IDS} of lowercase letters, digits and '-', starting with a letter"))


class BankOut(RegionDetailOut):
    receipt = fields.Nested(Receipt, metadata={"description": "the bank's opening entry in its own log"})


# --- stations and organisations -----------------------------------------------------------------

class SubtreeQuery(PageQuery):
    subtree = fields.Boolean(load_default=False, metadata={"description": "include the regions below it"})


class StationBody(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class StationOut(Schema):
    id = fields.String()
    region_id = fields.String()
    name = fields.String()
    created_at = fields.DateTime()


class StationPage(Paged):
    items = fields.List(fields.Nested(StationOut))


class OrganisationQuery(SubtreeQuery):
    kind = fields.String(load_default=None, validate=validate.OneOf(regions.ORGANISATION_KINDS))


class OrganisationBody(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(regions.ORGANISATION_KINDS))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    brand_id = Id(load_default=None, metadata={"description": "a team's brand (an organisation of kind brand)"})


class OrganisationOut(Schema):
    id = fields.String()
    region_id = fields.String()
    kind = fields.String()
    name = fields.String()
    brand_id = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "active, suspended or blacklisted (失信黑名单)"})
    created_at = fields.DateTime()


class OrganisationStatusBody(Strict):
    status = fields.String(required=True, validate=validate.OneOf(people.ORGANISATION_STATUSES))
    reason = fields.String(load_default=None, validate=validate.Length(max=1000),
                           metadata={"description": "required to suspend or blacklist; only its digest is public"})


class OrganisationStatusOut(Schema):
    id = fields.String()
    subject_id = fields.String()
    status = fields.String()
    by = fields.String()
    at = fields.DateTime()
    receipt = fields.Nested(Receipt)


class OrganisationPage(Paged):
    items = fields.List(fields.Nested(OrganisationOut))


# --- staff --------------------------------------------------------------------------------------

class StaffBody(Strict):
    region_id = Id(required=True, metadata={"description": "the subtree they cover; in yours"})
    role = fields.String(required=True, validate=validate.OneOf(people.STAFF_ROLES))
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))


class StaffCreatedOut(Schema):
    """A new staff member. The name is not echoed: a response may be kept in clear for Idempotency-Key
    replays, and personal data is kept only sealed."""

    id = fields.String()
    region_id = fields.String()
    role = fields.String()
    active = fields.Boolean()
    created_at = fields.DateTime()


class StaffOut(StaffCreatedOut):
    name = fields.String(metadata={"description": "personal data; each read is logged"})


# --- the catalogue ------------------------------------------------------------------------------

class CatalogueQuery(PageQuery):
    region_id = Id(load_default=None, metadata={"description": "what this region sees, with its policy's weights"})
    category = fields.String(load_default=None, validate=validate.OneOf(catalogue.CATEGORIES))


class CatalogueBody(Strict):
    region_id = Id(required=True, metadata={"description": "the item is visible in this region's subtree"})
    code = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Z0-9_-]{1,32}$", error="a code is 1–32 of A–Z, 0–9, '_' or '-'"), metadata={"example": "LYG-TEA"})
    name_zh = fields.String(required=True, validate=NAME)
    name_en = fields.String(required=True, validate=NAME)
    category = fields.String(required=True, validate=validate.OneOf(catalogue.CATEGORIES))
    weight_pct = fields.Integer(strict=True, load_default=100, validate=validate.Range(min=0, max=1000),
                                metadata={"description": "120 means minutes × 1.2"})
    price_minutes = fields.Integer(strict=True, load_default=None, allow_none=True,
                                   validate=validate.Range(min=1, max=100_000),
                                   metadata={"description": "a fixed price in credit minutes instead of a weight"})
    volunteer_eligible = fields.Boolean(load_default=True)
    training_required = fields.Boolean(load_default=False)


class CatalogueItemOut(Schema):
    code = fields.String()
    region_id = fields.String(allow_none=True, metadata={"description": "null for the national catalogue"})
    name_zh = fields.String()
    name_en = fields.String()
    category = fields.String()
    weight_pct = fields.Integer(metadata={"description": "in force: the policy's weight when a region is given"})
    catalogue_weight_pct = fields.Integer(attribute="weight_pct_own")
    price_minutes = fields.Integer(allow_none=True)
    volunteer_eligible = fields.Boolean()
    training_required = fields.Boolean()
    active = fields.Boolean()
    policy_version = fields.Integer(allow_none=True, metadata={"description": "the policy whose weights apply"})


class CataloguePage(Paged):
    items = fields.List(fields.Nested(CatalogueItemOut))


# --- policy -------------------------------------------------------------------------------------

class PolicyKnobOut(Schema):
    name = fields.String()
    default = fields.Raw(allow_none=True)
    rule = fields.String()
    meaning = fields.String()


class PolicyKnobList(Paged):
    items = fields.List(fields.Nested(PolicyKnobOut))


class PolicyOut(Schema):
    region_id = fields.String()
    version = fields.Integer(metadata={"description": "the newest policy version of the deployment (0: defaults)"})
    values = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))


class StrictBoolean(fields.Boolean):
    """true or false only (no "yes", 1 or "on")."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def _unique(values: list[Any]) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("must not repeat a value")


class PolicyChanges(Strict):
    """The knobs to set (each optional; at least one), with the ranges of `policy.KNOBS`."""

    weights = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=32)),
                          values=fields.Integer(strict=True, validate=validate.Range(min=0, max=1000)),
                          metadata={"description": policy.KNOBS["weights"].meaning})
    rounding = fields.String(validate=validate.OneOf(policy.ROUNDING))
    daily_cap_minutes = fields.Integer(strict=True, validate=validate.Range(min=1, max=1440))
    allow_overlap = StrictBoolean()
    confirm_deadline_working_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=365))
    self_confirmation_allowed = StrictBoolean()
    paid_work_earns = StrictBoolean()
    own_household_earns = StrictBoolean()
    redemption_age = fields.Integer(strict=True, validate=validate.Range(min=0, max=120))
    gift_relations = fields.List(fields.String(validate=validate.OneOf(people.RELATIONS)),
                                 validate=_unique, metadata={"uniqueItems": True})
    expiry_days = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=36500),
                                 metadata={"description": "null: credit never expires"})
    accepted_banks = fields.List(Id(), allow_none=True, validate=_unique, metadata={
        "uniqueItems": True, "description": "bank region ids; null: every bank of the network"})
    points_per_hour = fields.Integer(strict=True, validate=validate.Range(min=0, max=1000))
    care_contacts_per_week = fields.Integer(strict=True, validate=validate.Range(min=1, max=21))

    @validates_schema
    def _knobs(self, data: dict[str, Any], **_: Any) -> None:
        """At least one knob, and each by the knob's own rule too (the domain's check, no database)."""
        if not data:
            raise ValidationError(["give at least one policy knob to set"])
        try:
            policy.check_values(data)
        except InvalidInput as exc:
            raise ValidationError({name: [message] for name, message in exc.details.get("errors", {}).items()}
                                  or [exc.message]) from exc


class PolicyBody(Strict):
    changes = fields.Nested(PolicyChanges, required=True, metadata={
        "minProperties": 1, "example": {"daily_cap_minutes": 360, "gift_relations": ["spouse", "parent"]}})


class PolicyVersionOut(Schema):
    version = fields.Integer()
    region_id = fields.String()
    set = fields.Dict(attribute="values", keys=fields.String(), values=fields.Raw(allow_none=True))
    set_by = fields.String()
    at = fields.DateTime()
    receipt = fields.Nested(Receipt, allow_none=True)


class PolicyHistoryPage(Paged):
    items = fields.List(fields.Nested(PolicyVersionOut))


# --- statistics and settlement ------------------------------------------------------------------

class PeriodQuery(Schema):
    start = Day(data_key="from", load_default=None,
                        metadata={"description": "first day (China time); default the 1st of this month"})
    end = Day(data_key="to", load_default=None, metadata={"description": "last day, included; default today"})

    @validates_schema
    def _order(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise ValidationError({"to": ["must not be before from"]})
        if start and end and (end - start).days > MAX_DAYS:
            raise ValidationError({"to": [f"a period is at most {MAX_DAYS} days"]})


class StatsVisitRateOut(Schema):
    visited = fields.Integer(metadata={"description": "elders visited at least once this month"})
    elders = fields.Integer(metadata={"description": "elders with a care agreement in force this month"})


class StatsOut(Schema):
    region_id = fields.String()
    start = Day(data_key="from")
    end = Day(data_key="to")
    volunteers = fields.Integer()
    volunteers_by_kind = fields.Dict(keys=fields.String(), values=fields.Integer())
    elders = fields.Integer()
    records_posted = fields.Integer()
    service_minutes = fields.Integer()
    deposited_minutes = fields.Integer()
    deposited_by_catalogue = fields.Dict(keys=fields.String(), values=fields.Integer())
    deposited_by_month = fields.Dict(keys=fields.String(), values=fields.Integer())
    redeemed_minutes = fields.Integer()
    redemptions_completed = fields.Integer()
    outstanding_minutes = fields.Integer()
    bank_liability_minutes = fields.Integer()
    elders_served = fields.Integer()
    elders_served_by_tag = fields.Dict(keys=fields.String(), values=fields.Integer())
    agreements = fields.Integer()
    agreements_behind = fields.Integer()
    monthly_visit_rate = fields.Nested(StatsVisitRateOut)


class SettlementQuery(PeriodQuery, PageQuery):
    pass


class SettlementOwesOut(Schema):
    debtor_bank_id = fields.String()
    creditor_bank_id = fields.String()
    minutes = fields.Integer()


class SettlementPositionOut(Schema):
    bank_a_id = fields.String()
    bank_b_id = fields.String()
    a_to_b = fields.Integer(metadata={"description": "credit a's members used in b in the period"})
    b_to_a = fields.Integer()
    a_settled = fields.Integer()
    b_settled = fields.Integer()
    a_owes_b_opening = fields.Integer()
    a_owes_b_closing = fields.Integer()
    b_owes_a_opening = fields.Integer()
    b_owes_a_closing = fields.Integer()
    net = fields.Integer(metadata={"description": "a_to_b − b_to_a"})
    owes = fields.Nested(SettlementOwesOut, allow_none=True)
    reconciled = fields.Boolean(metadata={"description": "each clearing balance equals the sum of its postings"})


class SettlementPositionPage(Paged):
    items = fields.List(fields.Nested(SettlementPositionOut))


class SettlementBody(Strict):
    bank_a_id = Id(required=True)
    bank_b_id = Id(required=True)


class SettlementReceipts(Schema):
    bank_a = fields.Nested(Receipt)
    bank_b = fields.Nested(Receipt)
    link = fields.Nested(Receipt)


class SettlementOut(Schema):
    id = fields.String()
    bank_a_id = fields.String()
    bank_b_id = fields.String()
    a_owed = fields.Integer()
    b_owed = fields.Integer()
    net = fields.Integer(metadata={"description": "a_owed − b_owed: positive when a owed b on balance"})
    settled_by = fields.String()
    at = fields.DateTime()
    receipts = fields.Nested(SettlementReceipts)
