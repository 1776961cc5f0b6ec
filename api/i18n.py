"""The web pages' two languages, Chinese (zh-CN) first and English: which one a request gets, and how times
and counts are written in each (the words themselves are Flask-Babel catalogs, api/translations)."""

from __future__ import annotations

from datetime import datetime, timezone

from werkzeug.datastructures import LanguageAccept

LANGUAGES = ("zh-CN", "en")
DEFAULT = "zh-CN"
# The name of each language in itself, for the switch link.
NATIVE_NAMES = {"zh-CN": "中文", "en": "English"}

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def normalize(tag: str | None) -> str | None:
    """The supported language a tag such as `en-GB`, `zh`, `zh-cn` stands for, or None."""
    primary = (tag or "").strip().replace("_", "-").split("-")[0].lower()
    return {"zh": "zh-CN", "en": "en"}.get(primary)


def choose(requested: str | None, accept: LanguageAccept) -> str:
    """The language of a response: `?lang=` when it names a supported one, else the first supported
    language of Accept-Language by preference, else Chinese."""
    chosen = normalize(requested)
    if chosen:
        return chosen
    for tag, _quality in accept:  # sorted by quality, best first
        chosen = normalize(tag)
        if chosen:
            return chosen
    return DEFAULT


def format_time(lang: str, at: datetime) -> str:
    """A UTC time as people read it: `2026年11月25日 09:30（UTC）` or `25 Nov 2026, 09:30 UTC`."""
    at = at.astimezone(timezone.utc)
    if lang == "en":
        return f"{at.day} {_MONTHS_EN[at.month - 1]} {at.year}, {at:%H:%M} UTC"
    return f"{at.year}年{at.month}月{at.day}日 {at:%H:%M}（UTC）"


def format_day(lang: str, at: datetime, *, with_year: bool = False) -> str:
    """A short UTC date for chart ticks: `11月25日` / `25 Nov` (with the year when asked)."""
    at = at.astimezone(timezone.utc)
    if lang == "en":
        return f"{at.day} {_MONTHS_EN[at.month - 1]}" + (f" {at.year}" if with_year else "")
    return (f"{at.year}年" if with_year else "") + f"{at.month}月{at.day}日"


def format_count(n: int) -> str:
    """A count with thousands separators."""
    return f"{n:,}"
