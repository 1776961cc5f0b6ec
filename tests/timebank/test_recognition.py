"""Recognition: star levels at their thresholds, recorded once, reversals, annual age bands, local
schemes, awards and leaderboards."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from record_helpers import china, posted
from world import World

from ledger import store
from timebank import recognition
from timebank.errors import Conflict, InvalidInput, NotPermitted
from timebank.journal import Entry
from timebank.model import new_id
from timebank.people import Elder, Volunteer
from timebank.recognition import LevelReached, Scheme
from timebank.records import ServiceRecord
from timebank.records_review import reverse_record


def bulk(world: World, volunteer: Volunteer, elder: Elder, minutes: int,
         start: datetime | None = None) -> ServiceRecord:
    """A posted record of `minutes` written straight into the table: volume for thresholds (the
    record lifecycle itself is tested in test_records)."""
    start = start or china(2, 9)
    record = ServiceRecord(
        id=new_id("rec"), region_id=elder.region_id, bank_id=world.haizhou.id, volunteer_id=volunteer.id,
        elder_id=elder.id, catalogue_code="VISIT", started_at=start, ended_at=start + timedelta(minutes=minutes),
        minutes=minutes, details_salt="s", details_commitment="c", status="posted", submitted_by=volunteer.id,
        submitted_at=start, verified_at=start, credit_minutes=minutes)
    world.session.add(record)
    world.session.flush()
    return record


def star(world: World) -> Scheme:
    recognition.ensure_national_schemes(world.session, world.now)
    return world.session.scalars(sa.select(Scheme).where(Scheme.code == recognition.NATIONAL_STAR)).one()


def leaves(world: World, volunteer: Volunteer) -> list[dict[str, object]]:
    entries = world.session.scalars(sa.select(Entry).where(Entry.type == "recognition",
                                                           Entry.subject_id == volunteer.id).order_by(Entry.seq))
    found = []
    for entry in entries:
        (leaf,) = store.read_leaves(world.session, entry.log_id, entry.seq, entry.seq + 1)
        found.append(json.loads(leaf))
    return found


def test_the_national_star_scheme_is_seeded_once(world: World) -> None:
    recognition.ensure_national_schemes(world.session, world.now)
    recognition.ensure_national_schemes(world.session, world.now)
    schemes = recognition.list_schemes(world.session, world.now)
    assert [s.code for s in schemes] == [recognition.NATIONAL_STAR]
    assert [lv["hours"] for lv in schemes[0].levels] == [100, 300, 600, 1000, 1500]
    assert schemes[0].region_id is None and schemes[0].kind == "cumulative"


def test_exactly_100_hours_reaches_one_star_and_99_hours_59_minutes_does_not(world: World) -> None:
    volunteer, elder = world.volunteer(), world.elder()
    bulk(world, volunteer, elder, 100 * 60 - 1)
    assert recognition.evaluate(world.session, world.writer, volunteer_id=volunteer.id, at=world.now) == []
    assert recognition.current_level(world.session, volunteer_id=volunteer.id, scheme=star(world), at=world.now) is None
    bulk(world, volunteer, elder, 1, start=china(3, 9))
    (reached,) = recognition.evaluate(world.session, world.writer, volunteer_id=volunteer.id, at=world.now)
    assert (reached.level, reached.hours, reached.minutes, reached.period) == (1, 100, 6000, "")
    level = recognition.current_level(world.session, volunteer_id=volunteer.id, scheme=star(world), at=world.now)
    assert level is not None and level["name_zh"] == "1星级志愿者"


def test_a_level_is_recorded_once_with_one_ledger_entry(world: World) -> None:
    volunteer, elder = world.volunteer(), world.elder()
    bulk(world, volunteer, elder, 300 * 60)
    made = recognition.evaluate(world.session, world.writer, volunteer_id=volunteer.id, at=world.now)
    assert [r.level for r in made] == [1, 2]
    assert recognition.evaluate(world.session, world.writer, volunteer_id=volunteer.id, at=world.now) == []
    found = leaves(world, volunteer)
    assert [(leaf["scheme"], leaf["level"], leaf["hours"]) for leaf in found] == [("CN-STAR", 1, 100),
                                                                                  ("CN-STAR", 2, 300)]
    assert all(leaf["volunteer"] == volunteer.id and leaf["bank"] == world.haizhou.id for leaf in found)
    assert "张志愿" not in json.dumps(found, ensure_ascii=False)


def test_a_reversal_below_a_threshold_keeps_the_recorded_level_but_lowers_the_current_one(world: World) -> None:
    volunteer, elder = world.volunteer(), world.elder()
    bulk(world, volunteer, elder, 99 * 60)
    real = posted(world, volunteer, elder)  # the 100th hour
    assert [r.level for r in recognition.evaluate(world.session, world.writer, volunteer_id=volunteer.id,
                                                  at=world.now)] == [1]
    reverse_record(world.session, world.writer, record_id=real.id, reason="录入错误", approver_id=world.admin.id,
                   at=world.now)
    assert recognition.evaluate(world.session, world.writer, volunteer_id=volunteer.id, at=world.now) == []
    assert world.session.scalars(sa.select(LevelReached).where(LevelReached.volunteer_id == volunteer.id)).all()
    assert recognition.current_level(world.session, volunteer_id=volunteer.id, scheme=star(world), at=world.now) is None
    (national,) = recognition.standing(world.session, volunteer_id=volunteer.id, at=world.now)
    assert national["minutes"] == 99 * 60 and national["current"] is None and national["next"]["level"] == 1
    assert [(r["row"].level, r["held"]) for r in national["reached"]] == [(1, False)]


def pvsa(world: World) -> Scheme:
    bands = [(11, 17, (50, 75, 100)), (18, 150, (100, 250, 500))]
    levels = [{"level": n, "name_zh": zh, "name_en": en, "hours": hours[n - 1], "min_age": lo, "max_age": hi}
              for lo, hi, hours in bands for n, zh, en in ((1, "铜奖", "Bronze"), (2, "银奖", "Silver"), (3, "金奖", "Gold"))]
    return recognition.create_scheme(world.session, region_id=None, code="PVSA", name_zh="年度志愿服务奖",
                                     name_en="Annual service award", kind="annual", levels=levels,
                                     by=world.province_admin.id, at=world.now)


def test_an_annual_scheme_bands_by_age_a_sixteen_year_old_and_an_adult(world: World) -> None:
    pvsa(world)
    teen = world.volunteer(birth_date=date(2010, 3, 1), kind="student")
    adult = world.volunteer()
    elder = world.elder()
    for volunteer in (teen, adult):
        bulk(world, volunteer, elder, 80 * 60)
        bulk(world, volunteer, elder, 500 * 60, start=datetime(2025, 6, 1, 2, tzinfo=china(1, 0).tzinfo))
    teen_made = recognition.evaluate(world.session, world.writer, volunteer_id=teen.id, at=world.now)
    adult_made = recognition.evaluate(world.session, world.writer, volunteer_id=adult.id, at=world.now)
    this_year = sorted((r.level, r.hours) for r in teen_made if r.period == "2026" and r.scheme_id != star(world).id)
    assert this_year == [(1, 50), (2, 75)]
    assert [r for r in adult_made if r.period == "2026"] == []  # 80 h is below an adult's 100 h
    assert sorted((r.period, r.level) for r in adult_made if r.period) == [("2025", 1), ("2025", 2), ("2025", 3)]
    assert sorted(r.hours for r in teen_made if r.period == "2025") == [50, 75, 100]  # aged 15 in 2025


def test_a_local_scheme_applies_only_to_volunteers_of_its_region(world: World) -> None:
    medals = [(1, 30), (2, 60), (3, 100), (4, 200), (5, 300), (6, 600), (7, 1000), (8, 1500)]
    recognition.create_scheme(world.session, region_id=world.haizhou.id, code="ZJG", name_zh="本地星级",
                              name_en="Local stars", kind="cumulative", by=world.admin.id, at=world.now,
                              levels=[{"level": n, "name_zh": f"{n}级", "name_en": f"Level {n}", "hours": h}
                                      for n, h in medals])
    here, there = world.volunteer(), world.volunteer(region=world.suqian_community)
    elder = world.elder()
    for volunteer in (here, there):
        bulk(world, volunteer, elder, 60 * 60)
    made = recognition.evaluate(world.session, world.writer, volunteer_id=here.id, at=world.now)
    assert [r.level for r in made] == [1, 2]
    assert recognition.evaluate(world.session, world.writer, volunteer_id=there.id, at=world.now) == []
    assert [s["scheme"].code for s in recognition.standing(world.session, volunteer_id=there.id, at=world.now)] == [
        "CN-STAR"]


def test_a_scheme_with_bad_levels_or_a_taken_code_is_refused(world: World) -> None:
    def make(code: str, levels: object, kind: str = "cumulative") -> Scheme:
        return recognition.create_scheme(world.session, region_id=None, code=code, name_zh="甲", name_en="A",
                                         kind=kind, levels=levels, by=None, at=world.now)

    one = {"level": 1, "name_zh": "一", "name_en": "One", "hours": 10}
    with pytest.raises(InvalidInput, match="hours must rise"):
        make("X", [one, {**one, "level": 2, "hours": 10}])
    with pytest.raises(InvalidInput, match="annual schemes only"):
        make("X", [{**one, "min_age": 10}])
    with pytest.raises(InvalidInput, match="overlap"):
        make("X", [{**one, "min_age": 10, "max_age": 20}, {**one, "min_age": 20, "max_age": 30}], kind="annual")
    with pytest.raises(InvalidInput, match="levels must be a list"):
        make("X", [])
    make("X", [one])
    with pytest.raises(Conflict):
        make("X", [one])


def test_an_award_is_recorded_with_its_granting_unit_and_a_ledger_entry(world: World) -> None:
    volunteer = world.volunteer()
    award = recognition.grant_award(world.session, world.writer, volunteer_id=volunteer.id, name="最美志愿者",
                                    granting_unit="连云港市民政局", granted_on=date(2026, 10, 1), kind="honour",
                                    by=world.admin.id, at=world.now)
    (leaf,) = leaves(world, volunteer)
    assert leaf["award"] == award.id and leaf["kind"] == "honour" and leaf["granted_on"] == "2026-10-01"
    assert "最美" not in json.dumps(leaf, ensure_ascii=False)
    assert [a.name for a in recognition.awards_of(world.session, volunteer.id)] == ["最美志愿者"]


def test_an_award_needs_an_administrator_covering_the_volunteer(world: World) -> None:
    volunteer = world.volunteer(region=world.suqian_community)
    for by in (world.admin.id, world.coordinator.id):
        with pytest.raises(NotPermitted):
            recognition.grant_award(world.session, world.writer, volunteer_id=volunteer.id, name="敬老文明号",
                                    granting_unit="宿迁市", granted_on=date(2026, 10, 1), kind="honour", by=by,
                                    at=world.now)
    with pytest.raises(InvalidInput, match="future"):
        recognition.grant_award(world.session, world.writer, volunteer_id=volunteer.id, name="敬老文明号",
                                granting_unit="宿迁市", granted_on=date(2027, 1, 1), kind="honour",
                                by=world.province_admin.id, at=world.now)


def test_a_leaderboard_shows_only_opted_in_volunteers_under_a_chosen_or_masked_name(world: World) -> None:
    chosen, plain, shy = world.volunteer(), world.volunteer(name="欧阳明"), world.volunteer()
    away = world.volunteer(region=world.suqian_community)
    elder = world.elder()
    for volunteer, hours in ((chosen, 5), (plain, 9), (shy, 20), (away, 30)):
        bulk(world, volunteer, elder, hours * 60, start=china(10, 9))
    bulk(world, chosen, elder, 100 * 60, start=china(1, 9) - timedelta(days=40))  # before the period
    for volunteer, name in ((chosen, "小太阳"), (plain, None), (away, "远方")):
        recognition.set_leaderboard_opt_in(world.session, world.sealer, volunteer_id=volunteer.id, on=True,
                                           display_name=name, at=world.now)
    recognition.set_leaderboard_opt_in(world.session, world.sealer, volunteer_id=shy.id, on=False, display_name=None,
                                       at=world.now)
    board = recognition.leaderboard(world.session, region_id=world.haizhou.id, start=date(2026, 11, 1),
                                    end=date(2026, 11, 30), limit=10)
    assert board == [{"rank": 1, "display_name": "欧**", "minutes": 540},
                     {"rank": 2, "display_name": "小太阳", "minutes": 300}]
    recognition.set_leaderboard_opt_in(world.session, world.sealer, volunteer_id=plain.id, on=False,
                                       display_name=None, at=world.now)
    whole = recognition.leaderboard(world.session, region_id=world.province.id, start=date(2026, 11, 1),
                                    end=date(2026, 11, 30))
    assert [row["display_name"] for row in whole] == ["远方", "小太阳"]
