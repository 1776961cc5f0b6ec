"""Regions, banks, stations, organisations, staff, the catalogue, policy, statistics and settlement."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_smorest import Blueprint
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from timebank import catalogue, interbank, journal, people, policy, regions, stats
from timebank.banks import open_bank
from timebank.checks import CHINA
from timebank.errors import InvalidInput, NotFound, Refused
from timebank.regions import Organisation, Region, Station

from .. import access, auth
from ..db import get_session
from ..paging import decode_cursor, decode_int_cursor, encode_cursor, encode_int_cursor, page
from ..transact import commits, use_case_key, writes
from . import network_schemas as s
from .common import now, sealer, writer

blp = Blueprint("network", __name__, url_prefix="/api/v1",
                description="Regions, banks, stations, organisations, staff, the catalogue, policy, statistics and "
                            "settlement.")

SCOPED_READERS = ("administrator", "coordinator", "auditor")


def _receipt(session: Session, entry_id: str | None) -> dict[str, Any] | None:
    entry = session.get(journal.Entry, entry_id) if entry_id else None
    return entry.receipt() if entry is not None else None


def _list(rows: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"items": rows, "next": next_cursor}


def _subtree_or_here(column: sa.ColumnElement[str], region: Region, subtree: bool) -> sa.ColumnElement[bool]:
    return regions.in_subtree(column, region) if subtree else column == region.id


# --- regions and banks --------------------------------------------------------------------------

def _region_json(region: Region) -> dict[str, Any]:
    return {"id": region.id, "parent_id": region.parent_id, "level": region.level,
            "level_name": regions.LEVEL_NAMES[region.level], "code": region.code, "name_zh": region.name_zh,
            "name_en": region.name_en, "is_bank": region.is_bank, "log_id": region.log_id}


def _region_detail(session: Session, region: Region) -> dict[str, Any]:
    """The region's fields with its ancestors, its covering bank and (a bank) its log's origin."""
    try:
        bank_id: str | None = regions.bank_of(session, region).id
    except Refused:
        bank_id = None
    return {**_region_json(region), "ancestor_ids": region.ancestor_ids, "bank_id": bank_id,
            "origin": interbank.origin_of(session, region) if region.is_bank else None}


@blp.route("/regions", methods=["GET"])
@blp.arguments(s.RegionQuery, location="query")
@blp.response(200, s.RegionPage)
def list_regions(query: dict[str, Any]) -> dict[str, Any]:
    """The region tree (names of places are public to anyone signed in); filter by parent or level."""
    auth.require()
    select = sa.select(Region)
    if query["parent_id"]:
        select = select.where(Region.parent_id == query["parent_id"])
    if query["level"]:
        select = select.where(Region.level == query["level"])
    rows, next_cursor = page(get_session(), select, Region.id, limit=query["limit"], cursor=query["cursor"])
    return _list([_region_json(region) for region in rows], next_cursor)


@blp.route("/regions/<region_id>", methods=["GET"])
@blp.response(200, s.RegionDetailOut)
def get_region(region_id: str) -> dict[str, Any]:
    """One region, with its ancestors and the bank that covers it."""
    auth.require()
    session = get_session()
    return _region_detail(session, regions.get_region(session, region_id))


@blp.route("/regions", methods=["POST"])
@writes
@blp.arguments(s.RegionBody)
@blp.response(201, s.RegionDetailOut)
def create_region(body: dict[str, Any]) -> dict[str, Any]:
    """Add a region under one in your subtree (an administrator)."""
    who = auth.require("administrator")
    session = get_session()
    access.check_region(session, who, body["parent_id"])
    region = regions.create_region(session, level=body["level"], name_zh=body["name_zh"], name_en=body["name_en"],
                                   parent_id=body["parent_id"], code=body["code"], at=now())
    return _region_detail(session, region)


@blp.route("/regions/<region_id>/bank", methods=["POST"])
@writes
@blp.arguments(s.BankBody)
@blp.response(201, s.BankOut)
def open_region_bank(body: dict[str, Any], region_id: str) -> dict[str, Any]:
    """Make a region in your subtree a bank: its own ledger log (origin `<origin host>/<log id>`),
    signing key and accounts, and an opening entry (an administrator)."""
    who = auth.require("administrator")
    session = get_session()
    access.check_region(session, who, region_id)
    host = current_app.extensions["timebank.settings"].origin_host
    region = open_bank(session, writer(), region_id=region_id, log_id=body["log_id"],
                       origin=f"{host}/{body['log_id']}", at=now())
    entry = session.scalar(sa.select(journal.Entry).where(journal.Entry.bank_id == region.id,
                                                          journal.Entry.type == "bank"))
    detail = _region_detail(session, region)
    detail["receipt"] = entry.receipt() if entry is not None else None
    return detail


# --- stations and organisations -----------------------------------------------------------------

@blp.route("/regions/<region_id>/stations", methods=["GET"])
@blp.arguments(s.SubtreeQuery, location="query")
@blp.response(200, s.StationPage)
def list_stations(query: dict[str, Any], region_id: str) -> dict[str, Any]:
    """The service stations of a region (with `subtree`, also those below it)."""
    auth.require()
    session = get_session()
    region = regions.get_region(session, region_id)
    select = sa.select(Station).where(_subtree_or_here(Station.region_id, region, query["subtree"]))
    return _list(*page(session, select, Station.id, limit=query["limit"], cursor=query["cursor"]))


@blp.route("/regions/<region_id>/stations", methods=["POST"])
@writes
@blp.arguments(s.StationBody)
@blp.response(201, s.StationOut)
def create_station(body: dict[str, Any], region_id: str) -> Station:
    """Add a service station under a region in your subtree (an administrator)."""
    who = auth.require("administrator")
    session = get_session()
    access.check_region(session, who, region_id)
    return regions.create_station(session, region_id=region_id, name=body["name"], at=now())


@blp.route("/regions/<region_id>/organisations", methods=["GET"])
@blp.arguments(s.OrganisationQuery, location="query")
@blp.response(200, s.OrganisationPage)
def list_organisations(query: dict[str, Any], region_id: str) -> dict[str, Any]:
    """The volunteer teams and brands of a region (with `subtree`, also those below it)."""
    auth.require()
    session = get_session()
    region = regions.get_region(session, region_id)
    select = sa.select(Organisation).where(_subtree_or_here(Organisation.region_id, region, query["subtree"]))
    if query["kind"]:
        select = select.where(Organisation.kind == query["kind"])
    return _list(*page(session, select, Organisation.id, limit=query["limit"], cursor=query["cursor"]))


@blp.route("/regions/<region_id>/organisations", methods=["POST"])
@writes
@blp.arguments(s.OrganisationBody)
@blp.response(201, s.OrganisationOut)
def create_organisation(body: dict[str, Any], region_id: str) -> Organisation:
    """Add a volunteer team or brand under a region in your subtree (an administrator)."""
    who = auth.require("administrator")
    session = get_session()
    access.check_region(session, who, region_id)
    return regions.create_organisation(session, region_id=region_id, kind=body["kind"], name=body["name"],
                                       brand_id=body["brand_id"], at=now())


@blp.route("/organisations/<organisation_id>/status", methods=["POST"])
@writes
@blp.arguments(s.OrganisationStatusBody)
@blp.response(201, s.OrganisationStatusOut)
def set_organisation_status(body: dict[str, Any], organisation_id: str) -> dict[str, Any]:
    """Suspend, blacklist (失信黑名单) or reinstate an organisation under your subtree (an
    administrator); its activities then earn no records. Kept as history and in the ledger."""
    who = auth.require("administrator")
    session = get_session()
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or not regions.covers(who.region, regions.get_region(session, organisation.region_id)):  # type: ignore[arg-type]
        raise NotFound(f"no organisation {organisation_id!r}", field="organisation_id")
    change = people.set_status(session, writer(), subject_id=organisation.id, status=body["status"],
                               reason=body["reason"], by=who.subject_id or who.user_id, at=now())
    entry = session.get(journal.Entry, change.entry_id)
    return {"id": change.id, "subject_id": change.subject_id, "status": change.status, "by": change.by,
            "at": change.at, "receipt": entry.receipt() if entry else None}


# --- staff --------------------------------------------------------------------------------------

def _staff_json(staff: people.Staff) -> dict[str, Any]:
    return {"id": staff.id, "region_id": staff.region_id, "role": staff.role, "active": staff.active,
            "created_at": staff.created_at, "name": people.opened(sealer(), staff)["name"]}


@blp.route("/staff", methods=["POST"])
@writes
@blp.arguments(s.StaffBody)
@blp.response(201, s.StaffCreatedOut)
def create_staff(body: dict[str, Any]) -> people.Staff:
    """Add a coordinator or administrator for a region in your subtree (an administrator). The name
    is personal data: it is sealed, the change is logged, and it is not echoed back."""
    who = auth.require("administrator")
    session = get_session()
    access.check_region(session, who, body["region_id"])
    staff = people.register_staff(session, sealer(), region_id=body["region_id"], role=body["role"],
                                  name=body["name"], at=now())
    access.log_access(session, who, staff.id, ["name"], action="change")
    return staff


@blp.route("/staff/<staff_id>", methods=["GET"])
@commits
@blp.response(200, s.StaffOut)
def get_staff(staff_id: str) -> dict[str, Any]:
    """A staff member whose region your subtree covers (staff); the read of the name is logged."""
    who = auth.require(*auth.STAFF_ROLES)
    session = get_session()
    staff = session.get(people.Staff, staff_id)
    if staff is None or not regions.covers(who.region, regions.get_region(session, staff.region_id)):  # type: ignore[arg-type]
        raise NotFound(f"no staff member {staff_id!r}", field="staff_id")
    shown = _staff_json(staff)
    access.log_access(session, who, staff.id, ["name"])
    return shown


# --- the catalogue ------------------------------------------------------------------------------

def _item_json(item: catalogue.CatalogueItem, rules: policy.Policy | None) -> dict[str, Any]:
    """The item, at the weight `rules` set for it (without rules: the catalogue's own)."""
    return {**{name: getattr(item, name) for name in ("code", "region_id", "name_zh", "name_en", "category",
                                                      "price_minutes", "volunteer_eligible", "training_required",
                                                      "active")},
            "weight_pct": rules.weight(item.code, item.weight_pct) if rules else item.weight_pct,
            "weight_pct_own": item.weight_pct, "policy_version": rules.version if rules else None}


@blp.route("/catalogue", methods=["GET"])
@blp.arguments(s.CatalogueQuery, location="query")
@blp.response(200, s.CataloguePage)
def list_catalogue(query: dict[str, Any]) -> dict[str, Any]:
    """The care-service catalogue. With `region_id`: what that region sees (the national items and
    its ancestors' own), at the weights its policy sets."""
    auth.require()
    session = get_session()
    Item = catalogue.CatalogueItem  # noqa: N806
    select = sa.select(Item)
    rules = None
    if query["region_id"]:
        region = regions.get_region(session, query["region_id"])
        rules = policy.effective(session, region)
        # the rows catalogue.items_for gives, as a query that pages
        select = select.where(Item.active.is_(True),
                              sa.or_(Item.region_id.is_(None), Item.region_id.in_(region.ancestor_ids)))
    if query["category"]:
        select = select.where(Item.category == query["category"])
    rows, next_cursor = page(session, select, Item.code, limit=query["limit"], cursor=query["cursor"])
    return _list([_item_json(item, rules) for item in rows], next_cursor)


@blp.route("/catalogue", methods=["POST"])
@writes
@blp.arguments(s.CatalogueBody)
@blp.response(201, s.CatalogueItemOut)
def add_catalogue_item(body: dict[str, Any]) -> dict[str, Any]:
    """Add a region's own catalogue item, visible in its subtree (an administrator covering it)."""
    who = auth.require("administrator")
    session = get_session()
    access.check_region(session, who, body["region_id"])
    return _item_json(catalogue.add_item(session, at=now(), **body), None)


# --- policy -------------------------------------------------------------------------------------

@blp.route("/policy/knobs", methods=["GET"])
@blp.response(200, s.PolicyKnobList)
def list_knobs() -> dict[str, Any]:
    """Every policy knob: its default, the values it takes and what it means."""
    auth.require()
    return _list([{"name": name, "default": knob.default, "rule": knob.rule, "meaning": knob.meaning}
                  for name, knob in policy.KNOBS.items()], None)


@blp.route("/regions/<region_id>/policy", methods=["GET"])
@blp.response(200, s.PolicyOut)
def get_policy(region_id: str) -> dict[str, Any]:
    """The policy in force for a region under the newest version."""
    auth.require()
    session = get_session()
    rules = policy.effective(session, regions.get_region(session, region_id))
    return {"region_id": region_id, "version": rules.version, "values": dict(rules.values)}


def _version_json(session: Session, row: policy.PolicyVersion) -> dict[str, Any]:
    return {"version": row.version, "region_id": row.region_id, "values": row.values, "set_by": row.set_by,
            "at": row.at, "receipt": _receipt(session, row.entry_id)}


@blp.route("/regions/<region_id>/policy/history", methods=["GET"])
@blp.arguments(s.PageQuery, location="query")
@blp.response(200, s.PolicyHistoryPage)
def policy_history(query: dict[str, Any], region_id: str) -> dict[str, Any]:
    """The versions set on a region and its ancestors, newest first (staff covering it, auditors)."""
    who = auth.require(*SCOPED_READERS)
    session = get_session()
    region = access.check_region(session, who, region_id)
    Version = policy.PolicyVersion  # noqa: N806
    select = sa.select(Version).where(Version.region_id.in_(region.ancestor_ids))
    if query["cursor"]:
        try:
            select = select.where(Version.version < decode_int_cursor(query["cursor"]))
        except ValueError as exc:
            raise ValidationError({"cursor": ["not a cursor from a previous page; start without one"]}) from exc
    rows = list(session.scalars(select.order_by(Version.version.desc()).limit(query["limit"] + 1)))
    more, rows = len(rows) > query["limit"], rows[:query["limit"]]
    return _list([_version_json(session, row) for row in rows], encode_int_cursor(rows[-1].version) if more else None)


@blp.route("/regions/<region_id>/policy", methods=["POST"])
@writes
@blp.arguments(s.PolicyBody)
@blp.response(201, s.PolicyVersionOut)
def set_policy(body: dict[str, Any], region_id: str) -> dict[str, Any]:
    """Set knobs for a region's whole subtree (an administrator covering it): a new policy version
    and a `policy` entry in the bank covering the region, whose receipt is returned."""
    who = auth.require("administrator")
    session = get_session()
    access.check_region(session, who, region_id)
    for bank_id in body["changes"].get("accepted_banks") or []:  # the domain takes any id; only banks mean anything
        named = session.get(Region, bank_id)
        if named is None or not named.is_bank:
            raise InvalidInput(f"accepted_banks: {bank_id!r} is not a bank", field="accepted_banks")
    row = policy.set_policy(session, writer(), region_id=region_id, changes=body["changes"],
                            set_by=who.subject_id or "", at=now())
    return _version_json(session, row)


# --- statistics and settlement ------------------------------------------------------------------

def _period(query: dict[str, Any]) -> tuple[date, date, datetime, datetime]:
    """The days asked for (default: this month so far) and their bounds, midnight China time."""
    today = now().astimezone(CHINA).date()
    first, last = query["start"] or today.replace(day=1), query["end"] or today
    if last < first:
        raise ValidationError({"to": ["must not be before from (from defaults to the 1st of this month)"]})

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), CHINA).astimezone(timezone.utc)

    return first, last, midnight(first), midnight(last + timedelta(days=1))


@blp.route("/regions/<region_id>/stats", methods=["GET"])
@blp.arguments(s.PeriodQuery, location="query")
@blp.response(200, s.StatsOut)
def region_stats(query: dict[str, Any], region_id: str) -> dict[str, Any]:
    """Figures of a region's subtree for the days `from`–`to` (China time): counts and minutes only,
    no personal data (staff covering it, auditors)."""
    who = auth.require(*SCOPED_READERS)
    session = get_session()
    access.check_region(session, who, region_id)
    first, last, start, end = _period(query)
    figures = stats.region_statistics(session, region_id=region_id, start=start, end=end, at=now())
    visited, elders = figures.monthly_visit_rate
    return {**{name: getattr(figures, name) for name in s.StatsOut().fields if name not in ("start", "end",
                                                                                             "monthly_visit_rate")},
            "start": first, "end": last, "monthly_visit_rate": {"visited": visited, "elders": elders}}


@blp.route("/settlement", methods=["GET"])
@blp.arguments(s.SettlementQuery, location="query")
@blp.response(200, s.SettlementPositionPage)
def settlement_report(query: dict[str, Any]) -> dict[str, Any]:
    """What each pair of banks' members used in the other during the days `from`–`to`, netted, with
    the clearing balances to settle (auditors: every pair; an administrator: pairs with a bank in
    their subtree)."""
    who = auth.require("administrator", "auditor")
    session = get_session()
    _, _, start, end = _period(query)
    positions = interbank.settlement_report(session, start=start, end=end)
    if who.role == "administrator":
        banks = {bank.id: bank for bank in regions.list_banks(session)}
        positions = [p for p in positions if any(
            bank_id in banks and regions.covers(who.region, banks[bank_id])  # type: ignore[arg-type]
            for bank_id in (p.bank_a_id, p.bank_b_id))]
    keys = [f"{p.bank_a_id}/{p.bank_b_id}" for p in positions]
    begin = 0
    if query["cursor"]:
        after = decode_cursor(query["cursor"])
        if after not in keys:
            raise ValidationError({"cursor": ["not a cursor from a previous page; start without one"]})
        begin = keys.index(after) + 1
    shown = positions[begin:begin + query["limit"]]
    more = begin + query["limit"] < len(positions)
    items = [{**{name: getattr(p, name) for name in s.SettlementPositionOut().fields if name != "owes"},
              "owes": dict(zip(("debtor_bank_id", "creditor_bank_id", "minutes"), p.owes(), strict=True))
              if p.owes() else None} for p in shown]
    return _list(items, encode_cursor(keys[begin + len(shown) - 1]) if more else None)


@blp.route("/settlement", methods=["POST"])
@writes
@blp.arguments(s.SettlementBody)
@blp.response(201, s.SettlementOut)
def settle(body: dict[str, Any]) -> dict[str, Any]:
    """Record that two banks have settled off the ledger: both clearing balances are retired, with
    entries in both logs naming each other (an administrator covering one of the two banks)."""
    who = auth.require("administrator")
    session = get_session()
    for name in ("bank_a_id", "bank_b_id"):
        if session.get(Region, body[name]) is None:
            raise NotFound(f"no bank {body[name]!r}", field=name)
    done = interbank.settle(session, writer(), bank_a_id=body["bank_a_id"], bank_b_id=body["bank_b_id"],
                            settled_by=who.subject_id or "", at=now(),
                            idempotency_key=use_case_key())
    return {**{name: getattr(done, name) for name in ("id", "bank_a_id", "bank_b_id", "a_owed", "b_owed", "net",
                                                      "settled_by", "at")},
            "receipts": {"bank_a": _receipt(session, done.a_entry_id), "bank_b": _receipt(session, done.b_entry_id),
                         "link": _receipt(session, done.link_entry_id)}}
