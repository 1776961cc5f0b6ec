"""Reading a submitted form: each field checked, with a message in the reader's language that says
what to fix, and every value kept so the page can show the form again with nothing lost.

    form = Form(request.form)
    minutes = form.integer("minutes", low=1, high=1440)
    day = form.day("date")
    if form.ok:
        ...
    return render_template(..., form=form), form.status

A domain refusal after the checks goes to `form.refuse(exc, fields={"elder_id": "elder"})`: onto the
field it names, else onto the form as a whole."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, time
from typing import Any

from flask_babel import gettext as _

from timebank.checks import EARLIEST, LATEST
from timebank.errors import DomainError

from .explain import explain

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _control(text: str) -> bool:
    """True when `text` holds control or direction-override characters (newlines aside)."""
    return any(unicodedata.category(c) in ("Cc", "Cf") and c not in "\n\r\t" for c in text)


class Form:
    """One submitted form (or an empty one, for a first showing)."""

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self.data = data if data is not None else {}
        self.errors: dict[str, str] = {}  # field → message; "" is the form as a whole
        self.detail = ""  # the domain's own words for a refusal, for the technically minded

    # -- state --------------------------------------------------------------------------------

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def status(self) -> int:
        """422 when the page shows the form again with errors, else 200."""
        return 422 if self.errors else 200

    def value(self, name: str, default: str = "") -> str:
        """What the reader typed (to fill the field again)."""
        raw = self.data.get(name)
        return default if raw is None else str(raw)

    def values(self, name: str) -> list[str]:
        """Every value of a repeated field (checkboxes)."""
        getlist = getattr(self.data, "getlist", None)
        return [str(v) for v in getlist(name)] if getlist else []

    def error(self, name: str, message: str) -> None:
        """Mark `name` ("" for the form) wrong, keeping the first message."""
        self.errors.setdefault(name, message)

    def refuse(self, exc: DomainError, fields: Mapping[str, str] | None = None) -> None:
        """Show a domain refusal: on the form field `fields` maps its field to, else on the form."""
        field = exc.details.get("field")
        name = (fields or {}).get(str(field), str(field) if field in self.data else "") if field else ""
        self.error(name, explain(exc))
        self.detail = exc.message

    # -- fields -------------------------------------------------------------------------------

    def text(self, name: str, *, required: bool = True, max_length: int = 200, multiline: bool = False) -> str | None:
        """Trimmed text, or None when empty and optional."""
        raw = self.value(name).strip()
        if not raw:
            if required:
                self.error(name, _("Please fill this in."))
            return None
        if len(raw) > max_length:
            self.error(name, _("Please shorten this to %(n)d characters or fewer (it has %(has)d).",
                               n=max_length, has=len(raw)))
            return None
        if _control(raw) or (not multiline and ("\n" in raw or "\r" in raw)):
            self.error(name, _("This holds characters that cannot be stored (control or direction marks). "
                               "Please type it again."))
            return None
        return raw

    def integer(self, name: str, *, low: int, high: int, required: bool = True) -> int | None:
        raw = self.value(name).strip()
        if not raw:
            if required:
                self.error(name, _("Please fill this in."))
            return None
        if not re.fullmatch(r"[0-9]{1,9}", raw):
            self.error(name, _("Please enter a whole number, such as %(example)d.", example=low))
            return None
        number = int(raw)
        if not low <= number <= high:
            self.error(name, _("Please enter a number from %(low)d to %(high)d.", low=low, high=high))
            return None
        return number

    def day(self, name: str, *, required: bool = True) -> date | None:
        """A date typed as YYYY-MM-DD (what a date field sends)."""
        raw = self.value(name).strip()
        if not raw:
            if required:
                self.error(name, _("Please choose a date."))
            return None
        try:
            day = date.fromisoformat(raw) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw) else _bad()
        except ValueError:
            self.error(name, _("Please enter a date as year-month-day, such as 2026-03-08."))
            return None
        if not EARLIEST <= day <= LATEST:
            self.error(name, _("Please enter a date between %(first)s and %(last)s.", first=EARLIEST.isoformat(),
                               last=LATEST.isoformat()))
            return None
        return day

    def clock(self, name: str, *, required: bool = True) -> time | None:
        """A time of day typed as HH:MM (what a time field sends)."""
        raw = self.value(name).strip()
        if not raw:
            if required:
                self.error(name, _("Please enter a time."))
            return None
        match = _CLOCK.match(raw)
        if not match:
            self.error(name, _("Please enter a time as hours:minutes, such as 09:30."))
            return None
        return time(int(match[1]), int(match[2]))

    def choice(self, name: str, options: Iterable[str], *, required: bool = True) -> str | None:
        """One of `options`."""
        raw = self.value(name).strip()
        if not raw:
            if required:
                self.error(name, _("Please choose one."))
            return None
        if raw not in set(options):
            self.error(name, _("Please choose one of the options shown."))
            return None
        return raw

    def choices(self, name: str, options: Iterable[str], *, at_most: int = 500) -> list[str]:
        """Every ticked value of a repeated field, each one of `options`."""
        allowed, picked = set(options), self.values(name)
        if len(picked) > at_most or any(v not in allowed for v in picked):
            self.error(name, _("Please choose from the options shown."))
            return []
        return list(dict.fromkeys(picked))

    def flag(self, name: str) -> bool:
        """A checkbox: ticked or not."""
        return self.value(name) in ("1", "on", "true", "yes")


def _bad() -> date:
    raise ValueError("not YYYY-MM-DD")
