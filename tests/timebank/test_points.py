"""Points spent on goods (never on care), and the expiry of unspent credit, oldest first, by policy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from redemption_helpers import balance, check_books, credit, give, leaf, snapshot
from sqlalchemy.orm import Session
from world import World

from timebank import journal, policy
from timebank.errors import Conflict, InsufficientCredit, InvalidInput
from timebank.gifts import give_credit
from timebank.points import expire_credit, point_balance, spend_points
from timebank.redemption import request_redemption


@pytest.fixture(autouse=True)
def books_balance(session: Session) -> Iterator[None]:
    yield
    check_books(session)


def test_points_are_spent_on_goods_and_the_leaf_keeps_only_a_commitment_to_the_item(world: World) -> None:
    s = world.session
    volunteer = world.volunteer()
    give(world, volunteer, 10, unit="point")
    spend = spend_points(s, world.writer, volunteer_id=volunteer.id, points=3, shop="love_market", item="大米 5kg",
                         at=world.now, idempotency_key="shop-1")
    again = spend_points(s, world.writer, volunteer_id=volunteer.id, points=3, shop="love_market", item="大米 5kg",
                         at=world.now, idempotency_key="shop-1")
    assert again.id == spend.id and point_balance(s, volunteer.id) == 7
    assert balance(s, world.haizhou, "goods", unit="point") == 3
    public = leaf(s, s.get_one(journal.Entry, spend.entry_id))
    assert (public["type"], public["shop"], public["points"]) == ("points", "love_market", 3)
    assert "大米" not in str(public) and journal.check_commitment(spend.item_salt, public["item_commitment"], "大米 5kg")
    with pytest.raises(Conflict):
        spend_points(s, world.writer, volunteer_id=volunteer.id, points=4, shop="love_market", item="大米 5kg",
                     at=world.now, idempotency_key="shop-1")


def test_spending_more_points_than_held_or_at_an_unknown_shop_is_refused(world: World) -> None:
    s = world.session
    volunteer = world.volunteer()
    give(world, volunteer, 5, unit="point")
    give(world, volunteer, 500)  # credit is another unit: it does not pay for goods
    before = snapshot(s)
    with pytest.raises(InsufficientCredit):
        spend_points(s, world.writer, volunteer_id=volunteer.id, points=6, shop="micro_wish", item="书包", at=world.now)
    with pytest.raises(InvalidInput):
        spend_points(s, world.writer, volunteer_id=volunteer.id, points=1, shop="casino", item="书包", at=world.now)
    with pytest.raises(InvalidInput):
        spend_points(s, world.writer, volunteer_id=volunteer.id, points=1, shop="micro_wish", item="x" * 101,
                     at=world.now)
    assert snapshot(s) == before


def test_points_never_pay_for_care(world: World) -> None:
    s = world.session
    elder = world.elder()
    give(world, elder, 1000, unit="point")
    before = snapshot(s)
    with pytest.raises(InsufficientCredit):
        request_redemption(s, world.writer, redeemer_id=elder.id, catalogue_code="MEAL", minutes=30,
                           region_id=world.grid.id, requested_by=elder.id, at=world.now)
    assert snapshot(s) == before


def test_credit_never_expires_by_default(world: World) -> None:
    s = world.session
    volunteer = world.volunteer()
    give(world, volunteer, 100, at=world.now - timedelta(days=3650))
    before = snapshot(s)
    result = expire_credit(s, world.writer, bank_id=world.haizhou.id, by=world.admin.id, at=world.now)
    assert result.expired == {} and result.entries == [] and snapshot(s) == before


def test_expiry_takes_the_oldest_unspent_credit_first(world: World) -> None:
    s = world.session
    volunteer, mother, other = world.volunteer(), world.elder(), world.volunteer(world.suqian_community)
    give(world, volunteer, 100, at=world.now - timedelta(days=400))
    give(world, volunteer, 50, at=world.now - timedelta(days=100))
    give(world, other, 100, at=world.now - timedelta(days=400))  # another bank, another policy
    give_credit(s, world.writer, giver_id=volunteer.id, recipient_id=mother.id, minutes=30, relation="parent",
                at=world.now - timedelta(days=50))
    policy.set_policy(s, world.writer, region_id=world.haizhou.id, changes={"expiry_days": 365},
                      set_by=world.admin.id, at=world.now)

    first = expire_credit(s, world.writer, bank_id=world.haizhou.id, by=world.admin.id, at=world.now)
    assert first.expired == {volunteer.id: 70}  # 100 received before the cutoff, 30 of it given away
    assert credit(s, volunteer) == 50 and balance(s, world.haizhou, "pool") == 70 and credit(s, mother) == 30
    (entry,) = first.entries
    assert entry.type == "expiry" and entry.policy_version == policy.current_version(s)
    assert leaf(s, entry)["expiry_days"] == 365

    before = snapshot(s)
    assert expire_credit(s, world.writer, bank_id=world.haizhou.id, by=world.admin.id, at=world.now).expired == {}
    assert snapshot(s) == before

    # cutoff 45 days before `now`: the mother's gift (50 days before) has expired too
    later = expire_credit(s, world.writer, bank_id=world.haizhou.id, by=world.admin.id, at=world.now + timedelta(days=320))
    assert later.expired == {volunteer.id: 50, mother.id: 30}
    assert credit(s, volunteer) == 0 and balance(s, world.haizhou, "pool") == 150
    assert expire_credit(s, world.writer, bank_id=world.suqian.id, by=world.province_admin.id, at=world.now).expired == {}
    assert credit(s, other) == 100
