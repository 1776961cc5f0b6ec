"""Gifts to relatives (relationship recorded, policy-bound, across banks) and estates on death."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from redemption_helpers import balance, check_books, check_names, credit, give, leaf, snapshot
from sqlalchemy.orm import Session
from world import World

from timebank import journal, people, policy
from timebank.errors import Conflict, InsufficientCredit, InvalidInput, NotPermitted, Refused
from timebank.gifts import give_credit, gifts_of, set_heir, settle_estate


@pytest.fixture(autouse=True)
def books_balance(session: Session) -> Iterator[None]:
    yield
    check_books(session)


def gift(world: World, giver: Any, recipient: Any, minutes: int, relation: str, **kw: Any) -> Any:
    return give_credit(world.session, world.writer, giver_id=giver.id, recipient_id=recipient.id, minutes=minutes,
                       relation=relation, at=kw.pop("at", world.now), **kw)


def die(world: World, person: Any) -> None:
    people.set_status(world.session, world.writer, subject_id=person.id, status="deceased", by=world.coordinator.id,
                      at=world.now)


def test_a_volunteer_gives_credit_to_a_parent_with_the_relationship_recorded(world: World) -> None:
    s = world.session
    son, mother = world.volunteer(), world.elder()
    row = people.add_relative(s, world.sealer, elder_id=mother.id, relation="child", name="刘儿子", at=world.now,
                              person_id=son.id)
    give(world, son, 100)
    given = gift(world, son, mother, 40, "parent")
    assert (credit(s, son), credit(s, mother)) == (60, 40)
    assert (given.relation, given.relative_id, given.away_entry_id) == ("parent", row.id, None)
    public = leaf(s, s.get_one(journal.Entry, given.entry_id))
    assert public["type"] == "gift" and "relation" not in public
    assert journal.check_commitment(given.relation_salt, public["relation_commitment"], "parent")
    assert s.get_one(journal.Entry, given.entry_id).policy_version == policy.current_version(s)
    assert gifts_of(s, mother.id) == [given]


def test_the_stated_relationship_must_agree_with_the_register(world: World) -> None:
    s = world.session
    son, mother = world.volunteer(), world.elder()
    people.add_relative(s, world.sealer, elder_id=mother.id, relation="child", name="刘儿子", at=world.now,
                        person_id=son.id)
    give(world, son, 100)
    give(world, mother, 100)
    before = snapshot(s)
    with pytest.raises(InvalidInput) as wrong:
        gift(world, son, mother, 10, "spouse")
    assert wrong.value.details["field"] == "relation" and snapshot(s) == before
    assert gift(world, mother, son, 10, "child").relative_id is not None  # the elder gives back


def test_a_relationship_the_policy_does_not_allow_is_refused_until_it_does(world: World) -> None:
    s = world.session
    giver, friend = world.volunteer(), world.volunteer()
    give(world, giver, 100)
    before = snapshot(s)
    with pytest.raises(Refused) as refused:
        gift(world, giver, friend, 30, "friend")
    assert refused.value.details["rule"] == "gift_relations" and snapshot(s) == before
    allowed = policy.effective(s, world.haizhou).gift_relations
    policy.set_policy(s, world.writer, region_id=world.haizhou.id, changes={"gift_relations": [*allowed, "friend"]},
                      set_by=world.admin.id, at=world.now)
    given = gift(world, giver, friend, 30, "friend")
    assert given.relative_id is None and credit(s, friend) == 30
    with pytest.raises(InvalidInput):
        gift(world, giver, friend, 10, "neighbour")


def test_giving_to_oneself_or_beyond_the_balance_is_refused(world: World) -> None:
    s = world.session
    giver = world.volunteer()
    give(world, giver, 50)
    before = snapshot(s)
    with pytest.raises(Refused) as refused:
        gift(world, giver, giver, 10, "child")
    assert refused.value.details["rule"] == "self"
    with pytest.raises(InsufficientCredit):
        gift(world, giver, world.elder(), 51, "parent")
    assert snapshot(s) == before


def test_a_gift_across_banks_is_a_pair_of_entries_naming_each_other(world: World) -> None:
    s = world.session
    daughter, father = world.volunteer(world.lyg), world.elder(world.suqian_community)
    give(world, daughter, 120)
    given = gift(world, daughter, father, 100, "parent")
    first, second, link = (s.get_one(journal.Entry, i) for i in (given.entry_id, given.away_entry_id,
                                                                  given.link_entry_id))
    assert (first.log_id, second.log_id, link.log_id) == ("lyg", "suqian", "lyg")
    check_names(s, leaf(s, second)["counterpart"], first)
    check_names(s, leaf(s, link)["counterpart"], second)
    assert credit(s, father) == 100 and balance(s, world.lyg, "clearing", world.suqian.id) == 100
    assert balance(s, world.suqian, "issuance") == -100


def test_a_retried_gift_moves_credit_once_and_a_reused_key_is_a_conflict(world: World) -> None:
    s = world.session
    giver, mother = world.volunteer(), world.elder()
    give(world, giver, 100)
    first = gift(world, giver, mother, 30, "parent", idempotency_key="gift-1")
    again = gift(world, giver, mother, 30, "parent", idempotency_key="gift-1", at=world.now + timedelta(minutes=1))
    assert again.id == first.id and credit(s, mother) == 30
    before = snapshot(s)
    with pytest.raises(Conflict):
        gift(world, giver, mother, 31, "parent", idempotency_key="gift-1")
    assert snapshot(s) == before


def test_an_estate_passes_to_the_heir_only_after_death_and_only_once(world: World) -> None:
    s = world.session
    mother, son = world.elder(), world.volunteer()
    give(world, mother, 90)
    set_heir(s, person_id=mother.id, heir_id=son.id)
    before = snapshot(s)
    with pytest.raises(Conflict):
        settle_estate(s, world.writer, person_id=mother.id, settled_by=world.coordinator.id, at=world.now)
    assert snapshot(s) == before
    die(world, mother)
    with pytest.raises(NotPermitted):
        settle_estate(s, world.writer, person_id=mother.id, settled_by=world.suqian_coordinator.id, at=world.now)
    estate = settle_estate(s, world.writer, person_id=mother.id, settled_by=world.coordinator.id, at=world.now)
    assert (estate.heir_id, estate.minutes) == (son.id, 90) and (credit(s, mother), credit(s, son)) == (0, 90)
    assert leaf(s, s.get_one(journal.Entry, estate.entry_ids[0]))["to"] == "heir"
    before = snapshot(s)
    with pytest.raises(Conflict):
        settle_estate(s, world.writer, person_id=mother.id, settled_by=world.coordinator.id, at=world.now)
    assert snapshot(s) == before
    with pytest.raises(Conflict):
        set_heir(s, person_id=mother.id, heir_id=None)


def test_an_estate_without_an_heir_returns_to_the_pool(world: World) -> None:
    s = world.session
    volunteer = world.volunteer()
    give(world, volunteer, 75)
    die(world, volunteer)
    estate = settle_estate(s, world.writer, person_id=volunteer.id, settled_by=world.coordinator.id, at=world.now)
    assert estate.heir_id is None and balance(s, world.haizhou, "pool") == 75 and credit(s, volunteer) == 0


def test_an_estate_reaches_an_heir_in_another_bank_through_a_pair(world: World) -> None:
    s = world.session
    father, daughter = world.elder(), world.volunteer(world.suqian_community)
    give(world, father, 50)
    set_heir(s, person_id=father.id, heir_id=daughter.id)
    die(world, father)
    estate = settle_estate(s, world.writer, person_id=father.id, settled_by=world.coordinator.id, at=world.now,
                           idempotency_key="estate-1")
    assert settle_estate(s, world.writer, person_id=father.id, settled_by=world.coordinator.id, at=world.now,
                         idempotency_key="estate-1").id == estate.id
    first, second, _link = (s.get_one(journal.Entry, i) for i in estate.entry_ids)
    check_names(s, leaf(s, second)["counterpart"], first)
    assert credit(s, daughter) == 50 and balance(s, world.haizhou, "clearing", world.suqian.id) == 50
