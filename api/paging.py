"""Cursor pagination: `?limit=L&cursor=C` in a stable order (by id); the response's `next` cursor continues."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy.orm import Session

MAX_LIMIT = 200


class PageQuery(Schema):
    """Shared query parameters of every list."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


def _decode(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise ValidationError({"cursor": ["not a cursor from a previous page; start without one"]}) from exc


def _encode(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii").rstrip("=")


def page(session: Session, query: sa.Select[Any], key: sa.ColumnElement[Any], *, limit: int,
         cursor: str | None) -> tuple[list[Any], str | None]:
    """Rows of `query` ordered by `key` descending (a unique string column), after `cursor`; and the
    cursor of the next page (None at the end)."""
    if cursor:
        query = query.where(key < _decode(cursor))
    rows = list(session.scalars(query.order_by(key.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_encode(str(getattr(rows[-1], key.key))) if more and rows else None)  # type: ignore[attr-defined]


class Paged(Schema):
    """A page of items and the cursor of the next one."""

    next = fields.String(allow_none=True, metadata={"description": "pass as ?cursor= for the next page"})
