"""The wire contract of /api/v1/schools."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from timebank.schools import CODE_LENGTH, ROUNDINGS

from ..paging import Paged, PageQuery
from .common import Day, Id, Receipt, Strict

COUNTED = fields.List(fields.String(validate=validate.Length(min=1, max=40)), load_default=None, allow_none=True,
                      validate=validate.Length(min=1, max=100),
                      metadata={"description": "catalogue categories or codes that count; null: all services"})


class RuleBody(Strict):
    minutes_per_credit = fields.Integer(required=True, validate=validate.Range(min=1, max=100_000),
                                        metadata={"description": "e.g. 1200: one credit per 20 hours",
                                                  "example": 1200})
    rounding = fields.String(load_default="floor", validate=validate.OneOf(ROUNDINGS))
    daily_cap_minutes = fields.Integer(load_default=480, validate=validate.Range(min=1, max=1440))
    term_cap_minutes = fields.Integer(load_default=None, allow_none=True,
                                      validate=validate.Range(min=1, max=1_000_000))
    counted = COUNTED


class SchoolBody(RuleBody):
    organisation_id = Id(required=True, metadata={"description": "the organisation that becomes the school"})


class TermBody(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100),
                         metadata={"example": "2026-2027 第一学期"})
    starts_on = Day(required=True)
    ends_on = Day(required=True, metadata={"description": "inclusive"})


class TermOut(Schema):
    id = fields.String()
    name = fields.String()
    starts_on = Day()
    ends_on = Day()


class SchoolOut(Schema):
    id = fields.String()
    name = fields.String()
    region_id = fields.String()
    minutes_per_credit = fields.Integer()
    rounding = fields.String()
    daily_cap_minutes = fields.Integer()
    term_cap_minutes = fields.Integer(allow_none=True)
    counted = fields.List(fields.String(), allow_none=True)
    terms = fields.List(fields.Nested(TermOut))


class InvitationOut(Schema):
    code = fields.String(metadata={"description": "shown once; give it to one student"})
    expires_at = fields.DateTime()


class LinkBody(Strict):
    code = fields.String(required=True, validate=validate.Length(equal=CODE_LENGTH))
    student_consent = fields.Boolean(required=True, metadata={"description": "must be true"})
    guardian_consent = fields.Boolean(load_default=False, metadata={"description": "required under 18"})
    guardian_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=100),
                                  metadata={"description": "required under 18"})
    class_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=60))
    student_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=40))


class LinkOut(Schema):
    id = fields.String()
    school_id = fields.String()
    volunteer_id = fields.String()
    class_name = fields.String(allow_none=True)
    linked_at = fields.DateTime()
    unlinked_at = fields.DateTime(allow_none=True)
    receipt = fields.Nested(Receipt, allow_none=True)


class StudentsQuery(PageQuery):
    class_name = fields.String(load_default=None, validate=validate.Length(min=1, max=60))


class StudentOut(Schema):
    volunteer_id = fields.String()
    name = fields.String()
    class_name = fields.String(allow_none=True)
    student_number = fields.String(allow_none=True)
    linked_at = fields.DateTime()


class StudentPage(Paged):
    items = fields.List(fields.Nested(StudentOut))


class StudentReportQuery(Strict):
    volunteer_id = Id(required=True)
    term_id = Id(required=True)


class ClassReportQuery(Strict):
    class_name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    term_id = Id(required=True)


class ReportRecordOut(Schema):
    id = fields.String()
    catalogue_code = fields.String()
    category = fields.String()
    date = Day(metadata={"description": "China date of the start"})
    minutes = fields.Integer()
    counted = fields.Boolean(metadata={"description": "whether the rule counts this service"})
    receipt = fields.Nested(Receipt, allow_none=True, metadata={"description": "the deposit entry"})


class StudentReportOut(Schema):
    volunteer_id = fields.String()
    name = fields.String()
    class_name = fields.String(allow_none=True)
    term_id = fields.String()
    verified_minutes = fields.Integer()
    minutes_by_category = fields.Dict(keys=fields.String(), values=fields.Integer())
    counted_minutes = fields.Integer(metadata={"description": "after the daily, then the term cap"})
    credits = fields.Integer()
    records = fields.List(fields.Nested(ReportRecordOut))


class ClassReportOut(Schema):
    school_id = fields.String()
    class_name = fields.String()
    term = fields.Nested(TermOut)
    minutes_per_credit = fields.Integer()
    students = fields.List(fields.Nested(StudentReportOut))
