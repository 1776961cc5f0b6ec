"""Care agreements: signing and ending in the ledger, the contact log, weekly compliance in China
time and the monthly visit rate."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from world import World

from ledger import store
from timebank import care, journal, people, policy
from timebank.care import CareAgreement, Contact
from timebank.checks import CHINA
from timebank.errors import Conflict, InvalidInput, NotFound, NotPermitted, Refused
from timebank.people import Elder

WEEK = date(2026, 11, 16)  # a Monday; `now` is Wednesday 25 November 2026
STARTS = date(2026, 11, 2)


def china(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A moment given in China time, as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA).astimezone(timezone.utc)


def sign(world: World, elder: Elder | None = None, **kw: Any) -> CareAgreement:
    args: dict[str, Any] = dict(carer_kind="volunteer", signed_by=world.coordinator.id, starts_on=STARTS, at=world.now)
    if kw.get("carer_kind", "volunteer") == "volunteer" and "carer_id" not in kw:
        args["carer_id"] = world.volunteer().id
    args.update(kw)
    return care.sign_agreement(world.session, world.writer, world.sealer, elder_id=(elder or world.elder()).id, **args)


def contact(world: World, agreement: CareAgreement, when: datetime, kind: str = "call", **kw: Any) -> Contact:
    args: dict[str, Any] = dict(by=agreement.carer_id or world.coordinator.id, at=world.now) | kw
    return care.log_contact(world.session, world.sealer, agreement_id=agreement.id, kind=kind, happened_at=when,
                            **args)


def week_of(world: World, region_id: str | None = None, week: date = WEEK) -> list[care.ComplianceRow]:
    return care.compliance(world.session, region_id=region_id or world.haizhou.id, week_start=week, at=world.now)


def leaf(session: Session, entry_id: str | None) -> dict[str, Any]:
    entry = session.get(journal.Entry, entry_id)
    assert entry is not None
    data: dict[str, Any] = json.loads(store.read_leaves(session, entry.log_id, entry.seq, entry.seq + 1)[0])
    return data


def state(world: World) -> tuple[int, int, int]:
    """Agreements, contacts and entries in the bank's log: what a refused call must leave alone."""
    s = world.session
    assert world.haizhou.log_id is not None
    return (int(s.scalar(sa.select(sa.func.count()).select_from(CareAgreement)) or 0),
            int(s.scalar(sa.select(sa.func.count()).select_from(Contact)) or 0),
            store.stored_size(s, world.haizhou.log_id))


# -- signing and ending ---------------------------------------------------------------------------


def test_signing_writes_a_care_entry_of_opaque_ids_only(world: World) -> None:
    elder = world.elder(name="刘奶奶")
    carer = world.volunteer(name="张志愿")
    agreement = sign(world, elder, carer_id=carer.id)
    assert agreement.id.startswith("care_") and agreement.contacts_per_week == 3
    assert (agreement.region_id, agreement.ends_on, agreement.carer_name_sealed) == (world.community.id, None, None)
    body = leaf(world.session, agreement.entry_id)
    assert body == {**body, "type": "care", "bank": world.haizhou.id, "event": "signed", "agreement": agreement.id,
                    "elder": elder.id, "carer_kind": "volunteer", "carer": carer.id, "contacts_per_week": 3,
                    "starts_on": "2026-11-02", "by": world.coordinator.id,
                    "policy": policy.current_version(world.session)}
    assert "刘" not in json.dumps(body, ensure_ascii=False) and "张" not in json.dumps(body, ensure_ascii=False)
    assert care.agreements_of(world.session, elder.id) == [agreement]


def test_a_neighbour_or_grid_worker_is_kept_by_sealed_name(world: World) -> None:
    for kind, name in (("neighbour", "邻居陈阿姨"), ("grid_worker", "网格员周")):
        agreement = sign(world, carer_kind=kind, carer_name=f" {name} ")
        assert agreement.carer_id is None and name not in (agreement.carer_name_sealed or "")
        where = people.where(agreement, "carer_name_sealed")
        assert world.sealer.open(agreement.carer_name_sealed, where=where) == name
        body = leaf(world.session, agreement.entry_id)
        assert body["carer"] is None and name not in json.dumps(body, ensure_ascii=False)


def test_a_relative_carer_is_named_by_id_when_registered_and_by_name_otherwise(world: World) -> None:
    elder, other = world.elder(), world.elder()
    daughter = people.add_relative(world.session, world.sealer, elder_id=elder.id, relation="child", name="刘女儿",
                                   at=world.now)
    assert sign(world, elder, carer_kind="relative", carer_id=daughter.id).carer_id == daughter.id
    assert sign(world, elder, carer_kind="relative", carer_name="刘侄子").carer_name_sealed is not None
    with pytest.raises(NotFound):
        sign(world, other, carer_kind="relative", carer_id=daughter.id)


def test_ending_an_agreement_writes_a_care_entry_and_ending_twice_is_refused(world: World) -> None:
    agreement = sign(world)
    ended = care.end_agreement(world.session, world.writer, agreement_id=agreement.id, ends_on=date(2026, 11, 20),
                               by=world.admin.id, at=world.now)
    assert (ended.ends_on, ended.ended_by, ended.ended_at) == (date(2026, 11, 20), world.admin.id, world.now)
    body = leaf(world.session, ended.end_entry_id)
    assert body == {**body, "type": "care", "event": "ended", "agreement": agreement.id, "ends_on": "2026-11-20"}
    assert [e.id for e in journal.entries_about(world.session, agreement.id)] == [agreement.entry_id,
                                                                                  ended.end_entry_id]
    before = state(world)
    with pytest.raises(Conflict):
        care.end_agreement(world.session, world.writer, agreement_id=agreement.id, ends_on=date(2026, 11, 21),
                           by=world.admin.id, at=world.now)
    assert state(world) == before and agreement.ends_on == date(2026, 11, 20)


def test_the_policy_knob_sets_the_default_requirement(world: World) -> None:
    policy.set_policy(world.session, world.writer, region_id=world.haizhou.id, changes={"care_contacts_per_week": 5},
                      set_by=world.admin.id, at=world.now)
    agreement = sign(world)
    assert agreement.contacts_per_week == 5
    assert leaf(world.session, agreement.entry_id)["policy"] == policy.current_version(world.session)
    assert sign(world, contacts_per_week=2).contacts_per_week == 2
    elsewhere = sign(world, world.elder(region=world.suqian_community), signed_by=world.suqian_coordinator.id,
                     carer_id=world.volunteer(region=world.suqian_community).id)
    assert elsewhere.contacts_per_week == 3
    assert [r.required for r in week_of(world) if r.agreement is agreement] == [5]


SIGN_GUARDS: list[tuple[type[Exception], dict[str, Any]]] = [
    (InvalidInput, dict(carer_kind="stranger", carer_name="某人")),
    (InvalidInput, dict(carer_id=None)),
    (InvalidInput, dict(carer_kind="neighbour", carer_id="vol_x")),
    (InvalidInput, dict(carer_kind="neighbour")),
    (InvalidInput, dict(carer_kind="neighbour", carer_name="\x07")),
    (InvalidInput, dict(carer_kind="neighbour", carer_name="邻" * 51)),
    (InvalidInput, dict(carer_name="张三")),
    (InvalidInput, dict(contacts_per_week=0)),
    (InvalidInput, dict(contacts_per_week=22)),
    (InvalidInput, dict(contacts_per_week=True)),
    (InvalidInput, dict(starts_on=datetime(2026, 11, 2, tzinfo=timezone.utc))),
    (NotFound, dict(carer_id="vol_nobody")),
    (NotFound, dict(signed_by="stf_nobody")),
    (NotFound, dict(carer_kind="relative", carer_id="rel_nobody")),
]


@pytest.mark.parametrize(("error", "change"), SIGN_GUARDS, ids=[f"{e.__name__}-{c}"[:60] for e, c in SIGN_GUARDS])
def test_signing_refuses_bad_input_and_changes_nothing(
    world: World, error: type[Exception], change: dict[str, Any]
) -> None:
    elder = world.elder()
    before = state(world)
    with pytest.raises(error):
        sign(world, elder, **change)
    assert state(world) == before


def test_signing_refuses_an_inactive_elder_or_carer_out_of_scope_staff_and_a_second_agreement(world: World) -> None:
    s, elder, carer = world.session, world.elder(), world.volunteer()
    gone = world.elder()
    people.set_status(s, world.writer, subject_id=gone.id, status="deceased", by=world.admin.id, at=world.now)
    suspended = world.volunteer()
    people.set_status(s, world.writer, subject_id=suspended.id, status="suspended", by=world.admin.id, at=world.now,
                      reason="待核实")
    sign(world, elder, carer_id=carer.id)
    before = state(world)
    with pytest.raises(Refused):
        sign(world, gone)
    with pytest.raises(Refused):
        sign(world, elder, carer_id=suspended.id)
    with pytest.raises(NotPermitted):
        sign(world, elder, signed_by=world.suqian_coordinator.id)
    with pytest.raises(Conflict):
        sign(world, elder, carer_id=carer.id, starts_on=date(2026, 12, 1))
    assert state(world) == before


# -- contacts -------------------------------------------------------------------------------------


def test_a_contact_is_logged_by_the_carer_or_staff_with_a_sealed_note(world: World) -> None:
    agreement = sign(world)
    by_carer = contact(world, agreement, china(WEEK), kind="visit", minutes=45, note="血压偏高，已告知女儿")
    by_staff = contact(world, agreement, china(WEEK, 11), by=world.admin.id)
    assert "血压" not in (by_carer.note_sealed or "") and by_staff.note_sealed is None
    where = people.where(by_carer, "note_sealed")
    assert world.sealer.open(by_carer.note_sealed, where=where) == "血压偏高，已告知女儿"
    assert care.contacts_of(world.session, agreement.id) == [by_carer, by_staff]


def test_logging_a_contact_refuses_bad_input_and_changes_nothing(world: World) -> None:
    agreement = sign(world)
    contact(world, agreement, china(WEEK))
    care.end_agreement(world.session, world.writer, agreement_id=agreement.id, ends_on=date(2026, 11, 20),
                       by=world.admin.id, at=world.now)
    cases: list[tuple[type[Exception], str, dict[str, Any]]] = [
        (InvalidInput, "happened_at", dict(when=world.now + timedelta(minutes=1))),
        (InvalidInput, "happened_at", dict(when=china(STARTS) - timedelta(days=1))),
        (InvalidInput, "happened_at", dict(when=china(date(2026, 11, 21), 0, 5))),
        (InvalidInput, "happened_at", dict(when=datetime(2026, 11, 17, 10, 0))),
        (InvalidInput, "kind", dict(kind="letter")),
        (InvalidInput, "minutes", dict(minutes=0)),
        (InvalidInput, "minutes", dict(minutes=1441)),
        (InvalidInput, "note", dict(note="x" * 1001)),
        (NotPermitted, "by", dict(by="vol_stranger")),
        (NotPermitted, "by", dict(by=world.suqian_coordinator.id)),
        (Conflict, "happened_at", dict(when=china(WEEK))),
    ]
    before = state(world)
    for error, field, change in cases:
        when = change.pop("when", china(WEEK, 15))
        with pytest.raises(error) as caught:
            contact(world, agreement, when, **change)
        assert caught.value.details["field"] == field, change  # type: ignore[attr-defined]
    with pytest.raises(NotFound):
        care.log_contact(world.session, world.sealer, agreement_id="care_nobody", kind="call",
                         happened_at=china(WEEK), by=world.admin.id, at=world.now)
    assert state(world) == before


def test_ending_refuses_a_day_before_the_start_or_before_a_logged_contact(world: World) -> None:
    agreement = sign(world)
    contact(world, agreement, china(WEEK, 0, 30))  # 16 November in China, still the 15th in UTC
    before = state(world)
    for ends_on, error in ((date(2026, 11, 1), InvalidInput), (date(2026, 11, 15), InvalidInput)):
        with pytest.raises(error):
            care.end_agreement(world.session, world.writer, agreement_id=agreement.id, ends_on=ends_on,
                               by=world.admin.id, at=world.now)
    with pytest.raises(NotPermitted):
        care.end_agreement(world.session, world.writer, agreement_id=agreement.id, ends_on=WEEK,
                           by=world.suqian_coordinator.id, at=world.now)
    assert state(world) == before and agreement.ended_at is None
    care.end_agreement(world.session, world.writer, agreement_id=agreement.id, ends_on=WEEK, by=world.admin.id,
                       at=world.now)


# -- weekly compliance ----------------------------------------------------------------------------


def test_three_contacts_in_a_week_are_enough_and_two_are_behind(world: World) -> None:
    three, two = sign(world), sign(world)
    for day in range(3):
        contact(world, three, china(WEEK + timedelta(days=2 * day)))
    contact(world, two, china(WEEK), kind="visit")
    contact(world, two, china(WEEK + timedelta(days=6), 21))
    rows = week_of(world)
    assert [(r.agreement.id, r.elder_id, r.required, r.done, r.behind) for r in rows] == [
        (two.id, two.elder_id, 3, 2, True), (three.id, three.elder_id, 3, 3, False)]


def test_only_contacts_inside_the_week_in_china_time_count(world: World) -> None:
    agreement = sign(world)
    sunday_before, monday_after = WEEK - timedelta(days=1), WEEK + timedelta(days=7)
    contact(world, agreement, china(sunday_before, 23, 59))  # still the week before
    contact(world, agreement, china(WEEK, 0, 0))  # Sunday 16:00 UTC: already this week
    contact(world, agreement, china(monday_after - timedelta(days=1), 23, 59))
    contact(world, agreement, china(monday_after, 0, 0))  # the next week
    (row,) = week_of(world)
    assert (row.done, row.behind) == (2, True)
    (next_week,) = week_of(world, week=monday_after)
    assert next_week.done == 1


def test_the_most_behind_come_first(world: World) -> None:
    agreements = [sign(world) for _ in range(4)]
    for agreement, done in zip(agreements, (1, 4, 0, 2)):
        for n in range(done):
            contact(world, agreement, china(WEEK + timedelta(days=n)))
    assert [(r.done, r.missing) for r in week_of(world)] == [(0, 3), (1, 2), (2, 1), (4, 0)]


def test_ended_and_future_agreements_drop_out_and_a_part_week_asks_its_share(world: World) -> None:
    ended_before = sign(world)
    care.end_agreement(world.session, world.writer, agreement_id=ended_before.id, ends_on=WEEK - timedelta(days=1),
                       by=world.admin.id, at=world.now)
    ended_thursday = sign(world)
    care.end_agreement(world.session, world.writer, agreement_id=ended_thursday.id,
                       ends_on=WEEK + timedelta(days=3), by=world.admin.id, at=world.now)
    starts_friday = sign(world, starts_on=WEEK + timedelta(days=4))
    sign(world, starts_on=WEEK + timedelta(days=7))
    required = {r.agreement.id: r.required for r in week_of(world)}
    # ceil(3 × 4 / 7) = 2 for Monday to Thursday; ceil(3 × 3 / 7) = 2 for Friday to Sunday
    assert required == {ended_thursday.id: 2, starts_friday.id: 2}


def test_the_list_is_as_known_at_the_time_asked(world: World) -> None:
    agreement = sign(world)
    contact(world, agreement, china(WEEK), at=world.now + timedelta(days=1))
    care.end_agreement(world.session, world.writer, agreement_id=agreement.id, ends_on=WEEK + timedelta(days=1),
                       by=world.admin.id, at=world.now + timedelta(days=1))
    (then,) = week_of(world)
    assert (then.required, then.done) == (3, 0)
    (later,) = care.compliance(world.session, region_id=world.haizhou.id, week_start=WEEK,
                               at=world.now + timedelta(days=2))
    assert (later.required, later.done) == (1, 1)


def test_another_regions_agreements_are_not_listed(world: World) -> None:
    here = sign(world)
    in_grid = sign(world, world.elder(region=world.grid))
    there = sign(world, world.elder(region=world.suqian_community), signed_by=world.suqian_coordinator.id,
                 carer_id=world.volunteer(region=world.suqian_community).id)
    listed = {region: {r.agreement.id for r in week_of(world, region.id)}
              for region in (world.haizhou, world.grid, world.suqian, world.province)}
    assert listed[world.haizhou] == {here.id, in_grid.id}
    assert listed[world.grid] == {in_grid.id}
    assert listed[world.suqian] == {there.id}
    assert listed[world.province] == {here.id, in_grid.id, there.id}


def test_a_week_must_start_on_a_monday(world: World) -> None:
    with pytest.raises(InvalidInput) as caught:
        week_of(world, week=WEEK + timedelta(days=1))
    assert caught.value.details["field"] == "week_start"
    with pytest.raises(NotFound):
        week_of(world, region_id="reg_nope")


# -- monthly visit rate ---------------------------------------------------------------------------


def test_the_monthly_visit_rate_counts_elders_visited_at_least_once(world: World) -> None:
    november = date(2026, 11, 1)
    visited_twice, visited_first_minute, called_only, not_contacted = (sign(world, starts_on=date(2026, 10, 1))
                                                                       for _ in range(4))
    contact(world, visited_twice, china(date(2026, 11, 3)), kind="visit")
    contact(world, visited_twice, china(date(2026, 11, 4)), kind="visit")
    contact(world, visited_first_minute, china(november, 0, 0), kind="visit")  # 31 October in UTC
    contact(world, called_only, china(date(2026, 11, 5)), kind="call")
    contact(world, not_contacted, china(date(2026, 10, 31), 23, 59), kind="visit")  # October
    second_agreement = sign(world, world.session.get(Elder, visited_twice.elder_id))  # the same elder twice
    contact(world, second_agreement, china(date(2026, 11, 6)), kind="visit")
    ended = sign(world, starts_on=date(2026, 10, 1))
    care.end_agreement(world.session, world.writer, agreement_id=ended.id, ends_on=date(2026, 10, 31),
                       by=world.admin.id, at=world.now)
    sign(world, world.elder(region=world.suqian_community), signed_by=world.suqian_coordinator.id,
         carer_id=world.volunteer(region=world.suqian_community).id)
    assert care.monthly_visit_rate(world.session, region_id=world.haizhou.id, month=date(2026, 11, 17)) == (2, 4)
    assert care.monthly_visit_rate(world.session, region_id=world.haizhou.id, month=date(2026, 10, 1)) == (1, 5)
    assert care.monthly_visit_rate(world.session, region_id=world.suqian.id, month=november) == (0, 1)
    assert care.monthly_visit_rate(world.session, region_id=world.haizhou.id, month=date(2027, 1, 1)) == (0, 4)
