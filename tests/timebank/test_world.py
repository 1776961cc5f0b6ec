"""The test network itself: banks found from any region, policy inherited down the tree."""

from __future__ import annotations

from world import World

from timebank import policy
from timebank.regions import bank_of


def test_every_region_finds_its_nearest_bank(world: World) -> None:
    assert bank_of(world.session, world.grid).id == world.haizhou.id
    assert bank_of(world.session, world.sucheng).id == world.suqian.id
    assert bank_of(world.session, world.lyg).id == world.lyg.id


def test_policy_set_on_a_city_reaches_a_grid_and_a_district_override_wins(world: World) -> None:
    s = world.session
    policy.set_policy(s, world.writer, region_id=world.lyg.id, changes={"daily_cap_minutes": 300}, set_by="x",
                      at=world.now)
    assert policy.effective(s, world.grid).daily_cap_minutes == 300
    v2 = policy.set_policy(s, world.writer, region_id=world.haizhou.id, changes={"daily_cap_minutes": 240},
                           set_by="x", at=world.now)
    assert policy.effective(s, world.grid).daily_cap_minutes == 240
    assert policy.effective(s, world.suqian_community).daily_cap_minutes == 480
    assert policy.effective(s, world.grid, version=v2.version - 1).daily_cap_minutes == 300
