"""Pieces every blueprint shares: strict schemas, ids, the time, the writer and sealer."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app
from marshmallow import RAISE, Schema, fields, validate

from ledger.writer import Writer
from timebank.checks import EARLIEST, LATEST
from timebank.sealing import Sealer

ID = {"validate": validate.Length(min=1, max=40), "metadata": {"example": "vol_k3m9p2q8r7s6t5u4"}}


class Strict(Schema):
    """Unknown fields are refused, naming them."""

    class Meta:
        unknown = RAISE


def Id(**kwargs: object) -> fields.String:  # noqa: N802 (a field factory reads like a field)
    return fields.String(**{**ID, **kwargs})  # type: ignore[arg-type]


def Day(**kwargs: object) -> fields.Date:  # noqa: N802 (a field factory reads like a field)
    """A calendar date a person could mean (years 1900 to 2999): wider ones overflow when turned into
    China-time bounds, and would be a 500 rather than a 400 naming the field."""
    return fields.Date(**{"validate": validate.Range(min=EARLIEST, max=LATEST), **kwargs})  # type: ignore[arg-type]


def now() -> datetime:
    return datetime.now(timezone.utc)


def writer() -> Writer:
    return current_app.extensions["timebank.writer"]


def sealer() -> Sealer:
    return current_app.extensions["timebank.sealer"]


class Receipt(Schema):
    """Where a change went in the ledger."""

    log = fields.String()
    index = fields.Integer()
    leaf_hash = fields.String()
