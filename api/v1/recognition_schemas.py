"""The wire contract of recognition: schemes, a volunteer's standing, awards and leaderboards."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from timebank import recognition

from ..paging import PageQuery, Paged
from .common import Day, Id, Receipt, Strict

CODE = validate.Regexp(r"^[A-Za-z0-9_-]{1,40}$", error="letters, digits, '-' and '_' only, at most 40")


class LevelIn(Strict):
    level = fields.Integer(required=True, validate=validate.Range(min=1, max=recognition.MAX_LEVELS))
    name_zh = fields.String(required=True, validate=validate.Length(min=1, max=50))
    name_en = fields.String(required=True, validate=validate.Length(min=1, max=50))
    hours = fields.Integer(required=True, validate=validate.Range(min=1, max=recognition.MAX_HOURS))
    min_age = fields.Integer(validate=validate.Range(min=0, max=recognition.MAX_AGE),
                             metadata={"description": "annual schemes: the band's youngest age (inclusive)"})
    max_age = fields.Integer(validate=validate.Range(min=0, max=recognition.MAX_AGE),
                             metadata={"description": "annual schemes: the band's oldest age (inclusive)"})


class LevelOut(Schema):
    level = fields.Integer()
    name_zh = fields.String()
    name_en = fields.String()
    hours = fields.Integer()
    min_age = fields.Integer()
    max_age = fields.Integer()


class SchemeBody(Strict):
    region_id = Id(required=True, metadata={"description": "the scheme applies to volunteers of this subtree"})
    code = fields.String(required=True, validate=CODE)
    name_zh = fields.String(required=True, validate=validate.Length(min=1, max=100))
    name_en = fields.String(required=True, validate=validate.Length(min=1, max=100))
    kind = fields.String(required=True, validate=validate.OneOf(recognition.KINDS))
    levels = fields.List(fields.Nested(LevelIn), required=True,
                         validate=validate.Length(min=1, max=recognition.MAX_LEVELS))


class SchemeOut(Schema):
    id = fields.String()
    region_id = fields.String(allow_none=True, metadata={"description": "null: national"})
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    kind = fields.String(metadata={"description": "cumulative (all verified hours) or annual (per calendar year)"})
    levels = fields.List(fields.Nested(LevelOut))
    active = fields.Boolean()


class SchemeQuery(PageQuery):
    region_id = Id(load_default=None, metadata={"description": "only schemes that apply in this region"})


class SchemePage(Paged):
    items = fields.List(fields.Nested(SchemeOut))


class ReachedOut(Schema):
    id = fields.String()
    scheme = fields.String(metadata={"description": "the scheme's code"})
    level = fields.Integer()
    period = fields.String(allow_none=True, metadata={"description": "the calendar year of an annual scheme"})
    hours = fields.Integer()
    minutes = fields.Integer(metadata={"description": "verified minutes when the level was reached"})
    at = fields.DateTime()
    held = fields.Boolean(metadata={"description": "false when a later reversal took the hours below it"})
    receipt = fields.Nested(Receipt)


class StandingOut(Schema):
    scheme = fields.Nested(SchemeOut)
    period = fields.String(allow_none=True)
    minutes = fields.Integer(metadata={"description": "verified service minutes counted (annual: this year)"})
    current_level = fields.Nested(LevelOut, allow_none=True)
    next_level = fields.Nested(LevelOut, allow_none=True)
    reached = fields.List(fields.Nested(ReachedOut))


class AwardBody(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(recognition.AWARD_KINDS))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    granting_unit = fields.String(required=True, validate=validate.Length(min=1, max=200))
    granted_on = Day(required=True)


class AwardOut(Schema):
    id = fields.String()
    volunteer_id = fields.String()
    kind = fields.String()
    name = fields.String()
    granting_unit = fields.String()
    granted_on = Day()
    receipt = fields.Nested(Receipt)


class RecognitionOut(Schema):
    volunteer_id = fields.String()
    schemes = fields.List(fields.Nested(StandingOut))
    awards = fields.List(fields.Nested(AwardOut))


class EvaluateOut(Schema):
    volunteer_id = fields.String()
    reached = fields.List(fields.Nested(ReachedOut), metadata={"description": "levels newly reached"})


class LeaderboardBody(Strict):
    on = fields.Boolean(required=True)
    display_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=40),
                                 metadata={"description": "shown instead of the name; none: the masked name"})


class LeaderboardOut(Schema):
    volunteer_id = fields.String()
    on = fields.Boolean()
    display_name = fields.String(allow_none=True)


class LeaderboardQuery(Strict):
    start = Day(data_key="from", load_default=None, metadata={"description": "first day (China time); "
                                                                                     "default 1 January"})
    end = Day(data_key="to", load_default=None, metadata={"description": "last day; default today"})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError({"to": ["must not be before from"]})


class RankOut(Schema):
    rank = fields.Integer()
    display_name = fields.String()
    minutes = fields.Integer()


class LeaderboardPage(Schema):
    region_id = fields.String()
    start = Day(data_key="from")
    end = Day(data_key="to")
    items = fields.List(fields.Nested(RankOut))
