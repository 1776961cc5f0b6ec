"""People: registration checks, personal data sealed at rest, status history, tags, relatives,
training and staff scope."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from record_helpers import submit
from world import World, id_number

from ledger import store
from timebank import journal, people, regions
from timebank.errors import Conflict, InvalidInput, NotFound, NotPermitted, Refused
from timebank.model import Base
from timebank.people import ID_WEIGHTS, Elder, ElderTag, Relative, StatusChange, Training, Volunteer
from timebank.regions import create_region
from timebank.sealing import SealError


def count(session: Session, model: type[Base]) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def leaf(session: Session, entry_id: str) -> bytes:
    entry = session.get(journal.Entry, entry_id)
    assert entry is not None
    return store.read_leaves(session, entry.log_id, entry.seq, entry.seq + 1)[0]


def log_size(world: World) -> int:
    assert world.haizhou.log_id is not None
    return store.stored_size(world.session, world.haizhou.log_id)


def id_ending_in_x() -> str:
    """A valid resident ID whose check character is X."""
    for serial in range(1000):
        body = f"32070319451203{serial:03d}"
        check = "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]
        if check == "X":
            return body + check
    raise AssertionError("no serial gives X")


def raw_row(session: Session, table: str, row_id: str) -> str:
    """The row as the database holds it, every column as text."""
    row = session.execute(sa.text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row_id}).one()
    return " ".join(str(v) for v in row)


# -- registration ---------------------------------------------------------------------------------


def test_a_volunteer_is_registered_with_an_opaque_id_and_sealed_personal_data(world: World) -> None:
    v = world.volunteer(name="张志愿", phone="138-0000 0000", address="朝阳社区1号", skills=[" 理发 ", "助餐"])
    assert v.id.startswith("vol_") and v.status == "active" and v.region_id == world.community.id
    assert v.skills == ["理发", "助餐"] and v.birth_date == date(1990, 5, 17)
    opened = people.opened(world.sealer, v)
    assert opened["name"] == "张志愿" and opened["phone"] == "138-0000 0000" and opened["address"] == "朝阳社区1号"
    assert people.person(world.session, v.id) is v
    assert people.home_bank(world.session, v.id).id == world.haizhou.id


VOLUNTEER_FIELDS: list[tuple[str, Any]] = [
    ("name", ""), ("name", "   "), ("name", "张" * 51), ("name", "张\x07三"),
    ("sex", "X"), ("kind", "astronaut"),
    ("birth_date", date(2027, 1, 1)), ("birth_date", date(1899, 12, 31)),
    ("id_number", "320703199001011230"), ("id_number", "1234"), ("id_number", "1234567890"),
    ("id_number", "护照12345"), ("id_number", ""),
    ("phone", "call me"), ("phone", "123"), ("address", "路" * 201), ("skills", [""]),
]


@pytest.mark.parametrize(("field", "value"), VOLUNTEER_FIELDS, ids=[f"{f}={v!r}"[:40] for f, v in VOLUNTEER_FIELDS])
def test_registering_a_volunteer_refuses_each_bad_field_by_name_and_adds_nothing(
    world: World, field: str, value: Any
) -> None:
    before = count(world.session, Volunteer)
    with pytest.raises(InvalidInput) as caught:
        world.volunteer(**{field: value})
    assert caught.value.details["field"] == field
    assert count(world.session, Volunteer) == before


ELDER_FIELDS: list[tuple[str, Any]] = [
    ("name", ""), ("sex", "f"), ("birth_date", date(2030, 1, 1)), ("id_number", "320703194003081231"),
    ("phone", "not a phone"), ("address", "x" * 201), ("health", "x" * 2001), ("health", "失能\x00"),
]


@pytest.mark.parametrize(("field", "value"), ELDER_FIELDS, ids=[f"{f}={v!r}"[:40] for f, v in ELDER_FIELDS])
def test_registering_an_elder_refuses_each_bad_field_by_name_and_adds_nothing(
    world: World, field: str, value: Any
) -> None:
    with pytest.raises(InvalidInput) as caught:
        world.elder(**{field: value})
    assert caught.value.details["field"] == field
    assert count(world.session, Elder) == 0


def test_an_unknown_region_or_organisation_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        people.register_volunteer(world.session, world.sealer, region_id="reg_nope", name="甲", sex="M",
                                  birth_date=date(1990, 1, 1), id_number=id_number(), kind="youth", at=world.now)
    with pytest.raises(NotFound) as caught:
        world.volunteer(organisation_id="org_nope")
    assert caught.value.details["field"] == "organisation_id"


def test_a_region_that_no_bank_covers_refuses_registration(world: World) -> None:
    island = create_region(world.session, level="province", name_zh="海岛", name_en="Island", at=world.now)
    with pytest.raises(Refused):
        world.volunteer(region=island)
    with pytest.raises(Refused):
        world.elder(region=world.province)
    assert count(world.session, Volunteer) == count(world.session, Elder) == 0


def test_an_id_number_is_checked_by_its_check_digit_and_x_may_be_lower_case(world: World) -> None:
    number = id_ending_in_x()
    assert people.check_id_number(number.lower()) == number
    wrong = number[:-1] + "7"
    with pytest.raises(InvalidInput, match="check digit"):
        people.check_id_number(wrong)
    assert people.check_id_number(" E12345678 ") == "E12345678"
    elder = world.elder(id_number=f"  {number.lower()} ")
    assert people.opened(world.sealer, elder)["id_number"] == number


def test_the_same_id_number_twice_is_a_conflict_whatever_its_spacing_or_case(world: World) -> None:
    number = id_ending_in_x()
    world.volunteer(id_number=number)
    for again in (number, number.lower(), f"  {number}\t"):
        with pytest.raises(Conflict) as caught:
            world.volunteer(id_number=again)
        assert caught.value.details["field"] == "id_number"
    world.elder(id_number=number)  # 以老助老: one person may be a volunteer and an elder
    with pytest.raises(Conflict):
        world.elder(id_number=number.lower())
    assert count(world.session, Volunteer) == count(world.session, Elder) == 1


@pytest.mark.parametrize("form", ["grouped", "full-width"])
def test_an_id_number_with_inner_spaces_or_full_width_digits_is_the_same_number(world: World, form: str) -> None:
    number = id_number()
    world.volunteer(id_number=number)
    again = (f"{number[:6]} {number[6:14]} {number[14:]}" if form == "grouped"
             else number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"}))
    with pytest.raises(Conflict):
        world.volunteer(id_number=again)


def test_a_birth_date_given_as_a_datetime_is_invalid_input(world: World) -> None:
    with pytest.raises(InvalidInput):
        world.volunteer(birth_date=datetime(1990, 1, 1))


# -- sealed at rest -------------------------------------------------------------------------------


def test_personal_data_is_sealed_at_rest_and_opened_on_demand(world: World) -> None:
    number = id_number(date(1938, 2, 1))
    elder = world.elder(name="欧阳奶奶", id_number=number, phone="13912345678", address="幸福路88号",
                        health="半失能，糖尿病")
    volunteer = world.volunteer(name="司马志愿", phone="13687654321", address="解放路7号")
    volunteer_number = people.opened(world.sealer, volunteer)["id_number"]
    assert volunteer_number is not None
    world.session.flush()
    raw_elder = raw_row(world.session, "elder", elder.id)
    for secret in ("欧阳", number, number[6:14], "13912345678", "幸福路", "糖尿病"):
        assert secret not in raw_elder
    raw_volunteer = raw_row(world.session, "volunteer", volunteer.id)
    for secret in ("司马", volunteer_number, "13687654321", "解放路"):
        assert secret not in raw_volunteer
    assert elder.name_sealed.startswith(f"pd1.{world.sealer.current}.")
    assert people.opened(world.sealer, elder) == {"name": "欧阳奶奶", "id_number": number, "phone": "13912345678",
                                                  "address": "幸福路88号", "health": "半失能，糖尿病"}
    assert people.opened(world.sealer, world.coordinator) == {"name": "王协调"}


def test_a_sealed_value_copied_into_another_row_does_not_open(world: World) -> None:
    first, second = world.volunteer(name="甲"), world.volunteer(name="乙")
    second.name_sealed = first.name_sealed
    with pytest.raises(SealError):
        people.opened(world.sealer, second)
    first.phone_sealed = first.name_sealed  # and into another column
    with pytest.raises(SealError):
        people.opened(world.sealer, first)


def test_an_elder_is_found_by_short_code_in_any_case(world: World) -> None:
    elder = world.elder()
    assert len(elder.short_code) == 6
    assert people.find_elder_by_code(world.session, f" {elder.short_code.lower()} ") is elder
    with pytest.raises(NotFound) as caught:
        people.find_elder_by_code(world.session, "ZZZZZZZ")
    assert caught.value.details["field"] == "elder_code"


# -- status ---------------------------------------------------------------------------------------


def test_status_changes_are_history_with_a_ledger_entry_that_commits_to_the_reason(world: World) -> None:
    s, v = world.session, world.volunteer()
    reason = "虚报服务时长三次（张某举报）"
    steps = [("suspended", reason), ("active", None), ("blacklisted", "伪造老人确认")]
    for minutes, (status, why) in enumerate(steps):
        people.set_status(s, world.writer, subject_id=v.id, status=status, by=world.admin.id,
                          at=world.now + timedelta(minutes=minutes), reason=why)
    assert v.status == "blacklisted"
    history = people.status_history(s, v.id)
    assert [(h.status, h.reason) for h in history] == steps
    assert [e.id for e in journal.entries_about(s, v.id)] == [h.entry_id for h in history]
    first = leaf(s, history[0].entry_id)
    assert reason.encode() not in first and "张某".encode() not in first
    body = json.loads(first)
    assert body["type"] == "status" and body["bank"] == world.haizhou.id
    assert {k: body[k] for k in ("subject", "status", "from", "by")} == {
        "subject": v.id, "status": "suspended", "from": "active", "by": world.admin.id}
    assert not {"reason", "reason_salt"} & body.keys()
    assert history[0].reason_salt is not None
    assert journal.check_commitment(history[0].reason_salt, body["reason_commitment"], reason)
    assert not journal.check_commitment(history[0].reason_salt, body["reason_commitment"], "另一个理由")


@pytest.mark.parametrize("status", ["blacklisted", "suspended"])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_suspending_or_blacklisting_without_a_reason_is_refused_and_changes_nothing(
    world: World, status: str, reason: str | None
) -> None:
    v = world.volunteer()
    size = log_size(world)
    with pytest.raises(InvalidInput) as caught:
        people.set_status(world.session, world.writer, subject_id=v.id, status=status, by=world.admin.id,
                          at=world.now, reason=reason)
    assert caught.value.details["field"] == "reason"
    assert v.status == "active" and count(world.session, StatusChange) == 0 and log_size(world) == size


def test_an_elder_moves_away_without_a_reason_but_cannot_be_blacklisted(world: World) -> None:
    elder = world.elder()
    change = people.set_status(world.session, world.writer, subject_id=elder.id, status="moved_away",
                               by=world.coordinator.id, at=world.now)
    assert change.reason is None and elder.status == "moved_away"
    with pytest.raises(InvalidInput):
        people.set_status(world.session, world.writer, subject_id=elder.id, status="blacklisted",
                          by=world.coordinator.id, at=world.now, reason="x")


def test_a_status_change_to_the_same_status_or_of_nobody_is_refused(world: World) -> None:
    v = world.volunteer()
    with pytest.raises(Conflict):
        people.set_status(world.session, world.writer, subject_id=v.id, status="active", by="x", at=world.now)
    with pytest.raises(InvalidInput):
        people.set_status(world.session, world.writer, subject_id=v.id, status="retired", by="x", at=world.now)
    with pytest.raises(NotFound):
        people.set_status(world.session, world.writer, subject_id="vol_nobody", status="active", by="x",
                          at=world.now)
    assert count(world.session, StatusChange) == 0


# -- priority tags --------------------------------------------------------------------------------


def test_priority_tags_are_added_removed_and_added_again_with_their_history(world: World) -> None:
    s, by = world.session, world.coordinator.id
    elder = world.elder(tags=["living_alone", "age_80_plus"])
    assert people.current_tags(s, elder.id) == ["age_80_plus", "living_alone"]
    later = world.now + timedelta(days=30)
    people.remove_tag(s, elder_id=elder.id, tag="living_alone", by=by, at=later)
    assert people.current_tags(s, elder.id) == ["age_80_plus"]
    people.add_tag(s, elder_id=elder.id, tag="living_alone", by=by, at=later + timedelta(days=1))
    people.add_tag(s, elder_id=elder.id, tag="dementia", by=by, at=later + timedelta(days=1))
    assert people.current_tags(s, elder.id) == ["age_80_plus", "dementia", "living_alone"]
    rows = s.scalars(sa.select(ElderTag).where(ElderTag.elder_id == elder.id, ElderTag.tag == "living_alone")
                     .order_by(ElderTag.added_at)).all()
    assert [(r.added_at, r.removed_at, r.removed_by) for r in rows] == [
        (world.now, later, by), (later + timedelta(days=1), None, None)]


def test_tag_guards_refuse_unknown_duplicate_and_missing_tags(world: World) -> None:
    s, elder = world.session, world.elder(tags=["empty_nest"])
    with pytest.raises(Conflict):
        people.add_tag(s, elder_id=elder.id, tag="empty_nest", by="x", at=world.now)
    with pytest.raises(InvalidInput):
        people.add_tag(s, elder_id=elder.id, tag="rich", by="x", at=world.now)
    with pytest.raises(NotFound):
        people.add_tag(s, elder_id="eld_nobody", tag="empty_nest", by="x", at=world.now)
    with pytest.raises(NotFound):
        people.remove_tag(s, elder_id=elder.id, tag="dementia", by="x", at=world.now)
    people.remove_tag(s, elder_id=elder.id, tag="empty_nest", by="x", at=world.now)
    with pytest.raises(NotFound):
        people.remove_tag(s, elder_id=elder.id, tag="empty_nest", by="x", at=world.now)
    assert count(s, ElderTag) == 1


def test_registering_an_elder_with_an_unknown_tag_adds_nothing(world: World) -> None:
    with pytest.raises(InvalidInput) as caught:
        world.elder(tags=["living_alone", "rich"])
    assert caught.value.details["field"] == "tags"
    assert count(world.session, Elder) == 0


def test_a_tag_given_twice_at_registration_is_held_once(world: World) -> None:
    elder = world.elder(tags=["living_alone", "living_alone"])
    assert people.current_tags(world.session, elder.id) == ["living_alone"]


# -- relatives and proxies ------------------------------------------------------------------------


def test_relatives_and_proxies_are_added_linked_and_removed(world: World) -> None:
    s, elder, son = world.session, world.elder(), world.volunteer(name="刘儿子")
    linked = people.add_relative(s, world.sealer, elder_id=elder.id, relation="child", name=" 刘儿子 ",
                                 phone="13700000000", person_id=son.id, may_redeem=True, at=world.now)
    neighbour = people.add_relative(s, world.sealer, elder_id=elder.id, relation="friend", name="邻居陈",
                                    may_confirm=False, at=world.now + timedelta(seconds=1))
    assert people.opened(world.sealer, linked) == {"name": "刘儿子", "phone": "13700000000"}
    assert (linked.may_confirm, linked.may_redeem, neighbour.may_confirm) == (True, True, False)
    assert [r.id for r in people.relatives_of(s, elder.id)] == [linked.id, neighbour.id]
    assert people.relation_between(s, elder.id, son.id) is linked
    people.remove_relative(s, relative_id=linked.id, at=world.now)
    assert [r.id for r in people.relatives_of(s, elder.id)] == [neighbour.id]
    assert people.relation_between(s, elder.id, son.id) is None
    with pytest.raises(NotFound):
        people.remove_relative(s, relative_id=linked.id, at=world.now)


def test_adding_a_relative_refuses_bad_input_and_adds_nothing(world: World) -> None:
    s, elder = world.session, world.elder()
    cases: list[tuple[type[Exception], dict[str, Any]]] = [
        (InvalidInput, dict(relation="cousin")), (InvalidInput, dict(name="")), (InvalidInput, dict(phone="x")),
        (NotFound, dict(person_id="vol_nobody")), (InvalidInput, dict(person_id=elder.id)),
        (NotFound, dict(elder_id="eld_nobody")),
    ]
    for error, change in cases:
        args: dict[str, Any] = dict(elder_id=elder.id, relation="spouse", name="老伴", at=world.now) | change
        with pytest.raises(error):
            people.add_relative(s, world.sealer, **args)
    assert count(s, Relative) == 0


# -- training -------------------------------------------------------------------------------------


def test_training_certifies_a_volunteer_for_named_catalogue_items_only(world: World) -> None:
    s, v, other = world.session, world.volunteer(), world.volunteer()
    assert not people.is_trained_for(s, v.id, "BATH")
    training = people.add_training(s, volunteer_id=v.id, course="助浴安全", study_minutes=240, provider="红十字会",
                                   completed_on=date(2026, 11, 1), recorded_by=world.coordinator.id, at=world.now,
                                   certifies=["BATH", "BATH"])
    assert training.certifies == ["BATH"] and training.content is None
    assert people.is_trained_for(s, v.id, "BATH")
    assert not people.is_trained_for(s, v.id, "HOMECARE")
    assert not people.is_trained_for(s, other.id, "BATH")


def test_a_training_record_with_bad_input_is_refused_by_field(world: World) -> None:
    s, v = world.session, world.volunteer()
    good: dict[str, Any] = dict(volunteer_id=v.id, course="急救", study_minutes=90, provider="社区",
                                completed_on=date(2026, 11, 1), recorded_by="stf_x", at=world.now)
    cases = [("study_minutes", 0), ("study_minutes", 100_001), ("completed_on", date(2026, 11, 26)),
             ("certifies", ["BATH", "FLYING"]), ("course", " "), ("provider", "")]
    for field, value in cases:
        with pytest.raises(InvalidInput) as caught:
            people.add_training(s, **(good | {field: value}))
        assert caught.value.details["field"] == field
    with pytest.raises(NotFound):
        people.add_training(s, **(good | {"volunteer_id": "vol_nobody"}))
    assert count(s, Training) == 0


# -- staff ----------------------------------------------------------------------------------------


def test_staff_act_only_within_their_region_subtree(world: World) -> None:
    s, coordinator = world.session, world.coordinator
    assert people.get_staff(s, coordinator.id) is coordinator
    for inside in (world.haizhou, world.grid):
        assert people.get_staff(s, coordinator.id, region_id=inside.id) is coordinator
    for outside in (world.lyg, world.suqian_community):
        with pytest.raises(NotPermitted):
            people.get_staff(s, coordinator.id, region_id=outside.id)
    with pytest.raises(NotFound):
        people.get_staff(s, "stf_nobody")
    coordinator.active = False
    with pytest.raises(NotFound):
        people.get_staff(s, coordinator.id)


def test_registering_staff_checks_role_region_and_name(world: World) -> None:
    s = world.session
    with pytest.raises(InvalidInput):
        people.register_staff(s, world.sealer, region_id=world.grid.id, role="mayor", name="甲", at=world.now)
    with pytest.raises(InvalidInput):
        people.register_staff(s, world.sealer, region_id=world.grid.id, role="coordinator", name="", at=world.now)
    with pytest.raises(NotFound):
        people.register_staff(s, world.sealer, region_id="reg_nope", role="coordinator", name="甲", at=world.now)
    worker = people.register_staff(s, world.sealer, region_id=world.grid.id, role="coordinator", name="网格员周",
                                   at=world.now)
    assert people.opened(world.sealer, worker) == {"name": "网格员周"} and worker.id.startswith("stf_")


def test_a_person_who_does_not_exist_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        people.person(world.session, "vol_nobody")
    with pytest.raises(NotFound):
        people.get_elder(world.session, "eld_nobody")
    with pytest.raises(NotFound):
        people.get_volunteer(world.session, "vol_nobody")


def test_an_organisation_is_blacklisted_with_a_reason_and_its_records_are_refused(world: World) -> None:
    team = regions.create_organisation(world.session, region_id=world.community.id, kind="team", name="某服务队",
                                       at=world.now)
    with pytest.raises(InvalidInput):
        people.set_status(world.session, world.writer, subject_id=team.id, status="blacklisted", by=world.admin.id,
                          at=world.now)
    people.set_status(world.session, world.writer, subject_id=team.id, status="blacklisted", by=world.admin.id,
                      reason="虚报服务时长", at=world.now)
    assert [c.status for c in people.status_history(world.session, team.id)] == ["blacklisted"]
    with pytest.raises(Refused) as caught:
        submit(world, world.volunteer(), world.elder(), organisation_id=team.id)
    assert caught.value.details["rule"] == "organisation_status"


def test_an_id_number_says_what_it_holds_against_the_birth_date_and_sex() -> None:
    from timebank.people import id_disagreement
    number = "11010519491231002X"  # GB 11643's example: born 1949-12-31, even 17th digit: a woman
    assert id_disagreement(number, date(1949, 12, 31), "F") is None
    assert id_disagreement(number, date(1950, 1, 1), "F") == ("birth_date", date(1949, 12, 31))
    assert id_disagreement(number, date(1949, 12, 31), "M") == ("sex", None)
    assert id_disagreement(number, None, None) is None
    assert id_disagreement("110105194913310025", None, None) == ("no_birth_date", None)
    assert id_disagreement("E12345678", date(1950, 1, 1), "M") is None  # a passport: nothing to compare
