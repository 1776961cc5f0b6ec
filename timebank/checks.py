"""Checks every use case applies to outside values (text, times, dates), and China's calendar day.

China keeps one time zone, UTC+8 (Asia/Shanghai, without daylight saving since 1991), so a fixed
offset names it exactly and no time-zone database is needed.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from .errors import InvalidInput

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def text(value: Any, field: str, limit: int, *, required: bool = False, multiline: bool = True) -> str | None:
    """`value` stripped, or None when blank (InvalidInput if `required`). Refuses non-text, more than
    `limit` characters, and control characters (line breaks and tabs only when `multiline`)."""
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return None
    allowed = "\n\t" if multiline else ""
    if len(value) > limit:
        raise InvalidInput(f"{field} must be at most {limit} characters", field=field)
    if any(ord(c) < 32 and c not in allowed or ord(c) == 127 for c in value):
        raise InvalidInput(f"{field} may not hold control characters", field=field)
    return value


def name(value: Any, field: str, limit: int) -> str:
    """A required one-line text (a name, a title)."""
    checked = text(value, field, limit, required=True, multiline=False)
    assert checked is not None
    return checked


def aware(value: Any, field: str) -> datetime:
    """`value` as a UTC datetime. Raises InvalidInput for anything but a timezone-aware datetime."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{field} must be a timezone-aware date and time", field=field)
    return value.astimezone(timezone.utc)


def a_date(value: Any, field: str) -> date:
    """A calendar date (not a datetime). Raises InvalidInput."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInput(f"{field} must be a date (China time), not {type(value).__name__}", field=field)
    return value


# The days a person could mean; outside them, date arithmetic overflows (year 1, year 9999).
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


def china_date(moment: datetime) -> date:
    """The calendar day in China of an aware time."""
    return moment.astimezone(CHINA).date()


def china_days(first: date, after: date) -> tuple[datetime, datetime]:
    """UTC bounds [start, end) of the China days from `first` up to, not including, `after`.
    Raises InvalidInput for a day outside EARLIEST..LATEST (near year 1 the UTC bound would overflow)."""
    for day in (first, after):
        if not EARLIEST <= day <= LATEST:
            raise InvalidInput(f"dates must lie between {EARLIEST} and {LATEST}, not {day}", field="date")
    return (datetime.combine(first, time(), CHINA).astimezone(timezone.utc),
            datetime.combine(after, time(), CHINA).astimezone(timezone.utc))
