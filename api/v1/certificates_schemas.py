"""The wire contract of certificates (志愿服务证明): issuing, the public verification and its signed form."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..paging import Paged
from .common import Day, Id, Receipt, Strict

NUMBER = r"^TB-\d{4}-\d{6}$"


class IssueBody(Strict):
    """Certify a volunteer's verified service in China days `start`–`end` (both included)."""

    volunteer_id = Id(required=True)
    start = Day(required=True, metadata={"description": "first day of the period (China time)"})
    end = Day(required=True, metadata={"description": "last day of the period (China time)"})
    lang = fields.String(load_default="zh", validate=validate.OneOf(("zh", "en")))

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError({"end": ["must not be before start"]})


class LangQuery(Strict):
    lang = fields.String(load_default="zh", validate=validate.OneOf(("zh", "en")))


class ContentOut(Schema):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    minutes = fields.Integer()
    records = fields.Integer()


class FactsOut(Schema):
    """The facts with the least personal data: the name masked (张*华), no ids of people."""

    number = fields.String()
    name = fields.String(metadata={"description": "masked: first and last character"})
    start = fields.String()
    end = fields.String()
    minutes = fields.Integer()
    hours = fields.String(metadata={"description": "minutes / 60, two decimals, as text"})
    content = fields.List(fields.Nested(ContentOut))
    unit_zh = fields.String()
    unit_en = fields.String()
    issued_on = fields.String()
    record_count = fields.Integer()
    recognition = fields.List(fields.Dict(), metadata={
        "description": "at issue: the level held in each recognition scheme, and awards and honours"})


class ProofOut(Schema):
    """A leaf (log, index, leaf hash) and its audit path to the log's checkpoint (in `checkpoints`)."""

    log = fields.String()
    index = fields.Integer()
    leaf_hash = fields.String()
    tree_size = fields.Integer()
    path = fields.List(fields.String())


class RecordProofOut(Schema):
    record = fields.String()
    code = fields.String()
    minutes = fields.Integer()
    status = fields.String()
    deposit = fields.Nested(ProofOut)


class ReversedOut(Schema):
    record = fields.String()
    reversed_at = fields.String(allow_none=True)
    reversal = fields.Nested(ProofOut, allow_none=True)


class CheckpointOut(Schema):
    origin = fields.String()
    vkey = fields.String()
    size = fields.Integer()
    root = fields.String()
    note = fields.String(metadata={"description": "the signed checkpoint (C2SP signed note)"})


class VerificationOut(Schema):
    """Whether the certificate stands: valid, superseded (records reversed since) or invalid."""

    number = fields.String()
    status = fields.String(metadata={"description": "valid, superseded or invalid"})
    facts = fields.Nested(FactsOut)
    certificate_entry = fields.Nested(ProofOut)
    records = fields.List(fields.Nested(RecordProofOut))
    checkpoints = fields.Dict(keys=fields.String(), values=fields.Nested(CheckpointOut))
    reversed = fields.List(fields.Nested(ReversedOut))
    problems = fields.List(fields.String())


class IssuedOut(Schema):
    """A new certificate: its number, facts (name masked) and the ledger receipt of its entry."""

    id = fields.String()
    number = fields.String()
    volunteer_id = fields.String()
    facts = fields.Nested(FactsOut)
    receipt = fields.Nested(Receipt)


class SignedOut(Schema):
    """The machine-readable version: a C2SP signed note over "timebank.certificate/v1" and one line of
    canonical JSON (the verification), signed by the home bank's log key `vkey`."""

    note = fields.String()
    vkey = fields.String()
    document = fields.Dict()


class CertificateItem(Schema):
    id = fields.String()
    number = fields.String()
    start = fields.String()
    end = fields.String()
    minutes = fields.Integer()
    hours = fields.String()
    issued_on = fields.String()
    receipt = fields.Nested(Receipt)


class CertificatePage(Paged):
    items = fields.List(fields.Nested(CertificateItem))

