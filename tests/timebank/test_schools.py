"""Schools: the credit rule, terms, linking students with consent, and the term reports."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from record_helpers import china, posted
from world import World

from timebank import schools
from timebank.errors import Conflict, InvalidInput, NotFound, Refused
from timebank.journal import Entry
from timebank.people import Volunteer
from timebank.regions import create_organisation
from timebank.records_review import reverse_record


def school(world: World, **rule: Any) -> schools.School:
    org = create_organisation(world.session, region_id=world.haizhou.id, kind="team", name="海州高级中学", at=world.now)
    fields: dict[str, Any] = dict(minutes_per_credit=60, rounding="floor", daily_cap_minutes=480)
    fields.update(rule)
    made = schools.register_school(world.session, organisation_id=org.id, at=world.now, **fields)
    schools.add_term(world.session, school_id=made.id, name="2026-2027 第一学期", starts_on=date(2026, 9, 1),
                     ends_on=date(2026, 11, 23), at=world.now)
    return made


def term_id(world: World, s: schools.School) -> str:
    return schools.terms_of(world.session, s.id)[0].id


def linked(world: World, s: schools.School, **kw: Any) -> Volunteer:
    volunteer = kw.pop("volunteer", None) or world.volunteer(kind="student")
    _, code = schools.invite(world.session, school_id=s.id, at=world.now)
    schools.link_student(world.session, world.writer, world.sealer, code=code, volunteer_id=volunteer.id,
                         class_name=kw.pop("class_name", "高一(3)班"), student_number="20260301", at=world.now, **kw)
    return volunteer


def report(world: World, s: schools.School, volunteer: Volunteer) -> dict[str, Any]:
    return schools.student_report(world.session, school_id=s.id, volunteer_id=volunteer.id, term_id=term_id(world, s))


def test_a_record_on_the_last_day_of_the_term_counts_and_one_on_the_next_day_does_not(world: World) -> None:
    s = school(world)
    student = linked(world, s)
    elder = world.elder()
    last = posted(world, student, elder, start=china(23, 22, 30), span=60)
    posted(world, student, elder, start=china(24, 0, 5), span=60)
    got = report(world, s, student)
    assert [r["id"] for r in got["records"]] == [last.id]
    assert got["verified_minutes"] == 60 and got["counted_minutes"] == 60 and got["credits"] == 1
    assert got["minutes_by_category"] == {"emotional": 60}
    receipt = got["records"][0]["receipt"]
    entry = world.session.get(Entry, last.deposit_entry_id)
    assert receipt == entry.receipt()


def test_the_daily_cap_applies_before_the_term_cap(world: World) -> None:
    s = school(world, daily_cap_minutes=90, term_cap_minutes=150)
    student = linked(world, s)
    elder = world.elder()
    posted(world, student, elder, start=china(16, 9), span=60)
    posted(world, student, elder, start=china(16, 14), span=60)  # day: 120 → 90
    posted(world, student, elder, start=china(17, 9), span=50)  # 90 + 50 = 140, under 150
    got = report(world, s, student)
    assert got["verified_minutes"] == 170 and got["counted_minutes"] == 140 and got["credits"] == 2
    posted(world, student, elder, start=china(18, 9), span=30)  # 170 → the term cap 150
    assert report(world, s, student)["counted_minutes"] == 150


@pytest.mark.parametrize(("minutes", "rounding", "credits"), [
    (89, "floor", 1), (89, "half_up", 1), (90, "half_up", 2), (90, "floor", 1), (59, "floor", 0), (60, "floor", 1),
    (119, "floor", 1), (120, "floor", 2),
])
def test_credits_are_rounded_by_the_rule(world: World, minutes: int, rounding: str, credits: int) -> None:
    s = school(world, rounding=rounding)
    student = linked(world, s)
    posted(world, student, world.elder(), start=china(20, 9), span=minutes)
    assert report(world, s, student)["credits"] == credits


def test_only_the_counted_catalogue_services_count_and_a_reversed_record_drops_out(world: World) -> None:
    s = school(world, counted=["emotional"])
    student = linked(world, s)
    elder = world.elder()
    visit = posted(world, student, elder, start=china(16, 9), span=60)
    posted(world, student, elder, code="MEAL", start=china(17, 9), span=60)
    got = report(world, s, student)
    assert got["verified_minutes"] == 120 and got["counted_minutes"] == 60
    assert got["minutes_by_category"] == {"daily_living": 60, "emotional": 60}
    assert {r["catalogue_code"]: r["counted"] for r in got["records"]} == {"VISIT": True, "MEAL": False}
    reverse_record(world.session, world.writer, record_id=visit.id, reason="重复登记", approver_id=world.admin.id,
                   at=world.now)
    again = report(world, s, student)
    assert again["counted_minutes"] == 0 and again["credits"] == 0 and len(again["records"]) == 1


def test_a_minor_needs_a_named_guardians_consent(world: World) -> None:
    s = school(world)
    minor = world.volunteer(kind="student", birth_date=date(2009, 11, 26))  # 17 on 2026-11-25
    _, code = schools.invite(world.session, school_id=s.id, at=world.now)
    with pytest.raises(Refused) as refused:
        schools.link_student(world.session, world.writer, world.sealer, code=code, volunteer_id=minor.id,
                             at=world.now)
    assert refused.value.details["rule"] == "guardian_consent"
    with pytest.raises(Refused):
        schools.link_student(world.session, world.writer, world.sealer, code=code, volunteer_id=minor.id,
                             guardian_consent=True, at=world.now)
    assert not schools.is_student(world.session, s.id, minor.id)
    link = schools.link_student(world.session, world.writer, world.sealer, code=code, volunteer_id=minor.id,
                                guardian_consent=True, guardian_name="陈家长", at=world.now)
    assert link.minor and schools.is_student(world.session, s.id, minor.id)
    assert "陈家长" not in (link.guardian_name_sealed or "")
    assert schools.opened(world.sealer, link)["guardian_name"] == "陈家长"


def test_an_adult_turning_18_that_day_links_without_a_guardian(world: World) -> None:
    s = school(world)
    adult = world.volunteer(kind="student", birth_date=date(2008, 11, 25))
    linked(world, s, volunteer=adult)
    assert schools.is_student(world.session, s.id, adult.id)


def test_a_code_is_one_time_expires_in_14_days_and_only_its_hash_is_kept(world: World) -> None:
    s = school(world)
    invitation, code = schools.invite(world.session, school_id=s.id, at=world.now)
    assert len(code) == 8 and code not in invitation.code_hash
    late = world.volunteer(kind="student")
    with pytest.raises(Refused, match="expired"):
        schools.link_student(world.session, world.writer, world.sealer, code=code, volunteer_id=late.id,
                             at=world.now + timedelta(days=14))
    schools.link_student(world.session, world.writer, world.sealer, code=code.lower(), volunteer_id=late.id,
                         at=world.now + timedelta(days=13))
    with pytest.raises(Refused, match="already used"):
        schools.link_student(world.session, world.writer, world.sealer, code=code,
                             volunteer_id=world.volunteer(kind="student").id, at=world.now)
    with pytest.raises(NotFound):
        schools.link_student(world.session, world.writer, world.sealer, code="ZZZZZZZZ", volunteer_id=late.id,
                             at=world.now)
    with pytest.raises(InvalidInput):
        schools.link_student(world.session, world.writer, world.sealer, code="short", volunteer_id=late.id,
                             at=world.now)


def test_linking_and_unlinking_write_school_entries_of_opaque_ids_and_keep_history(world: World) -> None:
    s = school(world)
    student = linked(world, s)
    link = schools.active_link(world.session, student.id)
    assert link is not None
    schools.unlink(world.session, world.writer, school_id=s.id, volunteer_id=student.id, by=student.id,
                   at=world.now)
    assert not schools.is_student(world.session, s.id, student.id)
    with pytest.raises(NotFound):
        report(world, s, student)
    entries = world.session.scalars(sa.select(Entry).where(Entry.type == "school")).all()
    assert {e.id for e in entries} == {link.link_entry_id, link.unlink_entry_id}
    assert world.session.get(schools.StudentLink, link.id).unlinked_by == student.id
    with pytest.raises(NotFound):
        schools.unlink(world.session, world.writer, school_id=s.id, volunteer_id=student.id, by=s.id, at=world.now)


def test_another_schools_student_is_not_seen_and_a_student_has_one_school_at_a_time(world: World) -> None:
    first, second = school(world), school(world)
    student = linked(world, first)
    assert not schools.is_student(world.session, second.id, student.id)
    with pytest.raises(NotFound):
        report(world, second, student)
    _, code = schools.invite(world.session, school_id=second.id, at=world.now)
    with pytest.raises(Refused, match="unlink first"):
        schools.link_student(world.session, world.writer, world.sealer, code=code, volunteer_id=student.id,
                             at=world.now)


def test_the_class_report_lists_the_linked_students_of_that_class(world: World) -> None:
    s = school(world)
    a, b = linked(world, s), linked(world, s)
    linked(world, s, class_name="高一(4)班")
    posted(world, a, world.elder(), start=china(20, 9), span=120)
    rows = schools.class_report(world.session, school_id=s.id, class_name="高一(3)班", term_id=term_id(world, s))
    assert {r["volunteer_id"]: r["credits"] for r in rows} == {a.id: 2, b.id: 0}


def test_the_rule_and_terms_are_checked(world: World) -> None:
    s = school(world)
    with pytest.raises(Conflict, match="overlaps"):
        schools.add_term(world.session, school_id=s.id, name="重叠", starts_on=date(2026, 11, 23),
                         ends_on=date(2026, 12, 31), at=world.now)
    schools.add_term(world.session, school_id=s.id, name="寒假", starts_on=date(2026, 11, 24),
                     ends_on=date(2027, 2, 20), at=world.now)
    with pytest.raises(InvalidInput) as bad:
        schools.add_term(world.session, school_id=s.id, name="反", starts_on=date(2027, 3, 2),
                         ends_on=date(2027, 3, 1), at=world.now)
    assert bad.value.details["field"] == "ends_on"
    for field, value in (("minutes_per_credit", 0), ("rounding", "ceil"), ("daily_cap_minutes", 2000),
                         ("counted", ["NOPE"]), ("counted", [])):
        rule: dict[str, Any] = dict(minutes_per_credit=1200, rounding="floor", daily_cap_minutes=480,
                                    term_cap_minutes=None, counted=None)
        rule[field] = value
        with pytest.raises(InvalidInput) as bad:
            schools.change_rule(world.session, school_id=s.id, at=world.now, **rule)
        assert bad.value.details["field"] == field
    with pytest.raises(Conflict):
        schools.register_school(world.session, organisation_id=s.id, minutes_per_credit=1200, at=world.now)
    changed = schools.change_rule(world.session, school_id=s.id, minutes_per_credit=1200, rounding="half_up",
                                  daily_cap_minutes=480, term_cap_minutes=None, counted=["VISIT", "daily_living"],
                                  at=world.now)
    assert changed.counted == ["VISIT", "daily_living"]
