"""Cursor pagination: `?limit=L&cursor=C` in a stable order (by id); the response's `next` cursor continues."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy.orm import Session

MAX_LIMIT = 200


class PageQuery(Schema):
    """Shared query parameters of every list."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


NOT_A_CURSOR = "not a cursor from a previous page; start without one"


def decode_cursor(cursor: str) -> str:
    """What a cursor of a previous page holds. Raises ValidationError naming `cursor`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise ValidationError({"cursor": [NOT_A_CURSOR]}) from exc


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii").rstrip("=")


def page(session: Session, query: sa.Select[Any], key: sa.ColumnElement[Any], *, limit: int,
         cursor: str | None) -> tuple[list[Any], str | None]:
    """Rows of `query` ordered by `key` descending (a unique string column), after `cursor`; and the
    cursor of the next page (None at the end)."""
    if cursor:
        query = query.where(key < decode_cursor(cursor))
    rows = list(session.scalars(query.order_by(key.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(str(getattr(rows[-1], key.key))) if more and rows else None)  # type: ignore[attr-defined]


def encode_int_cursor(value: int) -> str:
    return encode_cursor(str(value))


def decode_int_cursor(cursor: str | None) -> int | None:
    """The whole number (an id, an offset) a cursor holds, or None without one. Raises ValidationError."""
    if not cursor:
        return None
    text = decode_cursor(cursor)
    if not text.isdigit():
        raise ValidationError({"cursor": [NOT_A_CURSOR]})
    return int(text)


def page_by_time(session: Session, query: sa.Select[Any], time_column: Any, id_column: Any, *, limit: int,
                 cursor: str | None) -> tuple[list[Any], str | None]:
    """Rows newest first by (time, id) after `cursor`; and the next cursor (None at the end)."""
    if cursor:
        moment, _, key = decode_cursor(cursor).partition("|")
        try:
            at = datetime.fromisoformat(moment)
        except ValueError as exc:
            raise ValidationError({"cursor": [NOT_A_CURSOR]}) from exc
        if at.tzinfo is None or not key:
            raise ValidationError({"cursor": [NOT_A_CURSOR]})
        query = query.where(sa.or_(time_column < at, sa.and_(time_column == at, id_column < key)))
    rows = list(session.scalars(query.order_by(time_column.desc(), id_column.desc()).limit(limit + 1)))
    more, rows = len(rows) > limit, rows[:limit]
    if not (more and rows):
        return rows, None
    last = rows[-1]
    return rows, encode_cursor(f"{getattr(last, time_column.key).isoformat()}|{getattr(last, id_column.key)}")


class Paged(Schema):
    """A page of items and the cursor of the next one."""

    next = fields.String(allow_none=True, metadata={"description": "pass as ?cursor= for the next page"})
