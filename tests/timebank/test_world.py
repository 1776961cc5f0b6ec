"""The test network itself: banks found from any region, policy inherited down the tree."""

from __future__ import annotations

import pytest
from world import World

from timebank.errors import InvalidInput, NotPermitted

from timebank import policy
from timebank.regions import bank_of


def test_every_region_finds_its_nearest_bank(world: World) -> None:
    assert bank_of(world.session, world.grid).id == world.haizhou.id
    assert bank_of(world.session, world.sucheng).id == world.suqian.id
    assert bank_of(world.session, world.lyg).id == world.lyg.id


def test_policy_set_on_a_city_reaches_a_grid_and_a_district_override_wins(world: World) -> None:
    s = world.session
    policy.set_policy(s, world.writer, region_id=world.lyg.id, changes={"daily_cap_minutes": 300}, set_by=world.province_admin.id,
                      at=world.now)
    assert policy.effective(s, world.grid).daily_cap_minutes == 300
    v2 = policy.set_policy(s, world.writer, region_id=world.haizhou.id, changes={"daily_cap_minutes": 240},
                           set_by=world.province_admin.id, at=world.now)
    assert policy.effective(s, world.grid).daily_cap_minutes == 240
    assert policy.effective(s, world.suqian_community).daily_cap_minutes == 480
    assert policy.effective(s, world.grid, version=v2.version - 1).daily_cap_minutes == 300


def test_weights_merge_item_by_item_down_the_tree(world: World) -> None:
    s = world.session
    policy.set_policy(s, world.writer, region_id=world.lyg.id, changes={"weights": {"BATH": 130, "MEAL": 90}},
                      set_by=world.province_admin.id, at=world.now)
    policy.set_policy(s, world.writer, region_id=world.haizhou.id, changes={"weights": {"MEAL": 150}},
                      set_by=world.admin.id, at=world.now)
    assert policy.effective(s, world.grid).weights == {"BATH": 130, "MEAL": 150}
    assert policy.effective(s, world.lyg).weights == {"BATH": 130, "MEAL": 90}


def test_only_an_administrator_covering_the_region_sets_policy(world: World) -> None:
    s = world.session
    for staff_id in (world.coordinator.id, world.admin.id):  # a coordinator; an administrator of 海州区 only
        with pytest.raises(NotPermitted):
            policy.set_policy(s, world.writer, region_id=world.lyg.id, changes={"daily_cap_minutes": 60},
                              set_by=staff_id, at=world.now)
    assert policy.current_version(s) == 0


def test_policy_names_only_real_banks_and_catalogue_items(world: World) -> None:
    s = world.session
    for changes, field in (({"accepted_banks": [world.street.id]}, "accepted_banks"),
                           ({"weights": {"NO-SUCH-ITEM": 150}}, "weights")):
        with pytest.raises(InvalidInput) as caught:
            policy.set_policy(s, world.writer, region_id=world.haizhou.id, changes=changes, set_by=world.admin.id,
                              at=world.now)
        assert caught.value.details["field"] == field
    assert policy.current_version(s) == 0
