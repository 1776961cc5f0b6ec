"""The wire contract of /api/v1 people: request bodies, queries and responses."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from timebank.people import (
    ELDER_STATUSES,
    PRIORITY_TAGS,
    RELATIONS,
    SEXES,
    VOLUNTEER_KINDS,
    VOLUNTEER_STATUSES,
)

from ..paging import Paged, PageQuery
from .common import Day, Id, Receipt, Strict

NAME = validate.Length(min=1, max=50)
PHONE = validate.Length(min=5, max=20)
ID_NUMBER = validate.Length(min=5, max=40)


# --- requests -----------------------------------------------------------------------------------

class PersonBody(Strict):
    """What every real-name registration holds."""

    region_id = Id(required=True)
    name = fields.String(required=True, validate=NAME)
    sex = fields.String(required=True, validate=validate.OneOf(SEXES))
    birth_date = Day(required=True, metadata={"description": "YYYY-MM-DD, in the past"})
    id_number = fields.String(required=True, validate=ID_NUMBER, metadata={
        "description": "an 18-character resident ID (with its check digit) or a 5–20 character document number"})
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class VolunteerBody(PersonBody):
    phone = fields.String(required=True, validate=PHONE)
    kind = fields.String(required=True, validate=validate.OneOf(VOLUNTEER_KINDS))
    organisation_id = Id(load_default=None, allow_none=True)
    skills = fields.List(fields.String(validate=validate.Length(min=1, max=50)), load_default=list,
                         validate=validate.Length(max=20))


class SignUpBody(VolunteerBody):
    username = fields.String(required=True, validate=validate.Length(min=3, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=10, max=200))


class ElderBody(PersonBody):
    phone = fields.String(load_default=None, allow_none=True, validate=PHONE)
    health = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    tags = fields.List(fields.String(validate=validate.OneOf(PRIORITY_TAGS)), load_default=list,
                       validate=validate.Length(max=len(PRIORITY_TAGS)))


class VolunteerStatusBody(Strict):
    status = fields.String(required=True, validate=validate.OneOf(VOLUNTEER_STATUSES))
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000),
                           metadata={"description": "required for suspended and blacklisted; never published"})


class ElderStatusBody(Strict):
    status = fields.String(required=True, validate=validate.OneOf(ELDER_STATUSES))
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class TrainingBody(Strict):
    course = fields.String(required=True, validate=validate.Length(min=1, max=200))
    content = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    study_minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))
    provider = fields.String(required=True, validate=validate.Length(min=1, max=200))
    completed_on = Day(required=True)
    certifies = fields.List(fields.String(validate=validate.Length(min=1, max=40)), load_default=list,
                            validate=validate.Length(max=50), metadata={"description": "catalogue codes"})


class TagBody(Strict):
    tag = fields.String(required=True, validate=validate.OneOf(PRIORITY_TAGS))


class RelativeBody(Strict):
    relation = fields.String(required=True, validate=validate.OneOf(RELATIONS),
                             metadata={"description": "what the relative is to the elder"})
    name = fields.String(required=True, validate=NAME)
    phone = fields.String(load_default=None, allow_none=True, validate=PHONE)
    person_id = Id(load_default=None, allow_none=True, metadata={"description": "a registered volunteer or elder"})
    same_household = fields.Boolean(load_default=False)
    may_confirm = fields.Boolean(load_default=True)
    may_redeem = fields.Boolean(load_default=False)


class HeirBody(Strict):
    heir_id = Id(required=True, allow_none=True, metadata={"description": "a registered person, or null to clear"})


class VolunteerQuery(PageQuery):
    region_id = Id(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(VOLUNTEER_STATUSES))
    kind = fields.String(load_default=None, validate=validate.OneOf(VOLUNTEER_KINDS))


class ElderQuery(PageQuery):
    region_id = Id(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(ELDER_STATUSES))
    tag = fields.String(load_default=None, validate=validate.OneOf(PRIORITY_TAGS))


# --- responses ----------------------------------------------------------------------------------

class VolunteerPublicOut(Schema):
    """What anyone allowed to see a volunteer sees (a school: its students)."""

    id = fields.String()
    kind = fields.String()
    organisation_id = fields.String(allow_none=True)
    status = fields.String()


class VolunteerOut(VolunteerPublicOut):
    """The volunteer themself and staff covering them also see these (each read is logged)."""

    region_id = fields.String()
    registered_at = fields.DateTime()
    name = fields.String()
    sex = fields.String()
    birth_date = Day()
    id_number = fields.String()
    phone = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    skills = fields.List(fields.String())
    heir_id = fields.String(allow_none=True)


class VolunteerListItem(VolunteerPublicOut):
    region_id = fields.String()
    registered_at = fields.DateTime()
    name = fields.String(metadata={"description": "staff only (the read is logged)"})


class VolunteerPage(Paged):
    items = fields.List(fields.Nested(VolunteerListItem))


class RegisteredVolunteerOut(VolunteerPublicOut):
    """A new registration, without echoing the personal data just sent (responses may be kept for
    Idempotency-Key retries)."""

    region_id = fields.String()
    registered_at = fields.DateTime()


class SignUpUserOut(Schema):
    id = fields.String()
    username = fields.String()
    role = fields.String()
    subject_id = fields.String()


class SignUpOut(Schema):
    user = fields.Nested(SignUpUserOut)
    volunteer = fields.Nested(VolunteerOut)
    csrf_token = fields.String(metadata={"description": "send as X-CSRF-Token with every change"})


class StatusChangeOut(Schema):
    id = fields.String()
    subject_id = fields.String()
    status = fields.String()
    by = fields.String()
    at = fields.DateTime()
    receipt = fields.Nested(Receipt, allow_none=True)


class StatusHistoryItem(StatusChangeOut):
    reason = fields.String(allow_none=True)


class StatusHistoryPage(Paged):
    items = fields.List(fields.Nested(StatusHistoryItem))


class TrainingOut(Schema):
    id = fields.String()
    volunteer_id = fields.String()
    course = fields.String()
    content = fields.String(allow_none=True)
    study_minutes = fields.Integer()
    provider = fields.String()
    completed_on = Day()
    certifies = fields.List(fields.String())
    recorded_by = fields.String()
    at = fields.DateTime()


class TrainingPage(Paged):
    items = fields.List(fields.Nested(TrainingOut))


class ElderSummaryOut(Schema):
    """An elder without personal data."""

    id = fields.String()
    short_code = fields.String()
    region_id = fields.String()
    status = fields.String()
    registered_at = fields.DateTime()


class ElderListItem(ElderSummaryOut):
    name = fields.String(metadata={"description": "the read is logged"})
    tags = fields.List(fields.String())


class ElderPage(Paged):
    items = fields.List(fields.Nested(ElderListItem))


class ElderOut(ElderListItem):
    """The elder, their proxy and staff covering them (each read is logged)."""

    sex = fields.String()
    birth_date = Day()
    id_number = fields.String()
    phone = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    health = fields.String(allow_none=True)
    heir_id = fields.String(allow_none=True)


class ElderByCodeOut(Schema):
    """What a volunteer's log-hours form needs: never the full name, phone or address."""

    id = fields.String()
    short_code = fields.String()
    region_id = fields.String()
    masked_name = fields.String(metadata={"example": "刘**"})


class TagOut(Schema):
    id = fields.String()
    elder_id = fields.String()
    tag = fields.String()
    added_by = fields.String()
    added_at = fields.DateTime()
    removed_by = fields.String(allow_none=True)
    removed_at = fields.DateTime(allow_none=True)


class TagPage(Paged):
    items = fields.List(fields.Nested(TagOut))


class RelativeSummaryOut(Schema):
    id = fields.String()
    elder_id = fields.String()
    relation = fields.String()
    person_id = fields.String(allow_none=True)
    same_household = fields.Boolean()
    may_confirm = fields.Boolean()
    may_redeem = fields.Boolean()
    added_at = fields.DateTime()


class RelativeOut(RelativeSummaryOut):
    name = fields.String()
    phone = fields.String(allow_none=True)


class RelativePage(Paged):
    items = fields.List(fields.Nested(RelativeOut))


class HeirOut(Schema):
    person_id = fields.String()
    heir_id = fields.String(allow_none=True)


class AccessOut(Schema):
    id = fields.Integer()
    user_id = fields.String()
    role = fields.String(allow_none=True)
    action = fields.String(metadata={"description": "read or change"})
    fields_ = fields.List(fields.String(), data_key="fields")
    at = fields.DateTime()


class AccessPage(Paged):
    items = fields.List(fields.Nested(AccessOut))
