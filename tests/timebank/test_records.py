"""Service records: submission guards, confirmation, verification into credit, disputes, reversal,
ratings and complaints; every refusal leaves everything as it was, and no leaf holds personal data."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from record_helpers import china, confirmed, pair, posted, submit
from world import World

from ledger import store
from timebank import accounts, journal, people, policy
from timebank.errors import Conflict, InsufficientCredit, InvalidInput, NotFound, NotPermitted, Refused
from timebank.people import Volunteer
from timebank.records import RecordEvent, ServiceRecord, commitment_parts, confirm_deadline, opened
from timebank.records_confirm import WrongCode, confirm_as_proxy, confirm_as_witness, confirm_with_code, new_code
from timebank.records_feedback import complain, rate_record
from timebank.records_queries import complaints_of, events_of, queue, records_of_volunteer
from timebank.records_review import (
    dispute_record,
    reject_record,
    resolve_dispute,
    reverse_record,
    verify_many,
    verify_record,
)

PLACE = "朝阳社区3号楼502室"
NOTES = "陪老人聊天，量了血压"


def set_policy(world: World, **changes: Any) -> int:
    return policy.set_policy(world.session, world.writer, region_id=world.haizhou.id, changes=changes,
                             set_by=world.admin.id, at=world.now).version


def train(world: World, volunteer: Volunteer, code: str) -> None:
    people.add_training(world.session, volunteer_id=volunteer.id, course="助浴培训", study_minutes=240,
                        provider="海州区民政局", completed_on=world.now.date(), recorded_by=world.coordinator.id,
                        at=world.now, certifies=[code])


def leaves(world: World, log_id: str = "haizhou") -> list[dict[str, Any]]:
    size = store.stored_size(world.session, log_id)
    return [json.loads(data) for data in store.read_leaves(world.session, log_id, 0, size)]


def leaf_of(world: World, entry_id: str | None) -> dict[str, Any]:
    entry = world.session.get(journal.Entry, entry_id)
    assert entry is not None
    return leaves(world, entry.log_id)[entry.seq]


def state(world: World, volunteer: Volunteer) -> tuple[int, ...]:
    """Everything a refusal must leave alone."""
    s = world.session
    return (
        s.scalar(sa.select(sa.func.count()).select_from(ServiceRecord)) or 0,
        s.scalar(sa.select(sa.func.count()).select_from(RecordEvent)) or 0,
        s.scalar(sa.select(sa.func.count()).select_from(journal.Entry)) or 0,
        store.stored_size(s, "haizhou"),
        store.stored_size(s, "suqian"),
        accounts.person_balance(s, volunteer.id),
        accounts.person_balance(s, volunteer.id, unit="point"),
    )


def statuses(world: World) -> list[tuple[str, str | None]]:
    return [(r.status, r.disputed_from) for r in world.session.scalars(sa.select(ServiceRecord).order_by(
        ServiceRecord.id))]


def refused(world: World, volunteer: Volunteer, error: type[Exception], action: Callable[[], object]) -> Any:
    """Run `action`, expect `error`, and check that nothing changed."""
    before, before_statuses = state(world, volunteer), statuses(world)
    with pytest.raises(error) as caught:
        action()
    assert state(world, volunteer) == before
    assert statuses(world) == before_statuses
    return caught.value


# --- the whole lifecycle ------------------------------------------------------------------------

def test_a_record_goes_from_submission_through_code_confirmation_to_weighted_credit_and_points(world: World) -> None:
    volunteer, elder = pair(world)
    train(world, volunteer, "BATH")
    record, code = submit(world, volunteer, elder, code="BATH", span=50, place=PLACE, notes=NOTES)
    assert record.status == "submitted" and record.minutes == 50 and code is not None and len(code) == 6
    assert record.confirm_code_hash != code and code not in (record.confirm_code_hash or "")
    assert opened(world.sealer, record) == {"place": PLACE, "notes": NOTES, "comment": None}

    confirm_with_code(world.session, world.writer, record_id=record.id, code=code, at=world.now)
    assert (record.status, record.confirmed_kind, record.confirmed_by) == ("confirmed", "code", elder.id)
    verify_record(world.session, world.writer, record_id=record.id, staff_id=world.coordinator.id, at=world.now)

    assert record.status == "posted"
    assert (record.credit_minutes, record.points) == (60, 1)  # 50 minutes × 1.2, 1 point an hour
    assert accounts.person_balance(world.session, volunteer.id) == 60
    assert accounts.person_balance(world.session, volunteer.id, unit="point") == 1
    assert [e.event for e in events_of(world.session, record.id)] == ["submitted", "confirmed", "verified"]

    log = leaves(world)
    kinds = [(leaf["type"], leaf.get("event")) for leaf in log if leaf.get("record") == record.id]
    assert kinds == [("record", "submitted"), ("record", "confirmed"), ("deposit", None)]
    submitted = next(leaf for leaf in log if leaf.get("event") == "submitted")
    assert submitted["started"] == "2026-11-24T01:00:00Z" and submitted["ended"] == "2026-11-24T01:50:00Z"
    assert journal.check_commitment(record.details_salt, submitted["details_commitment"], PLACE, NOTES)
    deposit = leaf_of(world, record.deposit_entry_id)
    assert (deposit["credit_minutes"], deposit["points"], deposit["weight_pct"]) == (60, 1, 120)
    assert journal.check_commitment(record.record_salt or "", deposit["record_commitment"], *commitment_parts(record))
    sums: dict[str, int] = defaultdict(int)
    for posting in deposit["postings"]:
        sums[posting["unit"]] += posting["amount"]
    assert dict(sums) == {"credit": 0, "point": 0} and len(deposit["postings"]) == 4


def test_a_volunteer_serving_an_elder_of_another_bank_is_credited_at_home(world: World) -> None:
    volunteer = world.volunteer()
    elder = world.elder(world.suqian_community)
    record = confirmed(world, volunteer, elder)
    verify_record(world.session, world.writer, record_id=record.id, staff_id=world.suqian_coordinator.id,
                  at=world.now)
    assert record.bank_id == world.suqian.id
    assert [leaf.get("event") for leaf in leaves(world, "suqian") if leaf.get("record") == record.id] == [
        "submitted", "confirmed"]
    assert leaf_of(world, record.deposit_entry_id)["bank"] == world.haizhou.id
    assert accounts.person_balance(world.session, volunteer.id) == 60


def test_an_elders_bank_may_refuse_volunteers_of_other_banks(world: World) -> None:
    volunteer = world.volunteer()
    elder = world.elder(world.suqian_community)
    policy.set_policy(world.session, world.writer, region_id=world.suqian.id,
                      changes={"accepted_banks": [world.suqian.id]}, set_by=world.province_admin.id, at=world.now)
    error = refused(world, volunteer, Refused, lambda: submit(world, volunteer, elder))
    assert error.details["rule"] == "accepted_banks"


def test_queries_list_a_volunteers_records_and_a_coordinators_queue(world: World) -> None:
    volunteer, elder = pair(world)
    first = confirmed(world, volunteer, elder)
    second, _ = submit(world, volunteer, elder, start=china(24, 14))
    assert [r.id for r in records_of_volunteer(world.session, volunteer.id)] == [second.id, first.id]
    assert [r.id for r in records_of_volunteer(world.session, volunteer.id, status="confirmed")] == [first.id]
    assert [r.id for r in queue(world.session, region_id=world.street.id)] == [first.id]
    assert queue(world.session, region_id=world.suqian.id) == []
    with pytest.raises(InvalidInput):
        records_of_volunteer(world.session, volunteer.id, status="lost")


def test_staff_may_submit_for_a_volunteer_but_a_stranger_may_not(world: World) -> None:
    volunteer, elder = pair(world)
    record, _ = submit(world, volunteer, elder, submitted_by=world.coordinator.id)
    assert events_of(world.session, record.id)[0].on_behalf_of == volunteer.id
    refused(world, volunteer, NotPermitted,
            lambda: submit(world, volunteer, elder, start=china(24, 14), submitted_by=world.suqian_coordinator.id))


# --- submission guards ------------------------------------------------------------------------

def test_exactly_the_daily_cap_passes_and_one_minute_more_is_refused(world: World) -> None:
    volunteer, elder = pair(world)
    submit(world, volunteer, elder, start=china(24, 8), span=240)
    submit(world, volunteer, elder, start=china(24, 13), span=300, minutes=240)  # 480: exactly the cap
    error = refused(world, volunteer, Refused, lambda: submit(world, volunteer, elder, start=china(24, 19), span=1))
    assert error.details["rule"] == "daily_cap_minutes"
    submit(world, volunteer, elder, start=china(23, 19), span=1)  # another China day


def test_the_daily_cap_counts_china_days_not_utc_days(world: World) -> None:
    volunteer, elder = pair(world)
    set_policy(world, daily_cap_minutes=60)
    submit(world, volunteer, elder, start=china(24, 0, 30), span=60)  # 23 Nov 16:30 UTC, 24 Nov in China
    error = refused(world, volunteer, Refused, lambda: submit(world, volunteer, elder, start=china(24, 10), span=5))
    assert error.details["rule"] == "daily_cap_minutes"


def test_a_rejected_record_no_longer_counts_towards_the_cap(world: World) -> None:
    volunteer, elder = pair(world)
    set_policy(world, daily_cap_minutes=60)
    record, _ = submit(world, volunteer, elder)
    reject_record(world.session, world.writer, record_id=record.id, staff_id=world.coordinator.id,
                  reason="时间填错", at=world.now)
    assert submit(world, volunteer, elder)[0].status == "submitted"


def test_overlapping_records_are_refused_unless_policy_allows_them(world: World) -> None:
    volunteer, elder = pair(world)
    submit(world, volunteer, elder, start=china(24, 9))
    error = refused(world, volunteer, Refused, lambda: submit(world, volunteer, elder, start=china(24, 9, 30)))
    assert error.details["rule"] == "allow_overlap"
    submit(world, volunteer, elder, start=china(24, 10))  # touching is not overlapping
    set_policy(world, allow_overlap=True)
    assert submit(world, volunteer, elder, start=china(24, 9, 30))[0].status == "submitted"


def test_a_service_ending_in_the_future_is_refused(world: World) -> None:
    volunteer, elder = pair(world)
    error = refused(world, volunteer, Refused,
                    lambda: submit(world, volunteer, elder, start=world.now - timedelta(minutes=30)))
    assert error.details["rule"] == "future_time"


def test_the_deadline_counts_working_days_only(world: World) -> None:
    volunteer, elder = pair(world)
    # a Friday service, submitted the next Wednesday: three working days later (the weekend is free)
    set_policy(world, confirm_deadline_working_days=2)
    error = refused(world, volunteer, Refused, lambda: submit(world, volunteer, elder, start=china(20, 9)))
    assert error.details["rule"] == "confirm_deadline_working_days"
    set_policy(world, confirm_deadline_working_days=3)
    assert submit(world, volunteer, elder, start=china(20, 9))[0].status == "submitted"


def test_a_saturday_service_with_one_working_day_is_late_from_tuesday_in_china(world: World) -> None:
    volunteer, elder = pair(world)
    set_policy(world, confirm_deadline_working_days=1)
    assert confirm_deadline(china(21, 9), 1) == china(24, 0)
    refused(world, volunteer, Refused, lambda: submit(world, volunteer, elder, start=china(21, 9), at=china(24, 0)))
    assert submit(world, volunteer, elder, start=china(21, 9), at=china(23, 23, 59))[0].status == "submitted"


def test_an_item_volunteers_may_not_give_is_refused(world: World) -> None:
    volunteer, elder = pair(world)
    error = refused(world, volunteer, Refused, lambda: submit(world, volunteer, elder, code="NURSING"))
    assert error.details["rule"] == "volunteer_eligible"


def test_bathing_needs_training_first(world: World) -> None:
    volunteer, elder = pair(world)
    error = refused(world, volunteer, Refused, lambda: submit(world, volunteer, elder, code="BATH"))
    assert error.details["rule"] == "training_required"
    train(world, volunteer, "BATH")
    assert submit(world, volunteer, elder, code="BATH")[0].status == "submitted"


def test_a_suspended_volunteer_cannot_submit(world: World) -> None:
    volunteer, elder = pair(world)
    people.set_status(world.session, world.writer, subject_id=volunteer.id, status="suspended", by=world.admin.id,
                      at=world.now, reason="投诉核查中")
    error = refused(world, volunteer, Refused, lambda: submit(world, volunteer, elder))
    assert error.details["rule"] == "volunteer_status"


def test_bad_times_and_minutes_are_invalid(world: World) -> None:
    volunteer, elder = pair(world)
    error = refused(world, volunteer, InvalidInput, lambda: submit(world, volunteer, elder, minutes=61))
    assert error.details["field"] == "minutes"
    refused(world, volunteer, InvalidInput, lambda: submit(world, volunteer, elder, span=0))
    refused(world, volunteer, InvalidInput, lambda: submit(world, volunteer, elder, start=datetime(2026, 11, 24, 9)))
    refused(world, volunteer, NotFound, lambda: submit(world, volunteer, elder, code="NOPE"))


# --- confirmation -------------------------------------------------------------------------------

def test_a_wrong_code_is_refused_and_counted(world: World) -> None:
    volunteer, elder = pair(world)
    record, code = submit(world, volunteer, elder)
    wrong = "000000" if code != "000000" else "111111"
    error = refused(world, volunteer, WrongCode,
                    lambda: confirm_with_code(world.session, world.writer, record_id=record.id, code=wrong,
                                              at=world.now))
    assert error.details == {"rule": "confirm_code", "attempts_left": 4}
    assert record.confirm_attempts == 1 and record.status == "submitted"


def test_five_wrong_codes_lock_the_record_until_a_new_code(world: World) -> None:
    volunteer, elder = pair(world)
    record, code = submit(world, volunteer, elder)
    assert code is not None
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(WrongCode):
            confirm_with_code(world.session, world.writer, record_id=record.id, code=wrong, at=world.now)
    error = refused(world, volunteer, Refused,
                    lambda: confirm_with_code(world.session, world.writer, record_id=record.id, code=code,
                                              at=world.now))
    assert error.details["rule"] == "confirm_attempts"
    fresh = new_code(world.session, record_id=record.id, requested_by=volunteer.id, at=world.now)
    assert record.confirm_attempts == 0
    if fresh != code:  # the old code died with the new one
        refused(world, volunteer, WrongCode,
                lambda: confirm_with_code(world.session, world.writer, record_id=record.id, code=code, at=world.now))
    assert confirm_with_code(world.session, world.writer, record_id=record.id, code=fresh,
                             at=world.now).status == "confirmed"


def test_an_expired_code_is_refused_and_a_new_one_works(world: World) -> None:
    volunteer, elder = pair(world)
    set_policy(world, confirm_deadline_working_days=1)
    record, code = submit(world, volunteer, elder)  # Tuesday's service: the code dies Thursday 00:00 China time
    assert record.confirm_code_expires_at == china(26, 0) and code is not None
    set_policy(world, confirm_deadline_working_days=10)
    error = refused(world, volunteer, Refused,
                    lambda: confirm_with_code(world.session, world.writer, record_id=record.id, code=code,
                                              at=china(26, 10)))
    assert error.details["rule"] == "confirm_code_expired"
    fresh = new_code(world.session, record_id=record.id, requested_by=volunteer.id, at=china(26, 10))
    confirm_with_code(world.session, world.writer, record_id=record.id, code=fresh, at=china(26, 10))
    assert [e.event for e in events_of(world.session, record.id)] == ["submitted", "code_issued", "confirmed"]


def test_confirming_after_the_deadline_is_refused(world: World) -> None:
    volunteer, elder = pair(world)
    record, code = submit(world, volunteer, elder)
    assert code is not None
    late = confirm_deadline(record.ended_at, 10)
    error = refused(world, volunteer, Refused,
                    lambda: confirm_with_code(world.session, world.writer, record_id=record.id, code=code, at=late))
    assert error.details["rule"] == "confirm_deadline_working_days"
    refused(world, volunteer, Refused,
            lambda: confirm_as_witness(world.session, world.writer, record_id=record.id,
                                       staff_id=world.coordinator.id, at=late))


def test_confirming_twice_is_refused(world: World) -> None:
    volunteer, elder = pair(world)
    record = confirmed(world, volunteer, elder)
    refused(world, volunteer, Conflict,
            lambda: confirm_as_witness(world.session, world.writer, record_id=record.id,
                                       staff_id=world.coordinator.id, at=world.now))


def test_a_relative_may_confirm_for_the_elder_only_with_the_right_to(world: World) -> None:
    volunteer, elder = pair(world)
    record, _ = submit(world, volunteer, elder)
    barred = people.add_relative(world.session, world.sealer, elder_id=elder.id, relation="child", name="刘小明",
                                 at=world.now, may_confirm=False)
    refused(world, volunteer, NotPermitted,
            lambda: confirm_as_proxy(world.session, world.writer, record_id=record.id, relative_id=barred.id,
                                     at=world.now))
    son = people.add_relative(world.session, world.sealer, elder_id=elder.id, relation="child", name="刘小刚",
                              at=world.now)
    confirm_as_proxy(world.session, world.writer, record_id=record.id, relative_id=son.id, at=world.now)
    assert (record.confirmed_kind, record.confirmed_by, record.on_behalf_of) == ("proxy", son.id, elder.id)
    assert leaf_of(world, events_of(world.session, record.id)[-1].entry_id)["on_behalf_of"] == elder.id


def test_a_relative_who_is_the_volunteer_may_not_confirm_their_own_record(world: World) -> None:
    volunteer, elder = pair(world)
    record, _ = submit(world, volunteer, elder)
    daughter = people.add_relative(world.session, world.sealer, elder_id=elder.id, relation="child", name="张志愿",
                                   at=world.now, person_id=volunteer.id)
    error = refused(world, volunteer, Refused,
                    lambda: confirm_as_proxy(world.session, world.writer, record_id=record.id,
                                             relative_id=daughter.id, at=world.now))
    assert error.details["rule"] == "self_confirmation_allowed"
    set_policy(world, self_confirmation_allowed=True)
    confirm_as_proxy(world.session, world.writer, record_id=record.id, relative_id=daughter.id, at=world.now)
    assert record.status == "confirmed"


def test_a_witness_must_cover_the_elders_region(world: World) -> None:
    volunteer, elder = pair(world)
    record, _ = submit(world, volunteer, elder)
    refused(world, volunteer, NotPermitted,
            lambda: confirm_as_witness(world.session, world.writer, record_id=record.id,
                                       staff_id=world.suqian_coordinator.id, at=world.now))
    confirm_as_witness(world.session, world.writer, record_id=record.id, staff_id=world.coordinator.id, at=world.now)
    assert (record.confirmed_kind, record.on_behalf_of) == ("witness", elder.id)


def test_staff_who_submitted_a_record_may_not_witness_it(world: World) -> None:
    volunteer, elder = pair(world)
    record, _ = submit(world, volunteer, elder, submitted_by=world.coordinator.id)
    error = refused(world, volunteer, Refused,
                    lambda: confirm_as_witness(world.session, world.writer, record_id=record.id,
                                               staff_id=world.coordinator.id, at=world.now))
    assert error.details["rule"] == "self_confirmation_allowed"


# --- verification and credit --------------------------------------------------------------------

def test_verifying_before_confirmation_is_refused(world: World) -> None:
    volunteer, elder = pair(world)
    record, _ = submit(world, volunteer, elder)
    refused(world, volunteer, Conflict,
            lambda: verify_record(world.session, world.writer, record_id=record.id, staff_id=world.coordinator.id,
                                  at=world.now))


def test_verifying_twice_is_refused(world: World) -> None:
    volunteer, elder = pair(world)
    record = posted(world, volunteer, elder)
    refused(world, volunteer, Conflict,
            lambda: verify_record(world.session, world.writer, record_id=record.id, staff_id=world.admin.id,
                                  at=world.now))


def test_staff_out_of_region_may_not_verify(world: World) -> None:
    volunteer, elder = pair(world)
    record = confirmed(world, volunteer, elder)
    refused(world, volunteer, NotPermitted,
            lambda: verify_record(world.session, world.writer, record_id=record.id,
                                  staff_id=world.suqian_coordinator.id, at=world.now))


def test_paid_work_is_recorded_but_earns_nothing_unless_policy_says_so(world: World) -> None:
    volunteer, elder = pair(world)
    record = posted(world, volunteer, elder, paid=True)
    assert (record.status, record.credit_minutes, record.points) == ("posted", 0, 0)
    deposit = leaf_of(world, record.deposit_entry_id)
    assert deposit["no_credit"] == "paid" and "postings" not in deposit
    assert accounts.person_balance(world.session, volunteer.id) == 0
    set_policy(world, paid_work_earns=True)
    assert posted(world, volunteer, elder, paid=True, start=china(24, 14)).credit_minutes == 60


def test_serving_ones_own_household_earns_only_when_policy_allows(world: World) -> None:
    volunteer, elder = pair(world)
    people.add_relative(world.session, world.sealer, elder_id=elder.id, relation="child", name="张志愿",
                        at=world.now, person_id=volunteer.id, same_household=True)
    record = posted(world, volunteer, elder)
    assert record.credit_minutes == 0
    assert leaf_of(world, record.deposit_entry_id)["no_credit"] == "own_household"
    set_policy(world, own_household_earns=True)
    assert posted(world, volunteer, elder, start=china(24, 14)).credit_minutes == 60
    assert accounts.person_balance(world.session, volunteer.id) == 60


def test_a_policy_weight_overrides_the_catalogue_and_the_deposit_names_the_version(world: World) -> None:
    volunteer, elder = pair(world)
    version = set_policy(world, weights={"VISIT": 150})
    record = posted(world, volunteer, elder)
    deposit = leaf_of(world, record.deposit_entry_id)
    assert (record.credit_minutes, record.points, record.policy_version) == (90, 1, version)
    assert (deposit["weight_pct"], deposit["credit_minutes"], deposit["policy"]) == (150, 90, version)


@pytest.mark.parametrize(("rounding", "minutes", "credit"), [
    ("half_up", 45, 50), ("floor", 45, 49), ("ceil", 45, 50),
    ("half_up", 41, 45), ("floor", 41, 45), ("ceil", 41, 46),
])
def test_weighted_minutes_are_rounded_by_the_policys_rule(world: World, rounding: str, minutes: int,
                                                         credit: int) -> None:
    volunteer, elder = pair(world)
    set_policy(world, weights={"VISIT": 110}, rounding=rounding)
    assert posted(world, volunteer, elder, span=minutes).credit_minutes == credit


def test_points_follow_the_policys_rate(world: World) -> None:
    volunteer, elder = pair(world)
    set_policy(world, points_per_hour=10)
    record = posted(world, volunteer, elder, span=90)
    assert (record.credit_minutes, record.points) == (90, 15)
    assert accounts.person_balance(world.session, volunteer.id, unit="point") == 15


def test_a_retried_verification_with_its_key_posts_once(world: World) -> None:
    volunteer, elder = pair(world)
    record = confirmed(world, volunteer, elder)
    first = verify_record(world.session, world.writer, record_id=record.id, staff_id=world.coordinator.id,
                          at=world.now, idempotency_key="verify-1")
    size = store.stored_size(world.session, "haizhou")
    again = verify_record(world.session, world.writer, record_id=record.id, staff_id=world.coordinator.id,
                          at=world.now, idempotency_key="verify-1")
    assert again is first and store.stored_size(world.session, "haizhou") == size
    assert accounts.person_balance(world.session, volunteer.id) == 60


def test_a_retried_submission_with_its_key_returns_the_first_record_without_a_code(world: World) -> None:
    volunteer, elder = pair(world)
    record, code = submit(world, volunteer, elder, idempotency_key="submit-1", notes=NOTES)
    assert code is not None
    before = state(world, volunteer)
    again, no_code = submit(world, volunteer, elder, idempotency_key="submit-1", notes=NOTES)
    assert (again, no_code) == (record, None) and state(world, volunteer) == before
    refused(world, volunteer, Conflict,
            lambda: submit(world, volunteer, elder, idempotency_key="submit-1", start=china(24, 14)))


def test_bulk_verification_posts_the_good_records_and_reports_the_bad(world: World) -> None:
    volunteer, elder = pair(world)
    good = [confirmed(world, volunteer, elder, start=china(24, h)) for h in (8, 10)]
    waiting, _ = submit(world, volunteer, elder, start=china(24, 12))
    outcomes = verify_many(world.session, world.writer, record_ids=[good[0].id, "rec_nope", waiting.id, good[1].id],
                           staff_id=world.coordinator.id, at=world.now)
    assert [o.ok for o in outcomes] == [True, False, False, True]
    assert isinstance(outcomes[1].error, NotFound) and isinstance(outcomes[2].error, Conflict)
    assert [r.status for r in good] == ["posted", "posted"] and waiting.status == "submitted"
    assert accounts.person_balance(world.session, volunteer.id) == 120


# --- reversal -----------------------------------------------------------------------------------

def test_a_reversal_takes_the_credit_back_and_names_the_deposit(world: World) -> None:
    volunteer, elder = pair(world)
    record = posted(world, volunteer, elder)
    deposit = world.session.get(journal.Entry, record.deposit_entry_id)
    assert deposit is not None
    refused(world, volunteer, NotPermitted,
            lambda: reverse_record(world.session, world.writer, record_id=record.id, reason="重复登记",
                                   approver_id=world.coordinator.id, at=world.now))
    reverse_record(world.session, world.writer, record_id=record.id, reason="重复登记", approver_id=world.admin.id,
                   at=world.now)
    assert record.status == "reversed" and record.reversal_approver == world.admin.id
    assert accounts.person_balance(world.session, volunteer.id) == 0
    assert accounts.person_balance(world.session, volunteer.id, unit="point") == 0
    reversal = leaf_of(world, record.reversal_entry_id)
    assert reversal["type"] == "reversal" and reversal["corrects"] == deposit.seq
    original = {(p["account"], p["amount"]) for p in leaf_of(world, deposit.id)["postings"]}
    assert {(p["account"], -p["amount"]) for p in reversal["postings"]} == original
    assert journal.check_commitment(record.reversal_salt or "", reversal["reason_commitment"], "重复登记")
    refused(world, volunteer, Conflict,
            lambda: reverse_record(world.session, world.writer, record_id=record.id, reason="再来一次",
                                   approver_id=world.admin.id, at=world.now))


def test_a_record_not_posted_cannot_be_reversed(world: World) -> None:
    volunteer, elder = pair(world)
    record = confirmed(world, volunteer, elder)
    refused(world, volunteer, Conflict,
            lambda: reverse_record(world.session, world.writer, record_id=record.id, reason="错误",
                                   approver_id=world.admin.id, at=world.now))


def test_a_reversal_of_credit_already_spent_is_refused(world: World) -> None:
    volunteer, elder = pair(world)
    record = posted(world, volunteer, elder)
    own = accounts.person_account(world.session, bank=world.haizhou, person_id=volunteer.id, at=world.now)
    escrow = accounts.bank_account(world.session, world.haizhou, "escrow", world.now)
    accounts.transfer(world.session, world.writer, bank=world.haizhou, type="redemption", body={"test": "spend"},
                      moves=[(own, -30), (escrow, 30)], at=world.now)
    error = refused(world, volunteer, InsufficientCredit,
                    lambda: reverse_record(world.session, world.writer, record_id=record.id, reason="虚假记录",
                                           approver_id=world.admin.id, at=world.now))
    assert "spent" in error.message and error.details["needed"] == 60
    assert record.status == "posted"


def test_a_posted_record_with_no_credit_is_reversed_without_postings(world: World) -> None:
    volunteer, elder = pair(world)
    record = posted(world, volunteer, elder, paid=True)
    reverse_record(world.session, world.writer, record_id=record.id, reason="登记错误", approver_id=world.admin.id,
                   at=world.now, idempotency_key="rev-1")
    assert "postings" not in leaf_of(world, record.reversal_entry_id) and record.status == "reversed"
    assert reverse_record(world.session, world.writer, record_id=record.id, reason="登记错误",
                          approver_id=world.admin.id, at=world.now, idempotency_key="rev-1") is record


# --- disputes and rejection ---------------------------------------------------------------------

def test_a_disputed_record_waits_and_is_reinstated_by_a_coordinator(world: World) -> None:
    volunteer, elder = pair(world)
    record = confirmed(world, volunteer, elder)
    dispute_record(world.session, world.writer, record_id=record.id, by=elder.id, reason="那天没有来", at=world.now)
    assert (record.status, record.disputed_from) == ("disputed", "confirmed")
    refused(world, volunteer, Conflict,
            lambda: verify_record(world.session, world.writer, record_id=record.id, staff_id=world.coordinator.id,
                                  at=world.now))
    refused(world, volunteer, Conflict,
            lambda: dispute_record(world.session, world.writer, record_id=record.id, by=elder.id, reason="again",
                                   at=world.now))
    resolve_dispute(world.session, world.writer, record_id=record.id, staff_id=world.coordinator.id,
                    outcome="reinstate", reason="邻居作证", at=world.now)
    assert record.status == "confirmed"
    verify_record(world.session, world.writer, record_id=record.id, staff_id=world.coordinator.id, at=world.now)
    assert [e.event for e in events_of(world.session, record.id)] == [
        "submitted", "confirmed", "disputed", "reinstated", "verified"]


def test_a_relatives_dispute_can_end_in_rejection(world: World) -> None:
    volunteer, elder = pair(world)
    record, _ = submit(world, volunteer, elder)
    son = people.add_relative(world.session, world.sealer, elder_id=elder.id, relation="child", name="刘小刚",
                              at=world.now)
    dispute_record(world.session, world.writer, record_id=record.id, by=son.id, reason="母亲说没有服务", at=world.now)
    assert events_of(world.session, record.id)[-1].on_behalf_of == elder.id
    refused(world, volunteer, InvalidInput,
            lambda: resolve_dispute(world.session, world.writer, record_id=record.id, staff_id=world.coordinator.id,
                                    outcome="maybe", at=world.now))
    resolve_dispute(world.session, world.writer, record_id=record.id, staff_id=world.coordinator.id, outcome="reject",
                    at=world.now)
    assert record.status == "rejected"
    refused(world, volunteer, Conflict,
            lambda: reject_record(world.session, world.writer, record_id=record.id, staff_id=world.coordinator.id,
                                  reason="again", at=world.now))


def test_a_stranger_may_not_dispute(world: World) -> None:
    volunteer, elder = pair(world)
    record, _ = submit(world, volunteer, elder)
    other = world.elder()
    refused(world, volunteer, NotPermitted,
            lambda: dispute_record(world.session, world.writer, record_id=record.id, by=other.id, reason="x",
                                   at=world.now))
    refused(world, volunteer, InvalidInput,
            lambda: dispute_record(world.session, world.writer, record_id=record.id, by=elder.id, reason="  ",
                                   at=world.now))


# --- rating and complaints ----------------------------------------------------------------------

def test_a_record_is_rated_once_after_confirmation(world: World) -> None:
    volunteer, elder = pair(world)
    record, _ = submit(world, volunteer, elder)
    refused(world, volunteer, Conflict,
            lambda: rate_record(world.session, world.writer, world.sealer, record_id=record.id, by=elder.id,
                                stars=5, at=world.now))
    confirm_as_witness(world.session, world.writer, record_id=record.id, staff_id=world.coordinator.id, at=world.now)
    refused(world, volunteer, InvalidInput,
            lambda: rate_record(world.session, world.writer, world.sealer, record_id=record.id, by=elder.id,
                                stars=6, at=world.now))
    rate_record(world.session, world.writer, world.sealer, record_id=record.id, by=elder.id, stars=5,
                comment="小张很耐心", at=world.now)
    assert record.rating == 5 and opened(world.sealer, record)["comment"] == "小张很耐心"
    rated = leaf_of(world, events_of(world.session, record.id)[-1].entry_id)
    assert (rated["event"], rated["stars"]) == ("rated", 5)
    refused(world, volunteer, Conflict,
            lambda: rate_record(world.session, world.writer, world.sealer, record_id=record.id, by=elder.id,
                                stars=1, at=world.now))


def test_a_volunteer_may_not_rate_their_own_service_as_a_relative(world: World) -> None:
    volunteer, elder = pair(world)
    record = confirmed(world, volunteer, elder)
    daughter = people.add_relative(world.session, world.sealer, elder_id=elder.id, relation="child", name="张志愿",
                                   at=world.now, person_id=volunteer.id)
    error = refused(world, volunteer, Refused,
                    lambda: rate_record(world.session, world.writer, world.sealer, record_id=record.id,
                                        by=daughter.id, stars=5, at=world.now))
    assert error.details["rule"] == "self_rating"


def test_a_complaint_is_kept_sealed_and_committed_to_in_the_ledger(world: World) -> None:
    volunteer, elder = pair(world)
    record = posted(world, volunteer, elder)
    complaint = complain(world.session, world.writer, world.sealer, record_id=record.id, by=elder.id,
                         text="服务时间不足一小时", at=world.now)
    assert opened(world.sealer, complaint) == {"text": "服务时间不足一小时"}
    assert complaints_of(world.session, record.id) == [complaint]
    leaf = leaf_of(world, complaint.entry_id)
    assert (leaf["event"], leaf["complaint"]) == ("complained", complaint.id)
    assert journal.check_commitment(complaint.text_salt, leaf["text_commitment"], "服务时间不足一小时")


# --- privacy ------------------------------------------------------------------------------------

def test_no_leaf_holds_personal_data(world: World) -> None:
    volunteer, elder = pair(world)
    son = people.add_relative(world.session, world.sealer, elder_id=elder.id, relation="child", name="刘小刚",
                              at=world.now, phone="13700000000")
    record, _ = submit(world, volunteer, elder, place=PLACE, notes=NOTES)
    confirm_as_proxy(world.session, world.writer, record_id=record.id, relative_id=son.id, at=world.now)
    verify_record(world.session, world.writer, record_id=record.id, staff_id=world.coordinator.id, at=world.now)
    rate_record(world.session, world.writer, world.sealer, record_id=record.id, by=son.id, stars=4,
                comment="小张很耐心", at=world.now)
    complain(world.session, world.writer, world.sealer, record_id=record.id, by=elder.id, text="迟到了半小时",
             at=world.now)
    reverse_record(world.session, world.writer, record_id=record.id, reason="家属反映记录有误",
                   approver_id=world.admin.id, at=world.now)
    other, _ = submit(world, volunteer, elder, start=china(24, 14))
    dispute_record(world.session, world.writer, record_id=other.id, by=elder.id, reason="那天在医院", at=world.now)
    size = store.stored_size(world.session, "haizhou")
    blob = b"\n".join(store.read_leaves(world.session, "haizhou", 0, size)).decode("utf-8")
    assert record.id in blob
    for secret in ("张志愿", "刘奶奶", "刘小刚", "13800000000", "13900000000", "13700000000", PLACE, "3号楼", NOTES,
                   "血压", "小张很耐心", "迟到了半小时", "家属反映记录有误", "那天在医院"):
        assert secret not in blob, secret
