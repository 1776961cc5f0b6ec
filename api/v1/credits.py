"""Balances and history, redemptions, gifts, estates, points and expiry."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from timebank import accounts, gifts, journal, people, points, redemption, regions
from timebank.accounts import Account
from timebank.errors import NotFound
from timebank.people import Elder, Volunteer
from timebank.redemption import Redemption

from .. import access, auth
from ..db import get_session
from ..paging import page
from ..paging import decode_int_cursor, encode_int_cursor
from ..transact import commits, use_case_key, writes
from .common import now, writer
from .credits_schemas import (
    CreditExpiryOut,
    DateRange,
    EstateOut,
    GiftBody,
    GiftOut,
    GiftPage,
    PersonBalanceOut,
    PointSpendBody,
    PointSpendOut,
    PostingHistoryPage,
    PostingHistoryQuery,
    RedemptionBody,
    RedemptionCompleteBody,
    RedemptionOut,
    RedemptionPage,
    RedemptionQuery,
    time_bounds,
)

blp = Blueprint("credits", __name__, url_prefix="/api/v1",
                description="Balances and history, redemptions, gifts, estates, points and expiry.")

STAFF = auth.STAFF_ROLES
PEOPLE = ("volunteer", "elder")


def _key() -> str | None:
    return use_case_key()


def _receipt(session: Session, entry_id: str | None) -> dict[str, Any] | None:
    entry = session.get(journal.Entry, entry_id) if entry_id else None
    return entry.receipt() if entry is not None else None


def _covers(session: Session, who: auth.Caller, region_id: str) -> bool:
    return who.is_staff and regions.covers(who.region, regions.get_region(session, region_id))  # type: ignore[arg-type]


# --- balances and history -----------------------------------------------------------------------

@blp.route("/people/<person_id>/balance", methods=["GET"])
@blp.response(200, PersonBalanceOut)
def balance(person_id: str) -> dict[str, Any]:
    """A person's credit (minutes) and points, per bank: the person, their proxy, staff covering
    them, or the school of a linked student."""
    who = auth.require()
    session = get_session()
    person = access.check_person(session, who, person_id)
    banks: dict[str, dict[str, Any]] = {}
    for acc in session.scalars(sa.select(Account).where(Account.kind == "person", Account.owner_id == person.id)
                               .order_by(Account.bank_id)):
        row = banks.setdefault(acc.bank_id, {"bank_id": acc.bank_id, "credit_minutes": 0, "points": 0})
        row["credit_minutes" if acc.unit == "credit" else "points"] += acc.balance
    held = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Redemption.credit_minutes), 0)).where(
        Redemption.redeemer_id == person.id, Redemption.status == "requested"))
    return {"person_id": person.id, "credit_minutes": sum(b["credit_minutes"] for b in banks.values()),
            "points": sum(b["points"] for b in banks.values()), "held_minutes": int(held or 0),
            "banks": list(banks.values())}


@blp.route("/people/<person_id>/history", methods=["GET"])
@blp.arguments(PostingHistoryQuery, location="query")
@blp.response(200, PostingHistoryPage)
def history(query: dict[str, Any], person_id: str) -> dict[str, Any]:
    """A person's postings, newest first, each with its entry type and ledger receipt (same scope
    as the balance). The cursor is the last posting of the page."""
    who = auth.require()
    session = get_session()
    person = access.check_person(session, who, person_id)
    lo, hi = time_bounds(query)
    limit = query["limit"]
    rows = accounts.person_history(session, person.id, unit=query["unit"] or None,
                                   before=decode_int_cursor(query["cursor"]), since=lo, until=hi, limit=limit + 1)
    items = [{"posting_id": posting.id, "at": posting.at, "bank_id": acc.bank_id, "unit": acc.unit,
              "amount": posting.amount, "entry_type": entry.type, "subject_id": entry.subject_id,
              "receipt": entry.receipt()} for posting, acc, entry in rows[:limit]]
    more = len(rows) > limit
    return {"items": items, "next": encode_int_cursor(items[-1]["posting_id"]) if more else None}


# --- redemptions --------------------------------------------------------------------------------

def _may_see_redemption(session: Session, who: auth.Caller, found: Redemption) -> bool:
    if who.subject_id and who.subject_id in (found.redeemer_id, found.provider_id, found.requested_by):
        return True
    if who.role == "proxy":
        return access.proxied_elder(session, who) == found.redeemer_id
    if who.is_staff:
        redeemer = people.person(session, found.redeemer_id)
        return _covers(session, who, found.region_id) or _covers(session, who, redeemer.region_id)
    return False


def _visible_redemption(session: Session, who: auth.Caller, redemption_id: str) -> Redemption:
    """The redemption, if the caller may see it. Raises NotFound."""
    found = session.get(Redemption, redemption_id)
    if found is None or not _may_see_redemption(session, who, found):
        raise NotFound(f"no redemption {redemption_id!r}", field="redemption_id")
    return found


def _redemption_json(session: Session, found: Redemption) -> dict[str, Any]:
    receipts = {"hold": _receipt(session, found.hold_entry_id), "release": _receipt(session, found.release_entry_id),
                "away": _receipt(session, found.away_entry_id), "link": _receipt(session, found.link_entry_id)}
    return {**{name: getattr(found, name) for name in RedemptionOut().fields if name != "receipts"},
            "receipts": receipts}


@blp.route("/redemptions", methods=["POST"])
@writes
@blp.arguments(RedemptionBody)
@blp.response(201, RedemptionOut)
def request_redemption(body: dict[str, Any]) -> dict[str, Any]:
    """Redeem credit for a catalogue service and hold it: an elder or a volunteer (of redemption
    age) for themself, a proxy for their elder, or staff covering the service's region or the
    redeemer. Send an Idempotency-Key to retry safely."""
    who = auth.require("volunteer", "elder", "proxy", *STAFF)
    session = get_session()
    region = regions.get_region(session, body["region_id"])
    if who.is_staff:
        try:
            redeemer = people.person(session, body["redeemer_id"])
        except NotFound:
            redeemer = None
        if redeemer is None or not (regions.covers(who.region, region)  # type: ignore[arg-type]
                                    or _covers(session, who, redeemer.region_id)):
            raise NotFound(f"no person {body['redeemer_id']!r}", field="redeemer_id")
    else:
        access.check_person(session, who, body["redeemer_id"])
    found = redemption.request_redemption(
        session, writer(), redeemer_id=body["redeemer_id"], catalogue_code=body["catalogue_code"],
        minutes=body["minutes"], region_id=region.id, requested_by=who.subject_id or who.user_id, at=now(),
        idempotency_key=_key())
    return _redemption_json(session, found)


@blp.route("/redemptions", methods=["GET"])
@blp.arguments(RedemptionQuery, location="query")
@blp.response(200, RedemptionPage)
def list_redemptions(query: dict[str, Any]) -> dict[str, Any]:
    """Redemptions: your own, your elder's (a proxy), or those in or of people in your subtree (staff)."""
    who = auth.require("volunteer", "elder", "proxy", *STAFF)
    session = get_session()
    select = sa.select(Redemption)
    if who.is_staff:
        scope = who.region
        assert scope is not None
        select = select.where(sa.or_(
            regions.in_subtree(Redemption.region_id, scope),
            Redemption.redeemer_id.in_(sa.select(Volunteer.id).where(regions.in_subtree(Volunteer.region_id, scope))),
            Redemption.redeemer_id.in_(sa.select(Elder.id).where(regions.in_subtree(Elder.region_id, scope)))))
    else:
        own = access.proxied_elder(session, who) if who.role == "proxy" else who.subject_id
        select = select.where(Redemption.redeemer_id == (own or ""))
    if query["status"]:
        select = select.where(Redemption.status == query["status"])
    if query["redeemer_id"]:
        select = select.where(Redemption.redeemer_id == query["redeemer_id"])
    if query["region_id"]:
        select = select.where(regions.in_subtree(Redemption.region_id,
                                                 regions.get_region(session, query["region_id"])))
    lo, hi = time_bounds(query)
    if lo is not None:
        select = select.where(Redemption.requested_at >= lo)
    if hi is not None:
        select = select.where(Redemption.requested_at < hi)
    rows, cursor = page(session, select, Redemption.id, limit=query["limit"], cursor=query["cursor"])
    return {"items": [_redemption_json(session, r) for r in rows], "next": cursor}


@blp.route("/redemptions/<redemption_id>", methods=["GET"])
@blp.response(200, RedemptionOut)
def get_redemption(redemption_id: str) -> dict[str, Any]:
    """One redemption with its ledger receipts (the redeemer, their proxy, the provider, staff in scope)."""
    who = auth.require()
    session = get_session()
    return _redemption_json(session, _visible_redemption(session, who, redemption_id))


@blp.route("/redemptions/<redemption_id>/complete", methods=["POST"])
@writes
@blp.arguments(RedemptionCompleteBody)
@blp.response(200, RedemptionOut)
def complete_redemption(body: dict[str, Any], redemption_id: str) -> dict[str, Any]:
    """The service was given: pay the held credit to the volunteer who gave it, or to the bank's
    backstop for a station (staff covering the service's region). Away from home the receipts name
    both banks' entries."""
    who = auth.require(*STAFF)
    session = get_session()
    _visible_redemption(session, who, redemption_id)
    found = redemption.complete_redemption(
        session, writer(), redemption_id=redemption_id, completed_by=who.subject_id or "", at=now(),
        provider_volunteer_id=body["provider_volunteer_id"], station_id=body["station_id"], idempotency_key=_key())
    return _redemption_json(session, found)


@blp.route("/redemptions/<redemption_id>/cancel", methods=["POST"])
@writes
@blp.response(200, RedemptionOut)
def cancel_redemption(redemption_id: str) -> dict[str, Any]:
    """Cancel a requested redemption and return the held credit (the redeemer, their proxy, or staff)."""
    who = auth.require("volunteer", "elder", "proxy", *STAFF)
    session = get_session()
    _visible_redemption(session, who, redemption_id)
    found = redemption.cancel_redemption(session, writer(), redemption_id=redemption_id,
                                         cancelled_by=who.subject_id or "", at=now(), idempotency_key=_key())
    return _redemption_json(session, found)


# --- gifts and estates --------------------------------------------------------------------------

def _gift_json(session: Session, gift: gifts.Gift) -> dict[str, Any]:
    receipts = {"entry": _receipt(session, gift.entry_id), "away": _receipt(session, gift.away_entry_id),
                "link": _receipt(session, gift.link_entry_id)}
    return {**{name: getattr(gift, name) for name in GiftOut().fields if name != "receipts"}, "receipts": receipts}


@blp.route("/gifts", methods=["POST"])
@writes
@blp.arguments(GiftBody)
@blp.response(201, GiftOut)
def give(body: dict[str, Any]) -> dict[str, Any]:
    """Give your own credit to a relative (or a friend, where policy allows); `relation` is what
    the recipient is to you. Send an Idempotency-Key to retry safely."""
    who = auth.require(*PEOPLE)
    session = get_session()
    gift = gifts.give_credit(session, writer(), giver_id=who.subject_id or "", recipient_id=body["recipient_id"],
                             minutes=body["minutes"], relation=body["relation"], at=now(), idempotency_key=_key())
    access.log_access(session, who, gift.giver_id, ["relation"], action="change")
    return _gift_json(session, gift)


@blp.route("/people/<person_id>/gifts", methods=["GET"])
@commits
@blp.arguments(DateRange, location="query")
@blp.response(200, GiftPage)
def gifts_of(query: dict[str, Any], person_id: str) -> dict[str, Any]:
    """Gifts a person gave or received (the person, staff covering them); the relation is personal data."""
    who = auth.require(*PEOPLE, *STAFF)
    session = get_session()
    person = access.check_person(session, who, person_id)
    select = sa.select(gifts.Gift).where(sa.or_(gifts.Gift.giver_id == person.id, gifts.Gift.recipient_id == person.id))
    lo, hi = time_bounds(query)
    if lo is not None:
        select = select.where(gifts.Gift.at >= lo)
    if hi is not None:
        select = select.where(gifts.Gift.at < hi)
    rows, cursor = page(session, select, gifts.Gift.id, limit=query["limit"], cursor=query["cursor"])
    if rows and access.sees_personal_data(session, who, person):
        access.log_access(session, who, person.id, ["relation"])
    return {"items": [_gift_json(session, g) for g in rows], "next": cursor}


@blp.route("/people/<person_id>/estate", methods=["POST"])
@writes
@blp.response(201, EstateOut)
def settle_estate(person_id: str) -> dict[str, Any]:
    """Pass a deceased person's credit to their heir, or back to the bank's pool (a coordinator or
    administrator covering them)."""
    who = auth.require(*STAFF)
    session = get_session()
    person = access.check_person(session, who, person_id)
    estate = gifts.settle_estate(session, writer(), person_id=person.id, settled_by=who.subject_id or "", at=now(),
                                 idempotency_key=_key())
    return {**{name: getattr(estate, name) for name in EstateOut().fields if name != "receipts"},
            "receipts": [_receipt(session, entry_id) for entry_id in estate.entry_ids]}


# --- points and expiry --------------------------------------------------------------------------

@blp.route("/points/spend", methods=["POST"])
@writes
@blp.arguments(PointSpendBody)
@blp.response(201, PointSpendOut)
def spend_points(body: dict[str, Any]) -> dict[str, Any]:
    """Spend a volunteer's points on goods at a 党员超市, 爱心超市 or for a 微心愿: the volunteer,
    or staff covering them at the shop counter. Send an Idempotency-Key to retry safely."""
    who = auth.require("volunteer", *STAFF)
    session = get_session()
    volunteer = access.check_person(session, who, body["volunteer_id"])
    if not isinstance(volunteer, Volunteer):
        raise NotFound(f"no volunteer {body['volunteer_id']!r}", field="volunteer_id")
    spend = points.spend_points(session, writer(), volunteer_id=volunteer.id, points=body["points"],
                                shop=body["shop"], item=body["item"], at=now(), idempotency_key=_key())
    return {**{name: getattr(spend, name) for name in PointSpendOut().fields if name != "receipt"},
            "receipt": _receipt(session, spend.entry_id)}


@blp.route("/banks/<bank_id>/expire", methods=["POST"])
@writes
@blp.response(200, CreditExpiryOut)
def expire(bank_id: str) -> dict[str, Any]:
    """Move credit older than the policy's `expiry_days` to the bank's pool (an administrator
    covering the bank). With the default policy (no expiry) it moves nothing; running it again
    moves nothing more."""
    who = auth.require("administrator")
    session = get_session()
    bank = access.check_region(session, who, bank_id)
    result = points.expire_credit(session, writer(), bank_id=bank.id, by=who.subject_id or "", at=now())
    by_person = {entry.subject_id: entry for entry in result.entries}
    expired = [{"person_id": person_id, "credit_minutes": minutes, "receipt": by_person[person_id].receipt()}
               for person_id, minutes in sorted(result.expired.items())]
    return {"bank_id": bank.id, "at": result.at, "total_minutes": sum(result.expired.values()), "expired": expired}
