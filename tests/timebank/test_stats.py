"""Region statistics: counted over the subtree and the period, and reconciling with the accounts."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from record_helpers import china, posted, submit
from redemption_helpers import give
from world import World

from timebank import care
from timebank.errors import InvalidInput
from timebank.people import Elder, Volunteer
from timebank.records_confirm import confirm_with_code
from timebank.records_review import verify_record
from timebank.redemption import complete_redemption, request_redemption
from timebank.stats import (
    RegionStats,
    bank_liability,
    credit_by_child_region,
    credit_by_period,
    outstanding,
    records_started,
    region_statistics,
)


def figures(world: World, region_id: str | None = None, days: int = 30) -> RegionStats:
    return region_statistics(world.session, region_id=region_id or world.haizhou.id,
                             start=world.now - timedelta(days=days), end=world.now + timedelta(seconds=1),
                             at=world.now)


def test_a_posted_record_counts_in_its_region_and_above_but_not_elsewhere(world: World) -> None:
    volunteer, elder = world.volunteer(kind="student"), world.elder(tags=["living_alone"])
    record = posted(world, volunteer, elder)
    here = figures(world)
    assert here.volunteers_by_kind == {"student": 1}
    assert here.records_posted == 1 and here.service_minutes == 60 and here.deposited_minutes == record.credit_minutes
    assert here.deposited_by_catalogue == {"VISIT": record.credit_minutes}
    assert here.elders_served == 1 and here.elders_served_by_tag == {"living_alone": 1}
    assert figures(world, world.lyg.id).deposited_minutes == record.credit_minutes  # the city above
    elsewhere = figures(world, world.suqian.id)
    assert (elsewhere.records_posted, elsewhere.volunteers, elsewhere.elders) == (0, 0, 0)


def test_records_outside_the_period_are_not_counted(world: World) -> None:
    posted(world, world.volunteer(), world.elder())
    later = region_statistics(world.session, region_id=world.haizhou.id, start=world.now + timedelta(days=1),
                              end=world.now + timedelta(days=2), at=world.now)
    assert later.records_posted == 0 and later.deposited_minutes == 0


def test_outstanding_credit_equals_the_banks_liability_and_redemptions_are_counted(world: World) -> None:
    volunteer, elder = world.volunteer(), world.elder()
    posted(world, volunteer, elder, span=90)
    give(world, elder, 120)
    held = request_redemption(world.session, world.writer, redeemer_id=elder.id, catalogue_code="MEAL", minutes=60,
                              region_id=world.community.id, requested_by=elder.id, at=world.now)
    complete_redemption(world.session, world.writer, redemption_id=held.id, completed_by=world.coordinator.id,
                        provider_volunteer_id=volunteer.id, at=world.now)
    stats = figures(world)
    assert stats.redeemed_minutes == 60 and stats.redemptions_completed == 1
    # every credit minute the bank issued is held by its people: nothing is in escrow or backstop
    assert stats.outstanding_minutes == outstanding(world.session, world.haizhou) == 90 + 120
    assert stats.bank_liability_minutes == bank_liability(world.session, world.haizhou) == 90 + 120


def test_visit_compliance_is_summarised(world: World) -> None:
    elder, carer = world.elder(), world.volunteer()
    monday = (world.now + timedelta(hours=8)).date() - timedelta(days=(world.now + timedelta(hours=8)).weekday())
    care.sign_agreement(world.session, world.writer, world.sealer, elder_id=elder.id, carer_kind="volunteer",
                        carer_id=carer.id, signed_by=world.coordinator.id, starts_on=monday - timedelta(days=14),
                        at=world.now - timedelta(days=14))
    stats = figures(world)
    assert stats.agreements == 1 and stats.agreements_behind == 1
    assert stats.monthly_visit_rate == (0, 1)
    care.log_contact(world.session, world.sealer, agreement_id=care.agreements_of(world.session, elder.id)[0].id,
                     kind="visit", happened_at=world.now - timedelta(hours=1), by=carer.id, at=world.now)
    assert figures(world).monthly_visit_rate == (1, 1)


# --- the dashboard's series -------------------------------------------------------------------------

def _posted_at(world: World, volunteer: Volunteer, elder: Elder, at: datetime, *, span: int = 60,
               code: str = "VISIT") -> int:
    """A record of `span` minutes that ended an hour before `at`, confirmed and verified at `at`: its credit."""
    record, pin = submit(world, volunteer, elder, start=at - timedelta(minutes=span + 60), span=span, code=code, at=at)
    assert pin is not None
    confirm_with_code(world.session, world.writer, record_id=record.id, code=pin, at=at)
    done = verify_record(world.session, world.writer, record_id=record.id, staff_id=world.coordinator.id, at=at)
    return int(done.credit_minutes or 0)


def test_credit_is_summed_by_china_week_with_empty_weeks_listed(world: World) -> None:
    volunteer, elder = world.volunteer(), world.elder()
    first = _posted_at(world, volunteer, elder, china(16, 12), span=90)  # Monday the 16th
    second = _posted_at(world, volunteer, elder, china(24, 12), span=30)  # Tuesday the 24th
    third = _posted_at(world, volunteer, elder, china(25, 12), span=60)
    weeks = credit_by_period(world.session, region_id=world.haizhou.id, start=china(2, 0), end=china(26, 0))
    assert weeks == [(date(2026, 11, 2), 0), (date(2026, 11, 9), 0), (date(2026, 11, 16), first),
                     (date(2026, 11, 23), second + third)]
    months = credit_by_period(world.session, region_id=world.haizhou.id, start=china(2, 0), end=china(26, 0),
                              bucket="month")
    assert months == [(date(2026, 11, 1), first + second + third)]
    assert credit_by_period(world.session, region_id=world.suqian.id, start=china(2, 0), end=china(26, 0))[-1][1] == 0


def test_a_day_just_after_midnight_china_time_falls_in_its_china_week(world: World) -> None:
    volunteer, elder = world.volunteer(), world.elder()
    # 00:30 on Monday the 23rd in China is 16:30 on Sunday the 22nd in UTC
    credit = _posted_at(world, volunteer, elder, china(23, 0, 30) + timedelta(hours=2), span=30)
    weeks = dict(credit_by_period(world.session, region_id=world.haizhou.id, start=china(16, 0), end=china(26, 0)))
    assert weeks == {date(2026, 11, 16): 0, date(2026, 11, 23): credit}


def test_credit_by_child_region_sums_each_childs_subtree_and_the_region_itself(world: World) -> None:
    volunteer = world.volunteer()
    in_grid = _posted_at(world, volunteer, world.elder(world.grid), china(24, 12))
    in_community = _posted_at(world, volunteer, world.elder(), china(25, 12), code="MEAL", span=45)
    in_county = _posted_at(world, world.volunteer(), world.elder(world.haizhou), china(25, 15), span=30)
    rows = credit_by_child_region(world.session, region_id=world.haizhou.id, start=china(1, 0), end=china(26, 0))
    assert [(region.id, minutes) for region, minutes in rows] == [
        (world.haizhou.id, in_county), (world.street.id, in_grid + in_community)]
    below = credit_by_child_region(world.session, region_id=world.community.id, start=china(1, 0), end=china(26, 0))
    assert [(region.id, minutes) for region, minutes in below] == [(world.community.id, in_community),
                                                                   (world.grid.id, in_grid)]


def test_the_series_refuse_a_bad_bucket_or_an_empty_period(world: World) -> None:
    with pytest.raises(InvalidInput):
        credit_by_period(world.session, region_id=world.haizhou.id, start=china(1, 0), end=china(2, 0), bucket="day")
    with pytest.raises(InvalidInput):
        credit_by_period(world.session, region_id=world.haizhou.id, start=china(2, 0), end=china(2, 0))


def test_records_started_in_a_period_are_listed_whatever_their_status(world: World) -> None:
    volunteer, elder = world.volunteer(), world.elder()
    _posted_at(world, volunteer, elder, china(25, 12))  # submitted at noon
    waiting, _ = submit(world, volunteer, elder, start=china(24, 9), at=china(25, 13))  # submitted later
    found = records_started(world.session, region_id=world.haizhou.id, start=china(24, 0), end=china(26, 0))
    assert [r.status for r in found] == ["posted", "submitted"] and found[1].id == waiting.id
    assert records_started(world.session, region_id=world.suqian.id, start=china(24, 0), end=china(26, 0)) == []
