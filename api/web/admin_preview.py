"""What a policy change would have done to the last 30 days' records of the region's subtree: how
many would have been refused, or credited differently. Computed from the records in the database
under the rules as they were and as they would be; nothing is changed.

The policy as it would be is `policy.effective` with the change laid over it at its region (a
region below that set the same knob still wins), computed here without writing a version."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from timebank import catalogue, people, policy, stats
from timebank.checks import china_date
from timebank.records import DEAD, ServiceRecord, confirm_deadline
from timebank.regions import Region, get_region

DAYS = 30
CREDIT_KNOBS = ("weights", "rounding", "paid_work_earns", "own_household_earns", "points_per_hour")
RECORD_KNOBS = ("daily_cap_minutes", "confirm_deadline_working_days", *CREDIT_KNOBS)


def with_change(session: Session, region: Region, at: Region, changes: Mapping[str, Any]) -> policy.Policy:
    """The policy `region` would have if `changes` were set on `at` (`region` or above it) as the
    newest version: `policy.effective`'s layering, root first, weights merged item by item."""
    values = {name: knob.default for name, knob in policy.KNOBS.items()}
    depth = {region_id: i for i, region_id in enumerate(region.ancestor_ids)}
    layers = sorted([(depth[row.region_id], row.version, row.values) for row in policy.history(session, region)]
                    + [(depth[at.id], math.inf, dict(changes))], key=lambda layer: (layer[0], layer[1]))
    for _depth, _version, layer in layers:
        if "weights" in layer:
            layer = {**layer, "weights": {**values["weights"], **layer["weights"]}}
        values.update(layer)
    return policy.Policy(policy.current_version(session) + 1, values)


@dataclass(frozen=True)
class Effect:
    """What one kind of change did to the recent records, in words."""

    title: str
    lines: list[str]


def _credit(session: Session, record: ServiceRecord, rules: policy.Policy, item: catalogue.CatalogueItem) -> int:
    """The credit `verify_record` would post for `record` under `rules`."""
    credit = catalogue.credit_minutes(record.minutes, rules.weight(item.code, item.weight_pct), rules.rounding,
                                      item.price_minutes)
    if record.paid and not rules.paid_work_earns:
        return 0
    if not rules.own_household_earns:
        relative = people.relation_between(session, record.elder_id, record.volunteer_id)
        if relative is not None and relative.same_household:
            return 0
    return credit


def _refused_by_cap(records: list[ServiceRecord], cap_of: Mapping[str, int]) -> tuple[int, int]:
    """(records, minutes) the daily cap of each record's region would have refused, counting each
    volunteer's day in submission order (a refused record adds nothing to the day)."""
    logged: dict[tuple[str, Any], int] = {}
    count = minutes = 0
    for record in records:
        if record.status in DEAD:
            continue
        day = (record.volunteer_id, china_date(record.started_at))
        if logged.get(day, 0) + record.minutes > cap_of[record.region_id]:
            count, minutes = count + 1, minutes + record.minutes
        else:
            logged[day] = logged.get(day, 0) + record.minutes
    return count, minutes


def effects(session: Session, region: Region, changes: Mapping[str, Any], at: datetime) -> tuple[list[Effect], int]:
    """The effects of `changes` on `region`'s records started in the last DAYS days, and how many
    records were weighed."""
    if not set(changes) & set(RECORD_KNOBS):
        return [], 0
    records = stats.records_started(session, region_id=region.id, start=at - timedelta(days=DAYS), end=at)
    regions = {region_id: get_region(session, region_id) for region_id in {r.region_id for r in records}}
    old = {region_id: policy.effective(session, r) for region_id, r in regions.items()}
    new = {region_id: with_change(session, r, region, changes) for region_id, r in regions.items()}
    found: list[Effect] = []
    if "daily_cap_minutes" in changes:
        before = _refused_by_cap(records, {k: v.daily_cap_minutes for k, v in old.items()})
        after = _refused_by_cap(records, {k: v.daily_cap_minutes for k, v in new.items()})
        found.append(Effect(_("Daily limit"), [
            _("Under the new limit, %(n)d of these records (%(minutes)d minutes) would have been refused.",
              n=after[0], minutes=after[1]),
            _("Under the limit in force now: %(n)d (%(minutes)d minutes).", n=before[0], minutes=before[1])]))
    if "confirm_deadline_working_days" in changes:
        def late(rules: Mapping[str, policy.Policy]) -> int:
            return sum(1 for r in records if r.status not in DEAD and (r.confirmed_at or r.submitted_at)
                       >= confirm_deadline(r.ended_at, rules[r.region_id].confirm_deadline_working_days))
        found.append(Effect(_("Time to complete a record"), [
            _("Under the new deadline, %(n)d of these records would have been too late.", n=late(new)),
            _("Under the deadline in force now: %(n)d.", n=late(old))]))
    if set(changes) & set(CREDIT_KNOBS):
        posted = [r for r in records if r.status == "posted"]
        items = {code: session.get(catalogue.CatalogueItem, code) for code in {r.catalogue_code for r in posted}}
        differ = credit_before = credit_after = points_before = points_after = 0
        for record in posted:
            item = items[record.catalogue_code]
            assert item is not None  # a foreign key
            was, would = _credit(session, record, old[record.region_id], item), _credit(
                session, record, new[record.region_id], item)
            differ += was != would
            credit_before, credit_after = credit_before + was, credit_after + would
            points_before += was * old[record.region_id].points_per_hour // 60
            points_after += would * new[record.region_id].points_per_hour // 60
        lines = [_("%(n)d of %(total)d verified records would have been credited differently.", n=differ,
                   total=len(posted)),
                 _("Credit for them: %(before)d minutes under the rules now, %(after)d minutes under the new rules.",
                   before=credit_before, after=credit_after)]
        if "points_per_hour" in changes:
            lines.append(_("Points for them: %(before)d now, %(after)d under the new rules.", before=points_before,
                           after=points_after))
        found.append(Effect(_("Credit for verified records"), lines))
    return found, len(records)
