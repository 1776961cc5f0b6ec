"""Dispatch: a coordinator sends a volunteer of the serving bank to a requested service, in the
ledger; completing without naming a provider pays the volunteer sent; every guard refuses with
nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from redemption_helpers import check_books, credit, give, leaf, snapshot
from sqlalchemy.orm import Session
from world import World

from timebank import people
from timebank.dispatch import complete_dispatched, current_dispatch, dispatch_redemption, dispatches_of
from timebank.errors import Conflict, NotFound, NotPermitted, Refused
from timebank.journal import Entry
from timebank.redemption import Redemption, cancel_redemption, request_redemption


@pytest.fixture(autouse=True)
def books_balance(session: Session) -> Iterator[None]:
    yield
    check_books(session)


def requested(world: World, *, code: str = "MEAL", minutes: int = 60, redeemer: Any = None) -> Redemption:
    redeemer = redeemer or world.elder(world.grid)
    give(world, redeemer, 300)
    return request_redemption(world.session, world.writer, redeemer_id=redeemer.id, catalogue_code=code,
                              minutes=minutes, region_id=world.grid.id, requested_by=redeemer.id, at=world.now)


def send(world: World, redemption: Redemption, volunteer_id: str, **kw: Any) -> Any:
    kw.setdefault("by", world.coordinator.id)
    return dispatch_redemption(world.session, world.writer, redemption_id=redemption.id, volunteer_id=volunteer_id,
                               at=kw.pop("at", world.now + timedelta(minutes=10)), **kw)


def test_sending_a_volunteer_is_a_ledger_entry_and_completing_pays_them(world: World) -> None:
    s = world.session
    redemption, volunteer = requested(world), world.volunteer(world.community)
    sent = send(world, redemption, volunteer.id)
    assert (sent.volunteer_id, sent.by, sent.number) == (volunteer.id, world.coordinator.id, 1)
    entry = s.get_one(Entry, sent.entry_id)
    assert (entry.type, entry.bank_id, entry.subject_id) == ("dispatch", world.haizhou.id, redemption.id)
    body = leaf(s, entry)
    assert {k: body[k] for k in ("redemption", "volunteer", "by")} == {
        "redemption": redemption.id, "volunteer": volunteer.id, "by": world.coordinator.id}
    assert "replaces" not in body and redemption.status == "requested"
    done = complete_dispatched(s, world.writer, redemption_id=redemption.id, completed_by=world.coordinator.id,
                               at=world.now + timedelta(hours=2))
    assert (done.status, done.provider_kind, done.provider_id) == ("completed", "volunteer", volunteer.id)
    assert credit(s, volunteer) == 60


def test_sending_someone_else_replaces_the_first_and_history_stays(world: World) -> None:
    s = world.session
    redemption = requested(world)
    first, second = world.volunteer(world.community), world.volunteer(world.grid)
    send(world, redemption, first.id)
    again = send(world, redemption, first.id)  # a double submit: nothing new
    assert again.number == 1 and len(dispatches_of(s, redemption.id)) == 1
    replaced = send(world, redemption, second.id, at=world.now + timedelta(minutes=20))
    assert replaced.number == 2 and leaf(s, s.get_one(Entry, replaced.entry_id))["replaces"] == first.id
    assert current_dispatch(s, redemption.id) == replaced
    assert [d.volunteer_id for d in dispatches_of(s, redemption.id)] == [first.id, second.id]
    done = complete_dispatched(s, world.writer, redemption_id=redemption.id, completed_by=world.coordinator.id,
                               at=world.now + timedelta(hours=2))
    assert done.provider_id == second.id and credit(s, second) == 60 and credit(s, first) == 0


def test_a_volunteer_of_another_bank_is_refused_and_nothing_changes(world: World) -> None:
    redemption, outsider = requested(world), world.volunteer(world.suqian_community)
    before = snapshot(world.session)
    with pytest.raises(Refused) as refused:
        send(world, redemption, outsider.id)
    assert refused.value.details["rule"] == "provider" and refused.value.details["field"] == "volunteer_id"
    assert snapshot(world.session) == before and current_dispatch(world.session, redemption.id) is None


def test_an_inactive_volunteer_is_refused(world: World) -> None:
    redemption, volunteer = requested(world), world.volunteer(world.community)
    people.set_status(world.session, world.writer, subject_id=volunteer.id, status="suspended", reason="核查中",
                      by=world.admin.id, at=world.now)
    before = snapshot(world.session)
    with pytest.raises(Refused) as refused:
        send(world, redemption, volunteer.id)
    assert refused.value.details["rule"] == "dispatch_status" and snapshot(world.session) == before


def test_the_redeemer_an_untrained_volunteer_and_a_station_only_item_are_refused(world: World) -> None:
    older = world.volunteer(world.community, birth_date=date(1955, 4, 1))  # redeems their own credit at 60+
    with pytest.raises(Refused) as own:
        send(world, requested(world, redeemer=older), older.id)
    assert own.value.details["rule"] == "provider"
    with pytest.raises(Refused) as untrained:
        send(world, requested(world, code="BATH"), world.volunteer(world.community).id)
    assert untrained.value.details["rule"] == "training_required"
    with pytest.raises(Refused) as station_only:
        send(world, requested(world, code="NURSING", minutes=30), world.volunteer(world.community).id)
    assert station_only.value.details["rule"] == "volunteer_eligible"


def test_staff_out_of_scope_unknown_people_and_finished_requests_are_refused(world: World) -> None:
    redemption, volunteer = requested(world), world.volunteer(world.community)
    with pytest.raises(NotPermitted):
        send(world, redemption, volunteer.id, by=world.suqian_coordinator.id)
    with pytest.raises(NotFound):
        send(world, redemption, "vol_nobody")
    with pytest.raises(Conflict) as nobody:
        complete_dispatched(world.session, world.writer, redemption_id=redemption.id,
                            completed_by=world.coordinator.id, at=world.now + timedelta(hours=1))
    assert nobody.value.details["field"] == "provider_volunteer_id"
    cancel_redemption(world.session, world.writer, redemption_id=redemption.id, cancelled_by=world.coordinator.id,
                      at=world.now + timedelta(minutes=5))
    before = snapshot(world.session)
    with pytest.raises(Conflict):
        send(world, redemption, volunteer.id)
    assert snapshot(world.session) == before
