"""The volunteer's pages: signing up, the start page; logging hours and the records
(volunteer_records), credit, gifts and certificates (volunteer_credit) add their routes to the
same blueprint."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from timebank import accounts, people, recognition, users
from timebank.errors import Conflict, DomainError, Refused
from timebank.people import VOLUNTEER_KINDS
from timebank.records import ServiceRecord
from timebank.redemption import Redemption
from timebank.regions import Region, bank_of

from .. import auth
from ..db import get_session
from . import nav
from .forms import Form
from .views import change, sealer
from .language import english, name_of
from .volunteer_common import PENDING, bp, hours, me

__all__ = ["bp"]

KIND_WORDS = {"student": _l("Student"), "party_member": _l("Party member (党员)"), "youth": _l("Youth volunteer"),
              "community": _l("Community member"), "elder_helping_elder": _l("Older person helping elders (以老助老)"),
              "left_behind_woman": _l("Left-behind woman (留守妇女)"), "other": _l("Other")}
SEX_WORDS = {"F": _l("Female"), "M": _l("Male")}
# what registering records as changed personal data (as the API's sign-up does)
PERSONAL = ["name", "sex", "birth_date", "id_number", "phone", "address"]
ID_NUMBER = re.compile(r"^[0-9]{17}[0-9X]$")

nav.item(("volunteer",), "volunteer.home", _l("My start page"))
nav.item(("volunteer",), "volunteer.log_hours", _l("Log hours"))
nav.item(("volunteer",), "volunteer.records", _l("My records"))
nav.item(("volunteer",), "volunteer.credit", _l("My time credit"))
nav.item(("volunteer",), "volunteer.give", _l("Give time"))
nav.item(("volunteer",), "volunteer.certificates", _l("Certificates"))


# --- signing up ---------------------------------------------------------------------------------

def _communities() -> list[tuple[str, str]]:
    """(id, "社区 · 区") for every community or grid a time bank covers, by place in the tree."""
    session = get_session()
    rows = list(session.scalars(sa.select(Region).where(Region.level.in_(("community", "grid")))
                                .order_by(Region.path)))
    parents = {r.id: r for r in session.scalars(sa.select(Region).where(
        Region.id.in_({r.parent_id for r in rows if r.parent_id})))}
    options = []
    for region in rows:
        try:
            bank_of(session, region)
        except Refused:
            continue  # no time bank covers it yet
        parent = parents.get(region.parent_id or "")
        options.append((region.id, name_of(region) + (f" · {name_of(parent)}" if parent else "")))
    return options


def _check_id_number(form: Form, number: str | None, born: date | None, sex: str | None) -> None:
    """The resident ID number (GB 11643) is well formed and agrees with the birth date and sex
    (people.id_disagreement, as the API's sign-up checks)."""
    if number is None:
        return
    number = "".join(unicodedata.normalize("NFKC", number).split()).upper()
    try:
        people.check_id_number(number)
    except DomainError:
        if ID_NUMBER.match(number):
            form.error("id_number", _("The last character of this ID number does not fit the others. "
                                      "Please check the number."))
        else:
            form.error("id_number", _("Please enter the 18-character resident ID number (or a passport "
                                      "number of 5 to 20 letters and digits)."))
        return
    found = people.id_disagreement(number, born, sex)
    if found is None:
        return
    if found[0] == "no_birth_date":
        form.error("id_number", _("This ID number does not hold a real birth date. Please check it."))
    elif found[0] == "birth_date":
        form.error("id_number", _("This ID number says you were born on %(day)s. Please check the ID number "
                                  "and the birth date.", day=str(found[1])))
    else:
        form.error("id_number", _("This ID number does not agree with the sex chosen. Please check both."))


def _check_sign_up(form: Form, regions: list[tuple[str, str]]) -> dict[str, Any]:
    """Every field checked, with a message saying what to fix."""
    body = {"region_id": form.choice("region", [r for r, _ in regions]),
            "name": form.text("name", max_length=50),
            "sex": form.choice("sex", list(SEX_WORDS)),
            "birth_date": form.day("birth_date"),
            "id_number": form.text("id_number", max_length=30),
            "phone": form.text("phone", max_length=20),
            "kind": form.choice("kind", VOLUNTEER_KINDS),
            "username": form.text("username", max_length=64)}
    born = body["birth_date"]
    if born is not None and not (date(1900, 1, 1) <= born < auth.now().date()):
        form.error("birth_date", _("Please enter your real birth date, in the past."))
        born = None
    _check_id_number(form, body["id_number"], born, body["sex"])
    phone = body["phone"]
    if phone and not (re.fullmatch(r"\+?[0-9][0-9 -]{3,18}", phone) and 5 <= len(phone) <= 20):
        form.error("phone", _("Please enter a phone number of digits only, such as 13800000000."))
    name = body["username"]
    if name and not (len(name) >= 3 and name.isascii() and all(c.isalnum() or c in "._-@" for c in name)):
        form.error("username", _("A user name is 3 to 64 letters or digits (also . _ - @), without spaces."))
    password = form.value("password")
    if len(password) < users.MIN_PASSWORD or len(password) > 200:
        form.error("password", _("Please choose a password of at least %(n)d characters.", n=users.MIN_PASSWORD))
    elif password.isdigit() or len(set(password)) < 4:
        form.error("password", _("This password is too easy to guess. Use a few words or mix letters and digits."))
    return body


@bp.route("/volunteer/sign-up", methods=["GET", "POST"])
def sign_up() -> Response | tuple[str, int]:
    """Register as a volunteer by real name, with a user name and password; then signed in."""
    if auth.caller() is not None:
        flash(_("You are signed in already. Sign out first to register someone new."), "info")
        return redirect(url_for("account.home"))
    form = Form(request.form if request.method == "POST" else None)
    regions = _communities()
    if request.method == "POST":
        body = _check_sign_up(form, regions)
        if form.ok:
            try:
                with change() as session:
                    at = auth.now()
                    volunteer = people.register_volunteer(
                        session, sealer(), region_id=body["region_id"], name=body["name"], sex=body["sex"],
                        birth_date=body["birth_date"], id_number=body["id_number"], kind=body["kind"],
                        phone=body["phone"], at=at)
                    user = users.create_user(session, username=body["username"], password=form.value("password"),
                                             role="volunteer", subject_id=volunteer.id, at=at)
                    users.record_access(session, user_id=user.id, action="change", subject_id=volunteer.id,
                                        fields=PERSONAL, at=at)
            except Conflict as exc:
                if exc.details.get("field") == "username":
                    form.error("username", _("This user name is taken. Please choose another."))
                else:
                    form.error("id_number", _("This ID number is registered already. If you registered before, "
                                              "please sign in."))
            except DomainError as exc:
                form.refuse(exc, fields={"region_id": "region"})
            else:
                auth.start_session(user)
                flash(_("Welcome! You are registered as a volunteer."), "ok")
                return redirect(url_for("volunteer.home"))
    return render_template("web/volunteer/sign_up.html", form=form, regions=regions,
                           sexes=[(k, str(v)) for k, v in SEX_WORDS.items()],
                           kinds=[(k, str(KIND_WORDS[k])) for k in VOLUNTEER_KINDS]), form.status


# --- the start page -----------------------------------------------------------------------------

def _star(session: Any, volunteer_id: str) -> dict[str, Any]:
    """The national star rating: the level held (or None), the next one and the hours still to go;
    and the levels held in the other schemes of the volunteer's region (scheme, level)."""
    key = "name_en" if english() else "name_zh"
    star: dict[str, Any] = {"minutes": 0, "level": None, "stars": 0, "next": None, "to_go": None, "others": []}
    for row in recognition.standing(session, volunteer_id=volunteer_id, at=auth.now()):
        current, following = row["current"], row["next"]
        if row["scheme"].code != recognition.NATIONAL_STAR:
            if current:
                star["others"].append((getattr(row["scheme"], key), current[key]))
            continue
        star.update({"minutes": row["minutes"], "level": current[key] if current else None,
                     "stars": current["level"] if current else 0, "next": following[key] if following else None,
                     "to_go": hours(following["hours"] * 60 - row["minutes"]) if following else None})
    return star


@bp.get("/volunteer")
def home() -> str:
    """Balance, recognition, records waiting and verified, and the main actions."""
    mine = me()
    with change() as session:  # the national scheme is seeded on first use
        volunteer = mine.volunteer
        balance = accounts.person_balance(session, volunteer.id)
        held = int(session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Redemption.credit_minutes), 0)).where(
            Redemption.redeemer_id == volunteer.id, Redemption.status == "requested")) or 0)
        counts = dict(session.execute(sa.select(ServiceRecord.status, sa.func.count()).where(
            ServiceRecord.volunteer_id == volunteer.id).group_by(ServiceRecord.status)).all())
        star = _star(session, volunteer.id)
    return render_template("web/volunteer/home.html", balance=balance, balance_words=hours(balance),
                           held=hours(held) if held else None, star=star,
                           pending=sum(counts.get(s, 0) for s in PENDING), verified=counts.get("posted", 0),
                           status=volunteer.status)


from . import volunteer_credit, volunteer_records  # noqa: E402,F401  (their routes join bp)
