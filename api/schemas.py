"""Wire contracts: query parameters of the ledger API, checked for shape and range only."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

MAX_INT = 2**63 - 1  # what a BIGINT column holds
MAX_ENTRIES = 1000


def _count(**kwargs: object) -> fields.Integer:
    return fields.Integer(strict=False, validate=validate.Range(min=0, max=MAX_INT), **kwargs)  # type: ignore[arg-type]


class _Query(Schema):
    class Meta:
        unknown = RAISE


class SizeSchema(_Query):
    size = _count(required=True)


class CheckpointsQuery(_Query):
    before = _count(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class EntriesQuery(_Query):
    start = _count(required=True)
    end = _count(required=True)

    @validates_schema
    def _ordered(self, data: dict[str, int], **_: object) -> None:
        if data["end"] <= data["start"]:
            raise ValidationError("end must be greater than start", "end")


class InclusionQuery(_Query):
    index = _count(required=True)
    tree_size = _count(load_default=None)


class ConsistencyQuery(_Query):
    old_size = _count(required=True)
    new_size = _count(load_default=None)
