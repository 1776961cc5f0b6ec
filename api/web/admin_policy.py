"""The policy editor: the 14 knobs in force for a region of the administrator's subtree and where
each comes from; a form to change them, checked field by field; a preview of the change (old → new,
and what it would have done to the last 30 days' records); then saving it as a new version, which
is a ledger entry (timebank.policy.set_policy)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from timebank import catalogue, policy, regions
from timebank.catalogue import CatalogueItem
from timebank.errors import InvalidInput
from timebank.people import RELATIONS
from timebank.regions import Region

from .. import auth
from ..db import get_session
from . import language
from .admin import administrator, bp, chosen_region, region_name, region_options
from .admin_preview import DAYS, effects
from .forms import Form
from .views import change, writer

# knob → (label, hint), in the order of policy.KNOBS
KNOBS = {
    "weights": (_l("Credit per minute for each service"),
                _l("In percent: 100 is one minute of credit for each minute of service, 120 is 1.2 minutes.")),
    "rounding": (_l("Rounding of credit"), _l("How credit is rounded to whole minutes.")),
    "daily_cap_minutes": (_l("Most minutes a volunteer may log in one day"), _l("From 1 to 1440.")),
    "allow_overlap": (_l("A volunteer's records may overlap in time"), ""),
    "confirm_deadline_working_days": (_l("Working days to complete a record"),
                                      _l("After the service, from 1 to 365 working days.")),
    "self_confirmation_allowed": (_l("People may confirm their own records"), ""),
    "paid_work_earns": (_l("Paid or low-paid services earn credit"), ""),
    "own_household_earns": (_l("Serving one's own household earns credit"), ""),
    "redemption_age": (_l("Age from which volunteers may use their own credit"), _l("From 0 to 120.")),
    "gift_relations": (_l("Relatives credit may be given to"), ""),
    "expiry_days": (_l("Days after which unused credit expires"), _l("Leave empty for never; else 1 to 36500.")),
    "accepted_banks": (_l("Banks whose members may use credit here, and where ours may (通存通兑)"), ""),
    "points_per_hour": (_l("Points for each hour of credit"), _l("From 0 to 1000.")),
    "care_contacts_per_week": (_l("Care contacts an agreement asks for each week"), _l("From 1 to 21.")),
}
INTEGERS = {"daily_cap_minutes": (1, 1440), "confirm_deadline_working_days": (1, 365), "redemption_age": (0, 120),
            "points_per_hour": (0, 1000), "care_contacts_per_week": (1, 21)}
FLAGS = ("allow_overlap", "self_confirmation_allowed", "paid_work_earns", "own_household_earns")
ROUNDING = {"half_up": _l("To the nearest minute"), "floor": _l("Down"), "ceil": _l("Up")}
RELATION_NAMES = {"spouse": _l("Spouse"), "parent": _l("Parent"), "grandparent": _l("Grandparent"),
                  "child": _l("Child"), "grandchild": _l("Grandchild"), "sibling": _l("Brother or sister"),
                  "other_relative": _l("Other relative"), "friend": _l("Friend")}
assert list(KNOBS) == list(policy.KNOBS) and set(RELATION_NAMES) == set(RELATIONS)


@dataclass(frozen=True)
class Setting:
    """One knob as the page lists it."""

    name: str
    label: str
    value: str
    source: str


@dataclass(frozen=True)
class Scene:
    """What the policy pages need: the region, its rules now, the catalogue and the banks."""

    region: Region
    rules: policy.Policy
    items: list[CatalogueItem]
    banks: list[Region]

    def weight(self, item: CatalogueItem) -> int:
        return self.rules.weight(item.code, item.weight_pct)


def _scene(session: Session, region: Region) -> Scene:
    return Scene(region, policy.effective(session, region), catalogue.items_for(session, region),
                 regions.list_banks(session))


def _item_name(item: CatalogueItem) -> str:
    return item.name("en" if language.current() == "en" else "zh")


def said(scene: Scene, name: str, value: Any) -> str:
    """A knob's value as a reader reads it."""
    if name == "weights":
        items = {item.code: item for item in scene.items}
        shown = [f"{_item_name(items[code]) if code in items else code} {pct}%" for code, pct in sorted(value.items())
                 if code not in items or pct != items[code].weight_pct]
        return "，".join(shown) if shown else str(_("The catalogue's own"))
    if name in FLAGS:
        return str(_("Yes") if value else _("No"))
    if name == "rounding":
        return str(ROUNDING.get(value, value))
    if name == "gift_relations":
        return "，".join(str(RELATION_NAMES.get(r, r)) for r in value) or str(_("Nobody"))
    if name == "accepted_banks":
        if value is None:
            return str(_("Every bank of the network"))
        names = {bank.id: region_name(bank) for bank in scene.banks}
        return "，".join(names.get(b, b) for b in value) or str(_("No other bank"))
    if name == "expiry_days":
        return str(_("Never")) if value is None else _("%(n)d days", n=value)
    formats = {"daily_cap_minutes": _("%(n)d minutes", n=value), "redemption_age": _("%(n)d years", n=value),
               "confirm_deadline_working_days": _("%(n)d working days", n=value),
               "care_contacts_per_week": _("%(n)d a week", n=value)}
    return formats.get(name, str(value))


def _source(session: Session, scene: Scene, name: str) -> str:
    """Where the value of `name` comes from: the deepest region's newest version setting it."""
    depth = {region_id: i for i, region_id in enumerate(scene.region.ancestor_ids)}
    setting = [row for row in policy.history(session, scene.region) if name in row.values]
    if not setting:
        return str(_("The default"))
    row = max(setting, key=lambda r: (depth[r.region_id], r.version))
    if row.region_id == scene.region.id:
        return _("Set here (version %(v)d)", v=row.version)
    return _("From %(region)s (version %(v)d)", region=region_name(regions.get_region(session, row.region_id)),
             v=row.version)


def _filled(scene: Scene) -> MultiDict[str, str]:
    """The form as it starts: the values in force now."""
    rules = scene.rules
    data: MultiDict[str, str] = MultiDict({"region": scene.region.id, "rounding": rules.rounding,
                                           "expiry_days": "" if rules.expiry_days is None else str(rules.expiry_days),
                                           "accepted_mode": "all" if rules.accepted_banks is None else "listed"})
    for name in INTEGERS:
        data[name] = str(rules.values[name])
    for name in FLAGS:
        data[name] = "yes" if rules.values[name] else "no"
    for item in scene.items:
        data[f"weight-{item.code}"] = str(scene.weight(item))
    for relation in rules.gift_relations:
        data.add("gift_relations", relation)
    for bank in rules.accepted_banks or []:
        data.add("accepted_banks", bank)
    return data


def _read(form: Form, scene: Scene) -> dict[str, Any]:
    """The knobs that differ from the rules in force (weights: the items that differ); errors on `form`."""
    values: dict[str, Any] = {name: form.integer(name, low=low, high=high) for name, (low, high) in INTEGERS.items()}
    values.update({name: form.choice(name, ("yes", "no")) == "yes" for name in FLAGS})
    values["rounding"] = form.choice("rounding", policy.ROUNDING)
    values["expiry_days"] = form.integer("expiry_days", low=1, high=36500, required=False)
    values["gift_relations"] = [r for r in RELATIONS if r in form.choices("gift_relations", RELATIONS)]
    mode = form.choice("accepted_mode", ("all", "listed"))
    picked = form.choices("accepted_banks", [bank.id for bank in scene.banks])
    values["accepted_banks"] = None if mode == "all" else [b.id for b in scene.banks if b.id in picked]
    weights = {}
    for item in scene.items:
        pct = form.integer(f"weight-{item.code}", low=0, high=1000)
        if pct is not None and pct != scene.weight(item):
            weights[item.code] = pct
    changes = {name: value for name, value in values.items() if value != scene.rules.values[name]}
    if weights:
        changes["weights"] = weights
    if form.ok and not changes:
        form.error("", _("Nothing was changed. Change at least one rule, then look at the effect."))
    return {name: changes[name] for name in policy.KNOBS if name in changes}


def _diff(scene: Scene, changes: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(knob, label, old, new) for each change; weights item by item."""
    rows = []
    for name, value in changes.items():
        if name == "weights":
            items = {item.code: item for item in scene.items}
            for code, pct in value.items():
                rows.append((name, f"{KNOBS[name][0]}: {_item_name(items[code])}", f"{scene.weight(items[code])}%",
                             f"{pct}%"))
        else:
            old = said(scene, name, scene.rules.values[name])
            rows.append((name, str(KNOBS[name][0]), old, said(scene, name, value)))
    return rows


def _show(scene: Scene, form: Form, session: Session, who: auth.Caller) -> tuple[str, int]:
    settings = [Setting(name, str(label), said(scene, name, scene.rules.values[name]), _source(session, scene, name))
                for name, (label, _hint) in KNOBS.items()]
    return render_template("web/admin/policy.html", scene=scene, form=form, settings=settings, knobs=KNOBS,
                           rounding=ROUNDING, relations=RELATION_NAMES, regions=region_options(session, who),
                           item_name=_item_name, bank_options=[(b.id, region_name(b)) for b in scene.banks],
                           weights_open=any(name.startswith("weight-") for name in form.errors)), form.status


def _preview(scene: Scene, form: Form, changes: Mapping[str, Any], session: Session, stale: bool = False) -> str:
    found, weighed = effects(session, scene.region, changes, auth.now())
    echoed = [(k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", "action", "base_version")]
    return render_template("web/admin/policy_preview.html", scene=scene, form=form, rows=_diff(scene, changes),
                           effects=found, weighed=weighed, days=DAYS, echoed=echoed, stale=stale,
                           base_version=policy.current_version(session))


@bp.route("/policy", methods=["GET", "POST"])
def policy_page() -> Response | tuple[str, int] | str:
    """GET: the rules of a region and the form; POST action=preview|save|edit."""
    who = administrator()
    session = get_session()
    if request.method == "GET":
        scene = _scene(session, chosen_region(session, who, Form(request.args)))
        return _show(scene, Form(_filled(scene)), session, who)
    form = Form(request.form)
    scene = _scene(session, chosen_region(session, who, form))
    action = request.form.get("action", "preview")
    if action == "edit":
        return _show(scene, form, session, who)
    changes = _read(form, scene)
    if form.ok:
        try:
            changes = policy.check_values(changes)
        except InvalidInput as exc:
            for name in exc.details.get("errors", {}) or {"": ""}:
                form.error(name if name in KNOBS else "", _("Please check this entry: it is not valid."))
    if not form.ok:
        return _show(scene, form, session, who)
    if action != "save":
        return _preview(scene, form, changes, session)
    if request.form.get("base_version", "") != str(policy.current_version(session)):
        return _preview(scene, form, changes, session, stale=True)  # the rules changed since the preview
    try:
        with change() as writing:
            row = policy.set_policy(writing, writer(), region_id=scene.region.id,
                                    changes=changes, set_by=who.subject_id or "", at=auth.now())
            version = row.version
    except InvalidInput as exc:
        form.refuse(exc)
        return _show(_scene(session, scene.region), form, session, who)
    flash(_("The new rules are saved as version %(v)d. They apply from now on.", v=version), "ok")
    return redirect(url_for("admin.policy_page", region=scene.region.id))
