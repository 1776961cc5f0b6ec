"""Registering an elder in the coordinator's subtree (with priority tags and, optionally, a family
member who may act for them); the short code for the elder's card is shown at the end."""

from __future__ import annotations

import re
from datetime import date

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from timebank import people, regions
from timebank.errors import Conflict, DomainError, InvalidInput
from timebank.people import PRIORITY_TAGS, RELATIONS, SEXES, Elder

from .. import access
from ..auth import now
from .coordinator_common import (
    Staffer,
    bp,
    hidden,
    region_label,
    regions_below,
    staffer,
)
from .forms import Form
from .language import name_of
from .views import change, sealer

SEX_WORDS = {"F": _l("Female"), "M": _l("Male")}
TAG_WORDS = {
    "age_80_plus": _l("Aged 80 or over (高龄)"), "disabled": _l("Disabled (失能)"),
    "semi_disabled": _l("Partly disabled (半失能)"), "dementia": _l("Dementia (失智)"),
    "lost_only_child": _l("Lost their only child (失独)"), "empty_nest": _l("Empty nest (空巢)"),
    "living_alone": _l("Living alone (独居)"), "left_behind": _l("Left behind (留守)"),
    "childless_widowed": _l("Without family (孤寡)"), "extreme_poverty": _l("Extreme poverty (特困)"),
    "low_income": _l("Low income (低保)"), "special_family_planning": _l("Special family-planning family"),
    "handicapped": _l("Has a disability (残疾)"), "serious_illness": _l("Serious illness (重病)"),
}
RELATION_WORDS = {
    "spouse": _l("Spouse"), "parent": _l("Parent"), "grandparent": _l("Grandparent"), "child": _l("Son or daughter"),
    "grandchild": _l("Grandchild"), "sibling": _l("Brother or sister"), "other_relative": _l("Other relative"),
    "friend": _l("Friend or neighbour"),
}
# what registering writes of the elder's personal data (logged as a change, as the API does)
PERSONAL = ["name", "sex", "birth_date", "id_number", "phone", "address", "tags"]
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{3,18}[0-9]$")
# a domain refusal's field → the form's field, for each step
ELDER_FIELDS = {"name": "name", "sex": "sex", "birth_date": "birth_date", "id_number": "id_number",
                "phone": "phone", "address": "address", "region_id": "region_id", "tags": "tags"}
RELATIVE_FIELDS = {"name": "relative_name", "phone": "relative_phone", "relation": "relative_relation"}


def _region_options(me: Staffer) -> list[tuple[str, str]]:
    """The regions of the subtree that a time bank covers, named with their parent."""
    below = regions_below(me)
    by_id = {r.id: r for r in below}
    if me.region.parent_id:
        by_id[me.region.parent_id] = regions.get_region(me.session, me.region.parent_id)
    options = []
    for region in below:
        try:
            regions.bank_of(me.session, region)
        except DomainError:
            continue
        options.append((region.id, region_label(region, by_id)))
    return options


def _phone(form: Form, name: str) -> str | None:
    phone = form.text(name, required=False, max_length=20)
    if phone is not None and not PHONE.fullmatch(phone):
        form.error(name, _("Please enter a phone number of 5 to 20 digits (spaces and - are allowed)."))
    return phone


def _id_number(form: Form, born: date | None, sex: str | None) -> str | None:
    """The ID number, checked: a resident ID's check digit, and its birth date and sex digit against
    those entered (the same check as the API's); another document is 5–20 letters and digits."""
    raw = form.text("id_number", max_length=40)
    if raw is None:
        return None
    try:
        number = people.check_id_number(raw)
    except InvalidInput:
        form.error("id_number", _("This ID number is not valid. Please check each digit (18 characters, the last "
                                  "may be X), or enter another document's number."))
        return None
    found = people.id_disagreement(number, born, sex)
    if found is not None and found[0] == "no_birth_date":
        form.error("id_number", _("This ID number does not hold a real birth date. Please check it."))
        return None
    if found is not None and found[0] == "birth_date" and born is not None:
        form.error("id_number", _("The ID number says born on %(day)s, but the birth date entered is %(entered)s. "
                                  "Please check both.", day=str(found[1]), entered=born.isoformat()))
    elif found is not None and found[0] == "sex":
        form.error("id_number", _("The ID number is a %(sex)s's number. Please check the ID number and the sex.",
                                  sex=SEX_WORDS[people.id_sex(number)]))
    return number


def _show(me: Staffer, form: Form) -> tuple[str, int]:
    return render_template("web/coordinator/elder_new.html", form=form, regions=_region_options(me),
                           sexes=[(s, str(SEX_WORDS[s])) for s in SEXES],
                           tags=[(t, str(TAG_WORDS[t])) for t in PRIORITY_TAGS],
                           relations=[(r, str(RELATION_WORDS[r])) for r in RELATIONS]), form.status


@bp.route("/elders/new", methods=["GET", "POST"])
def new_elder() -> Response | tuple[str, int]:
    """The registration form; on success, the page with the elder's short code."""
    me = staffer()
    if request.method == "GET":
        return _show(me, Form())
    form = Form(request.form)
    name = form.text("name", max_length=50)
    sex = form.choice("sex", SEXES)
    born = form.day("birth_date")
    if born is not None and not date(1900, 1, 1) <= born <= now().date():
        form.error("birth_date", _("Please enter a birth date in the past."))
    id_number = _id_number(form, born, sex)
    phone = _phone(form, "phone")
    address = form.text("address", required=False, max_length=200)
    region_id = form.choice("region_id", [value for value, _label in _region_options(me)])
    tags = form.choices("tags", PRIORITY_TAGS)
    relative_name = form.text("relative_name", required=False, max_length=50)
    relation = form.choice("relative_relation", RELATIONS, required=relative_name is not None)
    relative_phone = _phone(form, "relative_phone")
    if relative_name is None and (relation or relative_phone):
        form.error("relative_name", _("Please enter the family member's name, or leave their details empty."))
    if not form.ok:
        return _show(me, form)
    stage = "elder"
    try:
        with change() as session:
            elder = people.register_elder(session, sealer(), region_id=region_id or "", name=name or "", sex=sex or "",
                                          birth_date=born, id_number=id_number or "", phone=phone,  # type: ignore[arg-type]
                                          address=address, tags=tags, registered_by=me.staff_id, at=now())
            access.log_access(session, me.who, elder.id, PERSONAL, action="change")
            if relative_name is not None:
                stage = "relative"
                people.add_relative(session, sealer(), elder_id=elder.id, relation=relation or "", name=relative_name,
                                    phone=relative_phone, may_confirm=form.flag("relative_may_confirm"),
                                    may_redeem=form.flag("relative_may_redeem"), at=now())
                access.log_access(session, me.who, elder.id, ["relatives.name", "relatives.phone"], action="change")
    except DomainError as exc:
        if isinstance(exc, Conflict) and exc.details.get("field") == "id_number":
            form.error("id_number", _("An elder with this ID number is registered already."))
        else:
            form.refuse(exc, fields=ELDER_FIELDS if stage == "elder" else RELATIVE_FIELDS)
        return _show(me, form)
    return redirect(url_for("coordinator.elder_registered", elder_id=elder.id))


@bp.get("/elders/<elder_id>")
def elder_registered(elder_id: str) -> str:
    """An elder of the subtree: the short code for their card, to give them for volunteers to find them."""
    me = staffer()
    with change() as session:
        elder = session.get(Elder, elder_id)
        if elder is None or not regions.covers(me.region, regions.get_region(session, elder.region_id)):
            raise hidden("elder", elder_id)
        name = people.opened(sealer(), elder)["name"]
        access.log_access(session, me.who, elder.id, ["name"])
        relatives = len(people.relatives_of(session, elder.id))
        place = name_of(regions.get_region(session, elder.region_id))
    return render_template("web/coordinator/elder_registered.html", elder=elder, name=name, place=place,
                           relatives=relatives)
