"""Redemption at home: credit held, paid to the provider, returned on cancellation; every guard
refuses with nothing changed; retries with an idempotency key count once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from redemption_helpers import balance, check_books, credit, give, leaf, snapshot
from sqlalchemy.orm import Session
from world import World

from timebank import catalogue, people, policy, regions
from timebank.errors import Conflict, InsufficientCredit, InvalidInput, NotFound, NotPermitted, Refused
from timebank.people import Elder
from timebank.redemption import (
    cancel_redemption,
    complete_redemption,
    entries_of,
    redemptions_of,
    request_redemption,
)


@pytest.fixture(autouse=True)
def books_balance(session: Session) -> Iterator[None]:
    yield
    check_books(session)


def request(world: World, redeemer: Any, *, minutes: int = 60, code: str = "MEAL", by: str | None = None,
            region: regions.Region | None = None, **kw: Any) -> Any:
    return request_redemption(world.session, world.writer, redeemer_id=redeemer.id, catalogue_code=code,
                              minutes=minutes, region_id=(region or world.grid).id, requested_by=by or redeemer.id,
                              at=kw.pop("at", world.now), **kw)


def complete(world: World, redemption_id: str, **kw: Any) -> Any:
    kw.setdefault("completed_by", world.coordinator.id)
    return complete_redemption(world.session, world.writer, redemption_id=redemption_id,
                               at=kw.pop("at", world.now + timedelta(hours=2)), **kw)


def elder_with(world: World, minutes: int, **kw: Any) -> Elder:
    elder = world.elder(**kw)
    give(world, elder, minutes)
    return elder


def test_a_redemption_holds_credit_then_pays_the_volunteer_who_gives_the_service(world: World) -> None:
    s = world.session
    elder, provider = elder_with(world, 300), world.volunteer()
    redemption = request(world, elder)
    assert (redemption.status, redemption.credit_minutes, redemption.on_behalf_of) == ("requested", 60, None)
    assert credit(s, elder) == 240 and balance(s, world.haizhou, "escrow") == 60
    done = complete(world, redemption.id, provider_volunteer_id=provider.id)
    assert (done.status, done.provider_kind, done.provider_id) == ("completed", "volunteer", provider.id)
    assert credit(s, provider) == 60 and balance(s, world.haizhou, "escrow") == 0 and credit(s, elder) == 240
    hold, paid = entries_of(s, done)
    assert [leaf(s, e)["action"] for e in (hold, paid)] == ["hold", "complete"]
    assert hold.policy_version == policy.current_version(s) and done.away_entry_id is None
    assert redemptions_of(s, elder.id) == [done]


def test_a_service_given_by_a_station_is_paid_from_the_backstop(world: World) -> None:
    s = world.session
    elder = elder_with(world, 100)
    station = regions.create_station(s, region_id=world.community.id, name="朝阳社区日间照料中心", at=world.now)
    done = complete(world, request(world, elder, code="NURSING", minutes=30).id, station_id=station.id)
    assert (done.provider_kind, done.provider_id) == ("station", station.id)
    assert balance(s, world.haizhou, "backstop") == 30 and credit(s, elder) == 70


def test_clinical_nursing_cannot_be_paid_to_a_volunteer(world: World) -> None:
    elder, provider = elder_with(world, 100), world.volunteer()
    redemption = request(world, elder, code="NURSING", minutes=30)
    before = snapshot(world.session)
    with pytest.raises(Refused) as refused:
        complete(world, redemption.id, provider_volunteer_id=provider.id)
    assert refused.value.details["rule"] == "volunteer_eligible" and snapshot(world.session) == before


def test_the_price_is_the_serving_policys_weight_or_the_items_fixed_price(world: World) -> None:
    s = world.session
    elder = elder_with(world, 1000)
    assert request(world, elder, code="BATH", minutes=50).credit_minutes == 60  # 50 × 1.2
    policy.set_policy(s, world.writer, region_id=world.haizhou.id, changes={"weights": {"BATH": 150},
                      "rounding": "floor"}, set_by=world.admin.id, at=world.now)
    assert request(world, elder, code="BATH", minutes=45).credit_minutes == 67  # 45 × 1.5, floored
    catalogue.add_item(s, region_id=world.haizhou.id, code="HZ_HAIRCUT", name_zh="理发", name_en="Haircut",
                       category="daily_living", price_minutes=40, at=world.now)
    assert request(world, elder, code="HZ_HAIRCUT", minutes=25).credit_minutes == 40
    assert credit(s, elder) == 1000 - 60 - 67 - 40


def test_cancelling_returns_the_held_credit_and_cannot_be_undone(world: World) -> None:
    s = world.session
    elder, provider = elder_with(world, 100), world.volunteer()
    redemption = request(world, elder)
    cancelled = cancel_redemption(s, world.writer, redemption_id=redemption.id, cancelled_by=world.coordinator.id,
                                  at=world.now + timedelta(minutes=5))
    assert cancelled.status == "cancelled" and credit(s, elder) == 100 and balance(s, world.haizhou, "escrow") == 0
    before = snapshot(s)
    with pytest.raises(Conflict):
        cancel_redemption(s, world.writer, redemption_id=redemption.id, cancelled_by=elder.id, at=world.now)
    with pytest.raises(Conflict):
        complete(world, redemption.id, provider_volunteer_id=provider.id)
    assert snapshot(s) == before


def test_a_volunteer_redeems_their_own_credit_from_exactly_the_redemption_age(world: World) -> None:
    s = world.session
    sixty = world.volunteer(birth_date=date(1966, 11, 25))  # 60 on the day of `now` in China
    younger = world.volunteer(birth_date=date(1966, 11, 26))
    give(world, sixty, 100)
    give(world, younger, 100)
    before = snapshot(s)
    with pytest.raises(Refused) as refused:
        request(world, younger)
    assert refused.value.details["rule"] == "redemption_age" and snapshot(s) == before
    assert request(world, sixty).status == "requested" and credit(s, sixty) == 40


def test_a_relative_needs_the_right_to_redeem_for_an_elder(world: World) -> None:
    s = world.session
    elder, son = elder_with(world, 100), world.volunteer()
    daughter = people.add_relative(s, world.sealer, elder_id=elder.id, relation="child", name="刘女儿", at=world.now)
    people.add_relative(s, world.sealer, elder_id=elder.id, relation="child", name="刘儿子", at=world.now,
                        person_id=son.id, may_redeem=False)
    before = snapshot(s)
    for actor in (daughter.id, son.id, world.volunteer().id):
        with pytest.raises(NotPermitted):
            request(world, elder, by=actor)
    assert snapshot(s) == before
    proxy = people.add_relative(s, world.sealer, elder_id=elder.id, relation="spouse", name="刘爷爷", at=world.now,
                                may_redeem=True)
    redemption = request(world, elder, by=proxy.id)
    assert (redemption.requested_by, redemption.on_behalf_of) == (proxy.id, elder.id)
    by_staff = request(world, elder, by=world.coordinator.id, minutes=30)
    assert by_staff.on_behalf_of == elder.id and credit(s, elder) == 10


def test_redeeming_more_than_the_balance_is_refused_with_nothing_changed(world: World) -> None:
    elder = elder_with(world, 59)
    before = snapshot(world.session)
    with pytest.raises(InsufficientCredit):
        request(world, elder)
    assert snapshot(world.session) == before


def test_a_deceased_redeemer_and_unknown_items_are_refused(world: World) -> None:
    s = world.session
    elder = elder_with(world, 100)
    with pytest.raises(NotFound):
        request(world, elder, code="NO_SUCH")
    with pytest.raises(InvalidInput):
        request(world, elder, minutes=0)
    people.set_status(s, world.writer, subject_id=elder.id, status="deceased", by=world.coordinator.id, at=world.now)
    before = snapshot(s)
    with pytest.raises(Refused) as refused:
        request(world, elder)
    assert refused.value.details["rule"] == "status" and snapshot(s) == before


def test_completing_twice_is_refused(world: World) -> None:
    elder, provider = elder_with(world, 100), world.volunteer()
    redemption = request(world, elder)
    complete(world, redemption.id, provider_volunteer_id=provider.id)
    before = snapshot(world.session)
    with pytest.raises(Conflict):
        complete(world, redemption.id, provider_volunteer_id=provider.id)
    assert snapshot(world.session) == before


def test_the_redeemer_cannot_provide_their_own_service(world: World) -> None:
    redeemer = world.volunteer(birth_date=date(1950, 1, 1))
    give(world, redeemer, 100)
    redemption = request(world, redeemer)
    before = snapshot(world.session)
    with pytest.raises(Refused) as refused:
        complete(world, redemption.id, provider_volunteer_id=redeemer.id)
    assert refused.value.details["rule"] == "provider" and snapshot(world.session) == before


def test_completion_needs_staff_of_the_region_and_one_provider_of_the_serving_bank(world: World) -> None:
    elder = elder_with(world, 100)
    redemption = request(world, elder)
    before = snapshot(world.session)
    with pytest.raises(NotPermitted):
        complete(world, redemption.id, provider_volunteer_id=world.volunteer().id,
                 completed_by=world.suqian_coordinator.id)
    with pytest.raises(Refused):
        complete(world, redemption.id, provider_volunteer_id=world.volunteer(world.suqian_community).id)
    with pytest.raises(InvalidInput):
        complete(world, redemption.id)
    assert snapshot(world.session) == before


def test_a_retried_request_and_completion_move_credit_once(world: World) -> None:
    s = world.session
    elder, provider = elder_with(world, 200), world.volunteer()
    first = request(world, elder, idempotency_key="req-1")
    again = request(world, elder, idempotency_key="req-1", at=world.now + timedelta(seconds=30))
    assert again.id == first.id and credit(s, elder) == 140
    done = complete(world, first.id, provider_volunteer_id=provider.id, idempotency_key="done-1")
    before = snapshot(s)
    assert complete(world, first.id, provider_volunteer_id=provider.id, idempotency_key="done-1") is done
    assert snapshot(s) == before and credit(s, provider) == 60


def test_the_same_key_for_a_different_request_is_a_conflict(world: World) -> None:
    elder = elder_with(world, 200)
    request(world, elder, idempotency_key="req-2")
    before = snapshot(world.session)
    with pytest.raises(Conflict):
        request(world, elder, minutes=30, idempotency_key="req-2")
    assert snapshot(world.session) == before
