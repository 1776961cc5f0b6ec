"""Region statistics: counted over the subtree and the period, and reconciling with the accounts."""

from __future__ import annotations

from datetime import timedelta

from record_helpers import posted
from redemption_helpers import give
from world import World

from timebank import care
from timebank.redemption import complete_redemption, request_redemption
from timebank.stats import RegionStats, bank_liability, outstanding, region_statistics


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
