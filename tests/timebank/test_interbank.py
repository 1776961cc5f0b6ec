"""通存通兑 across three banks: pairs of entries naming each other's leaves, policy scope, the
settlement report over a period and the settlement that zeroes the clearing balances."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from redemption_helpers import balance, check_books, check_names, credit, give, leaf, snapshot
from sqlalchemy.orm import Session
from world import World

from timebank import journal, people, policy, regions
from timebank.errors import Conflict, NotPermitted, Refused
from timebank.interbank import Position, settle, settlement_report
from timebank.redemption import complete_redemption, request_redemption


@pytest.fixture(autouse=True)
def books_balance(session: Session) -> Iterator[None]:
    yield
    check_books(session)


def redeem_away(world: World, redeemer: Any, region: regions.Region, completed_by: str, at: datetime,
                minutes: int = 60, **provider: str) -> Any:
    """Request and complete a service in `region` for `redeemer`."""
    s = world.session
    redemption = request_redemption(s, world.writer, redeemer_id=redeemer.id, catalogue_code="MEAL", minutes=minutes,
                                    region_id=region.id, requested_by=redeemer.id, at=at)
    return complete_redemption(s, world.writer, redemption_id=redemption.id, completed_by=completed_by,
                               at=at + timedelta(hours=1), **provider)


def administrator(world: World, region: regions.Region) -> str:
    return people.register_staff(world.session, world.sealer, region_id=region.id, role="administrator",
                                 name="省管理", at=world.now).id


def entry(session: Session, entry_id: str | None) -> journal.Entry:
    assert entry_id is not None
    return session.get_one(journal.Entry, entry_id)


def test_redeeming_away_writes_an_entry_in_each_log_naming_the_others_leaf(world: World) -> None:
    s = world.session
    lyg_elder = world.elder(world.lyg)
    suqian_volunteer = world.volunteer(world.suqian_community, birth_date=date(1955, 4, 1))
    give(world, lyg_elder, 200)
    give(world, suqian_volunteer, 100)
    provider = world.volunteer(world.suqian_community)
    away = redeem_away(world, lyg_elder, world.suqian_community, world.suqian_coordinator.id, world.now,
                       provider_volunteer_id=provider.id)
    station = regions.create_station(s, region_id=world.street.id, name="新南街道站", at=world.now)
    back = redeem_away(world, suqian_volunteer, world.grid, world.coordinator.id, world.now, minutes=30,
                       station_id=station.id)

    for redemption, home, serving in ((away, world.lyg, world.suqian), (back, world.suqian, world.haizhou)):
        released, away_entry = entry(s, redemption.release_entry_id), entry(s, redemption.away_entry_id)
        link = entry(s, redemption.link_entry_id)
        assert (released.log_id, away_entry.log_id, link.log_id) == (home.log_id, serving.log_id, home.log_id)
        assert away_entry.type == "away" and link.type == "link" and link.seq == released.seq + 1
        check_names(s, leaf(s, away_entry)["counterpart"], released)
        check_names(s, leaf(s, link)["counterpart"], away_entry)
        check_names(s, leaf(s, link)["of"], released)
        assert leaf(s, released)["to_bank"] == serving.id and leaf(s, away_entry)["from_bank"] == home.id

    assert credit(s, provider) == 60 and credit(s, lyg_elder) == 140 and credit(s, suqian_volunteer) == 70
    assert balance(s, world.lyg, "clearing", world.suqian.id) == 60
    assert balance(s, world.suqian, "clearing", world.haizhou.id) == 30
    assert balance(s, world.haizhou, "backstop") == 30 and balance(s, world.haizhou, "issuance") == -30
    assert balance(s, world.lyg, "escrow") == balance(s, world.suqian, "escrow") == 0


def test_a_bank_whose_policy_excludes_the_other_refuses(world: World) -> None:
    s = world.session
    lyg_elder, suqian_elder = world.elder(world.lyg), world.elder(world.suqian_community)
    give(world, lyg_elder, 100)
    give(world, suqian_elder, 100)
    policy.set_policy(s, world.writer, region_id=world.suqian.id, changes={"accepted_banks": [world.haizhou.id]},
                      set_by=world.province_admin.id, at=world.now)
    before = snapshot(s)
    for redeemer, region in ((lyg_elder, world.suqian_community), (suqian_elder, world.lyg)):
        with pytest.raises(Refused) as refused:
            request_redemption(s, world.writer, redeemer_id=redeemer.id, catalogue_code="MEAL", minutes=30,
                               region_id=region.id, requested_by=redeemer.id, at=world.now)
        assert refused.value.details["rule"] == "accepted_banks"
    assert snapshot(s) == before
    haizhou_elder = world.elder()
    give(world, haizhou_elder, 100)
    assert request_redemption(s, world.writer, redeemer_id=haizhou_elder.id, catalogue_code="MEAL", minutes=30,
                              region_id=world.suqian_community.id, requested_by=haizhou_elder.id,
                              at=world.now).status == "requested"


def oriented(report: list[Position], a: regions.Region, b: regions.Region) -> dict[str, Any]:
    """The position of banks a and b, seen from a."""
    (found,) = [p for p in report if {p.bank_a_id, p.bank_b_id} == {a.id, b.id}]
    flip = found.bank_a_id != a.id

    def pick(x: Any, y: Any) -> Any:
        return y if flip else x

    return {
        "a_to_b": pick(found.a_to_b, found.b_to_a), "b_to_a": pick(found.b_to_a, found.a_to_b),
        "a_settled": pick(found.a_settled, found.b_settled), "b_settled": pick(found.b_settled, found.a_settled),
        "a_opening": pick(found.a_owes_b_opening, found.b_owes_a_opening),
        "a_closing": pick(found.a_owes_b_closing, found.b_owes_a_closing),
        "b_opening": pick(found.b_owes_a_opening, found.a_owes_b_opening),
        "b_closing": pick(found.b_owes_a_closing, found.a_owes_b_closing),
        "owes": found.owes(), "reconciled": found.reconciled,
    }


def test_the_settlement_report_nets_positions_over_a_period_and_settling_zeroes_them(world: World) -> None:
    s = world.session
    lyg_elder, suqian_elder = world.elder(world.lyg), world.elder(world.suqian_community)
    give(world, lyg_elder, 1000)
    give(world, suqian_elder, 1000)
    lyg_helper, suqian_helper = world.volunteer(world.lyg), world.volunteer(world.suqian_community)
    start, end = world.now + timedelta(days=10), world.now + timedelta(days=20)

    def in_suqian(at: datetime, minutes: int) -> None:
        redeem_away(world, lyg_elder, world.suqian_community, world.suqian_coordinator.id, at, minutes,
                    provider_volunteer_id=suqian_helper.id)

    in_suqian(world.now + timedelta(days=1), 45)  # before the period
    in_suqian(start + timedelta(days=1), 60)
    in_suqian(start + timedelta(days=2), 90)
    redeem_away(world, suqian_elder, world.lyg, administrator(world, world.lyg), start + timedelta(days=3), 40,
                provider_volunteer_id=lyg_helper.id)
    in_suqian(end + timedelta(days=1), 15)  # after it

    position = oriented(settlement_report(s, start=start, end=end), world.lyg, world.suqian)
    assert position == {"a_to_b": 150, "b_to_a": 40, "a_settled": 0, "b_settled": 0, "a_opening": 45,
                        "a_closing": 195, "b_opening": 0, "b_closing": 40,
                        "owes": (world.lyg.id, world.suqian.id, 110), "reconciled": True}
    everything = oriented(settlement_report(s, start=world.now, end=end + timedelta(days=5)), world.lyg, world.suqian)
    assert everything["a_closing"] == balance(s, world.lyg, "clearing", world.suqian.id) == 210
    assert everything["b_closing"] == balance(s, world.suqian, "clearing", world.lyg.id) == 40

    settled_at = end + timedelta(days=3)
    province_admin = administrator(world, world.province)
    settlement = settle(s, world.writer, bank_a_id=world.suqian.id, bank_b_id=world.lyg.id, settled_by=province_admin,
                        at=settled_at)
    assert (settlement.a_owed, settlement.b_owed, settlement.net) == (40, 210, -170)
    assert balance(s, world.lyg, "clearing", world.suqian.id) == balance(s, world.suqian, "clearing", world.lyg.id) == 0
    after = oriented(settlement_report(s, start=end, end=settled_at + timedelta(days=1)), world.lyg, world.suqian)
    assert (after["a_to_b"], after["a_settled"], after["b_settled"], after["a_closing"], after["b_closing"]) == (
        15, 210, 40, 0, 0)

    first, second, link = (entry(s, i) for i in (settlement.a_entry_id, settlement.b_entry_id,
                                                  settlement.link_entry_id))
    assert (first.log_id, second.log_id, link.log_id) == ("suqian", "lyg", "suqian")
    check_names(s, leaf(s, second)["counterpart"], first)
    check_names(s, leaf(s, link)["counterpart"], second)
    assert leaf(s, first)["net"] == -170 and leaf(s, second)["net"] == 170

    before = snapshot(s)
    with pytest.raises(Conflict):
        settle(s, world.writer, bank_a_id=world.lyg.id, bank_b_id=world.suqian.id, settled_by=province_admin,
               at=settled_at)
    assert snapshot(s) == before


def test_settling_needs_an_administrator_of_one_of_the_banks(world: World) -> None:
    s = world.session
    elder = world.elder(world.lyg)
    give(world, elder, 100)
    redeem_away(world, elder, world.suqian_community, world.suqian_coordinator.id, world.now,
                provider_volunteer_id=world.volunteer(world.suqian_community).id)
    before = snapshot(s)
    for staff in (world.suqian_coordinator.id, world.admin.id):  # a coordinator; haizhou's administrator
        with pytest.raises(NotPermitted):
            settle(s, world.writer, bank_a_id=world.lyg.id, bank_b_id=world.suqian.id, settled_by=staff,
                   at=world.now + timedelta(days=1))
    assert snapshot(s) == before
    by = administrator(world, world.suqian)
    first = settle(s, world.writer, bank_a_id=world.lyg.id, bank_b_id=world.suqian.id, settled_by=by,
                   at=world.now + timedelta(days=1), idempotency_key="settle-1")
    again = settle(s, world.writer, bank_a_id=world.lyg.id, bank_b_id=world.suqian.id, settled_by=by,
                   at=world.now + timedelta(days=1), idempotency_key="settle-1")
    assert again.id == first.id and (first.a_owed, first.b_owed, first.net) == (60, 0, 60)
    assert leaf(s, entry(s, first.b_entry_id))["postings"] == []
