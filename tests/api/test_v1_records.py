"""Service records over HTTP: /api/v1/records and /api/v1/regions/{id}/queue."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from access_records import RULES, fresh_volunteer, free_slot, make_record, now
from apiworld import ROLES, ApiClient, ApiWorld, Rule

from timebank.checks import CHINA
from timebank import journal, people, users
from timebank.records import ServiceRecord

DENIED = {401, 403, 404}
Clients = Callable[[str], ApiClient]


@pytest.fixture(scope="module")
def as_(api_world: ApiWorld) -> Clients:
    """A signed-in client per role, made once per module."""
    made: dict[str, ApiClient] = {}

    def client(role: str) -> ApiClient:
        if role not in made:
            made[role] = api_world.anonymous() if role == "anonymous" else api_world.as_user(role)
        return made[role]

    return client


def _body(world: ApiWorld, volunteer: str | None = None, **changes: Any) -> dict[str, Any]:
    started, ended = free_slot(world, volunteer or world.ids["volunteer"], 30)
    body = {"elder_id": world.ids["elder"], "catalogue_code": "MEAL", "started_at": started.isoformat(),
            "ended_at": ended.isoformat(), "minutes": 25, "place": "朝阳社区3号楼", "notes": "送午饭"}
    if volunteer:
        body["volunteer_id"] = volunteer
    return {**body, **changes}


def _access(world: ApiWorld, subject_id: str) -> list[tuple[str, str, list[str]]]:
    with world.session() as s:
        return [(row.user_id, row.action, row.fields) for row in users.access_log(s, subject_id)]


def _all(client: ApiClient, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        sep = "&" if "?" in url else "?"
        response = client.get(url + (f"{sep}cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.json
        items += response.json["items"]
        cursor = response.json["next"]
        if cursor is None:
            return items


# --- submitting ---------------------------------------------------------------------------------

def test_a_volunteer_logs_their_own_service_and_gets_the_code_in_that_response_only(
        api_world: ApiWorld, as_: Clients) -> None:
    response = as_("volunteer").post("/api/v1/records", json=_body(api_world))
    assert response.status_code == 201, response.json
    made = response.json
    record = made["record"]
    assert re.fullmatch(r"[0-9]{6}", made["code"])
    assert made["confirm_path"] == f"/confirm/{record['id']}?code={made['code']}"
    assert record["status"] == "submitted" and record["volunteer_id"] == api_world.ids["volunteer"]
    assert record["minutes"] == 25 and record["place"] == "朝阳社区3号楼" and record["notes"] == "送午饭"
    assert made["receipt"]["log"] == "haizhou" and made["receipt"]["index"] >= 0
    again = as_("volunteer").get(f"/api/v1/records/{record['id']}").json
    assert "code" not in again and again["place"] == "朝阳社区3号楼"
    log = _access(api_world, record["id"])
    user = api_world.ids["user:volunteer"]
    assert (user, "change", ["notes", "place"]) in log and (user, "read", ["notes", "place"]) in log


def test_a_coordinator_logs_service_for_a_volunteer_by_the_elders_short_code(
        api_world: ApiWorld, as_: Clients) -> None:
    volunteer = fresh_volunteer(api_world)
    with api_world.session() as s:
        short_code = people.get_elder(s, api_world.ids["elder"]).short_code
    body = _body(api_world, volunteer, elder_code=short_code.lower())
    del body["elder_id"]
    response = as_("coordinator").post("/api/v1/records", json=body)
    assert response.status_code == 201, response.json
    record = response.json["record"]
    assert record["submitted_by"] == api_world.ids["coordinator"] and record["elder_id"] == api_world.ids["elder"]
    assert record["volunteer_id"] == volunteer


def test_a_volunteer_may_not_log_service_for_another_volunteer(api_world: ApiWorld, as_: Clients) -> None:
    response = as_("volunteer").post("/api/v1/records", json=_body(api_world, api_world.ids["student"]))
    assert response.status_code == 403 and "only their own" in response.json["message"]


def test_staff_must_name_the_volunteer(api_world: ApiWorld, as_: Clients) -> None:
    response = as_("coordinator").post("/api/v1/records", json=_body(api_world))
    assert response.status_code == 400 and response.json["errors"]["field"] == "volunteer_id"


def test_an_elder_outside_the_coordinators_region_is_not_found(api_world: ApiWorld, as_: Clients) -> None:
    response = as_("other_coordinator").post("/api/v1/records", json=_body(api_world, api_world.ids["other_volunteer"]))
    assert response.status_code == 404 and response.json["errors"]["field"] == "elder_id"


@pytest.mark.parametrize(("changes", "field"), [
    ({"started_at": "2025-01-01T10:00:00"}, "started_at"),
    ({"colour": "red"}, "colour"),
    ({"minutes": 0}, "minutes"),
    ({"minutes": "25"}, "minutes"),
    ({"elder_code": "ABC234"}, "elder_id"),
    ({"place": "x" * 201}, "place"),
    ({"catalogue_code": ""}, "catalogue_code"),
    ({"paid": "maybe"}, "paid"),
], ids=["naive time", "unknown field", "no minutes", "minutes as text", "two elders", "long place", "no item",
        "paid not a boolean"])
def test_bad_input_is_400_naming_the_field(api_world: ApiWorld, as_: Clients, changes: dict[str, Any],
                                           field: str) -> None:
    response = as_("volunteer").post("/api/v1/records", json=_body(api_world, **changes))
    assert response.status_code == 400 and field in response.json["errors"], response.json


def test_an_end_before_the_start_is_400(api_world: ApiWorld, as_: Clients) -> None:
    body = _body(api_world)
    body["started_at"], body["ended_at"] = body["ended_at"], body["started_at"]
    response = as_("volunteer").post("/api/v1/records", json=body)
    assert response.status_code == 400 and "ended_at" in response.json["errors"]


@pytest.mark.parametrize(("start", "rule"), [(timedelta(hours=1), "future_time"),
                                             (timedelta(days=-30), "confirm_deadline_working_days")])
def test_a_service_in_the_future_or_past_the_deadline_is_refused(api_world: ApiWorld, as_: Clients,
                                                                 start: timedelta, rule: str) -> None:
    started = now() + start
    body = _body(api_world, started_at=started.isoformat(), ended_at=(started + timedelta(minutes=30)).isoformat())
    response = as_("volunteer").post("/api/v1/records", json=body)
    assert response.status_code == 422 and response.json["errors"]["rule"] == rule


def test_a_retry_with_the_same_idempotency_key_returns_the_same_response_and_logs_one_record(
        api_world: ApiWorld, as_: Clients) -> None:
    body = _body(api_world)
    headers = {"Idempotency-Key": "submit-once-1"}
    first = as_("volunteer").post("/api/v1/records", json=body, headers=headers)
    second = as_("volunteer").post("/api/v1/records", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json == first.json and second.headers["Idempotent-Replayed"] == "true"
    with api_world.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ServiceRecord).where(
            ServiceRecord.volunteer_id == api_world.ids["volunteer"],
            ServiceRecord.started_at == datetime.fromisoformat(first.json["record"]["started_at"]))) == 1
    other = as_("volunteer").post("/api/v1/records", json={**body, "minutes": 20}, headers=headers)
    assert other.status_code == 409 and other.json["errors"]["field"] == "idempotency_key"


# --- confirming ---------------------------------------------------------------------------------

def test_the_elder_confirms_with_the_code_without_an_account_and_only_once(api_world: ApiWorld) -> None:
    record_id, code = make_record(api_world)
    anonymous = api_world.anonymous()
    response = anonymous.post(f"/api/v1/records/{record_id}/confirm-code", json={"code": code})
    assert response.status_code == 200, response.json
    assert response.json["record"]["status"] == "confirmed" and response.json["record"]["confirmed_kind"] == "code"
    assert response.json["receipt"]["log"] == "haizhou"
    again = anonymous.post(f"/api/v1/records/{record_id}/confirm-code", json={"code": code})
    assert again.status_code == 409 and "only a submitted record" in again.json["message"]


def test_a_wrong_code_is_422_with_the_attempts_left_and_five_need_a_new_code(
        api_world: ApiWorld, as_: Clients) -> None:
    record_id, code = make_record(api_world)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    anonymous = api_world.anonymous()
    for left in (4, 3, 2, 1, 0):
        response = anonymous.post(f"/api/v1/records/{record_id}/confirm-code", json={"code": wrong})
        assert response.status_code == 422 and response.json["errors"]["attempts_left"] == left
        with api_world.session() as s:
            assert s.get(ServiceRecord, record_id).confirm_attempts == 5 - left  # kept, not rolled back
    locked = anonymous.post(f"/api/v1/records/{record_id}/confirm-code", json={"code": code})
    assert locked.status_code == 422 and locked.json["errors"]["rule"] == "confirm_attempts"
    fresh = as_("coordinator").post(f"/api/v1/records/{record_id}/new-code")
    assert fresh.status_code == 201 and fresh.json["confirm_path"].endswith(f"code={fresh.json['code']}")
    assert anonymous.post(f"/api/v1/records/{record_id}/confirm-code", json={"code": code}).status_code == 422
    done = anonymous.post(f"/api/v1/records/{record_id}/confirm-code", json={"code": fresh.json["code"]})
    assert done.status_code == 200 and done.json["record"]["status"] == "confirmed"


@pytest.mark.parametrize("code", ["12ab56", "12345", ""])
def test_a_code_that_is_not_six_digits_is_400(api_world: ApiWorld, code: str) -> None:
    record_id, _code = make_record(api_world)
    response = api_world.anonymous().post(f"/api/v1/records/{record_id}/confirm-code", json={"code": code})
    assert response.status_code == 400 and "code" in response.json["errors"]


def test_a_code_for_an_unknown_record_is_404(api_world: ApiWorld) -> None:
    response = api_world.anonymous().post("/api/v1/records/rec_nothere/confirm-code", json={"code": "123456"})
    assert response.status_code == 404


def test_the_volunteer_may_not_confirm_their_own_record_with_its_code(api_world: ApiWorld, as_: Clients) -> None:
    record_id, code = make_record(api_world, volunteer="volunteer")
    response = as_("volunteer").post(f"/api/v1/records/{record_id}/confirm-code", json={"code": code})
    assert response.status_code == 422 and response.json["errors"]["rule"] == "self_confirmation_allowed"
    assert as_("volunteer").get(f"/api/v1/records/{record_id}").json["status"] == "submitted"


def test_a_proxy_confirms_for_the_elder_and_a_coordinator_as_a_witness(api_world: ApiWorld, as_: Clients) -> None:
    ids = api_world.ids
    by_proxy, _ = make_record(api_world)
    response = as_("proxy").post(f"/api/v1/records/{by_proxy}/confirm")
    assert response.status_code == 200, response.json
    record = response.json["record"]
    assert (record["confirmed_kind"], record["confirmed_by"], record["on_behalf_of"]) == ("proxy", ids["proxy"],
                                                                                          ids["elder"])
    witnessed, _ = make_record(api_world)
    record = as_("coordinator").post(f"/api/v1/records/{witnessed}/confirm").json["record"]
    assert (record["confirmed_kind"], record["confirmed_by"]) == ("witness", ids["coordinator"])
    assert as_("elder").post(f"/api/v1/records/{witnessed}/confirm").status_code == 403


def test_a_new_code_is_for_the_volunteer_or_staff_not_the_elder(api_world: ApiWorld, as_: Clients) -> None:
    record_id, _ = make_record(api_world, volunteer="volunteer")
    response = as_("volunteer").post(f"/api/v1/records/{record_id}/new-code")
    assert response.status_code == 201 and re.fullmatch(r"[0-9]{6}", response.json["code"])
    assert as_("elder").post(f"/api/v1/records/{record_id}/new-code").status_code == 403
    assert as_("student").post(f"/api/v1/records/{record_id}/new-code").status_code == 404


# --- review -------------------------------------------------------------------------------------

def test_verifying_posts_the_credit_and_returns_the_deposit_receipt_once(api_world: ApiWorld, as_: Clients) -> None:
    record_id, _ = make_record(api_world, "confirmed", minutes=30)
    headers = {"Idempotency-Key": f"verify-{record_id}"}
    first = as_("coordinator").post(f"/api/v1/records/{record_id}/verify", headers=headers)
    assert first.status_code == 200, first.json
    assert first.json["record"]["status"] == "posted" and first.json["record"]["credit_minutes"] == 30
    again = as_("coordinator").post(f"/api/v1/records/{record_id}/verify", headers=headers)
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    with api_world.session() as s:
        deposits = [e for e in journal.entries_about(s, record_id) if e.type == "deposit"]
    assert [d.receipt() for d in deposits] == [first.json["receipt"]]
    assert first.json["receipt"]["log"] == "haizhou"


def test_verifying_a_record_that_is_not_confirmed_is_409(api_world: ApiWorld, as_: Clients) -> None:
    record_id, _ = make_record(api_world)
    response = as_("administrator").post(f"/api/v1/records/{record_id}/verify")
    assert response.status_code == 409 and "only a confirmed record" in response.json["message"]


def test_bulk_verification_reports_each_record_and_hides_those_out_of_scope(
        api_world: ApiWorld, as_: Clients) -> None:
    good, _ = make_record(api_world, "confirmed")
    waiting, _ = make_record(api_world)
    elsewhere, _ = make_record(api_world, "confirmed", elder="other_elder")
    response = as_("coordinator").post("/api/v1/records/verify",
                                       json={"record_ids": [good, waiting, "rec_nothere", elsewhere, good]})
    assert response.status_code == 200, response.json
    items = {item["record_id"]: item for item in response.json["items"]}
    assert list(items) == [good, waiting, "rec_nothere", elsewhere]
    assert items[good]["ok"] and items[good]["record"]["status"] == "posted" and items[good]["receipt"]
    assert items[waiting]["error"]["code"] == "conflict" and items[waiting]["error"]["status"] == 409
    assert items["rec_nothere"]["error"]["code"] == items[elsewhere]["error"]["code"] == "not_found"
    assert items[elsewhere]["error"]["message"] == f"no service record {elsewhere!r}"
    with api_world.session() as s:
        assert s.get(ServiceRecord, elsewhere).status == "confirmed"


@pytest.mark.parametrize("ids", [[], [f"rec_{i}" for i in range(201)]], ids=["none", "201"])
def test_bulk_verification_takes_one_to_200_ids(api_world: ApiWorld, as_: Clients, ids: list[str]) -> None:
    response = as_("coordinator").post("/api/v1/records/verify", json={"record_ids": ids})
    assert response.status_code == 400 and "record_ids" in response.json["errors"]


def test_rejecting_needs_a_reason_and_staff_covering_the_region(api_world: ApiWorld, as_: Clients) -> None:
    record_id, _ = make_record(api_world, volunteer="volunteer")
    path = f"/api/v1/records/{record_id}/reject"
    assert as_("coordinator").post(path, json={}).json["errors"] == {"reason": ["Missing data for required field."]}
    assert as_("volunteer").post(path, json={"reason": "不对"}).status_code == 403
    assert as_("other_coordinator").post(path, json={"reason": "不对"}).status_code == 404
    response = as_("coordinator").post(path, json={"reason": "时间写错了"})
    assert response.status_code == 200 and response.json["record"]["status"] == "rejected"
    events = as_("volunteer").get(f"/api/v1/records/{record_id}/events").json["items"]
    assert [e["event"] for e in events] == ["submitted", "rejected"] and events[-1]["reason"] == "时间写错了"


def test_a_dispute_by_the_elder_is_resolved_by_reinstating_the_record(api_world: ApiWorld, as_: Clients) -> None:
    record_id, _ = make_record(api_world, "confirmed")
    disputed = as_("elder").post(f"/api/v1/records/{record_id}/dispute", json={"reason": "只来了十分钟"})
    assert disputed.status_code == 200 and disputed.json["record"]["status"] == "disputed"
    assert disputed.json["record"]["disputed_from"] == "confirmed"
    path = f"/api/v1/records/{record_id}/resolve"
    assert as_("coordinator").post(path, json={"outcome": "forget"}).status_code == 400
    assert as_("elder").post(path, json={"outcome": "reinstate"}).status_code == 403
    resolved = as_("coordinator").post(path, json={"outcome": "reinstate", "reason": "核实过了"})
    assert resolved.status_code == 200 and resolved.json["record"]["status"] == "confirmed"
    assert as_("coordinator").post(path, json={"outcome": "reject"}).status_code == 409


def test_only_an_administrator_reverses_a_posted_record_and_the_receipt_names_the_reversal(
        api_world: ApiWorld, as_: Clients) -> None:
    record_id, _ = make_record(api_world, "posted", minutes=20)
    path = f"/api/v1/records/{record_id}/reverse"
    assert as_("coordinator").post(path, json={"reason": "重复登记"}).status_code == 403
    response = as_("administrator").post(path, json={"reason": "重复登记"})
    assert response.status_code == 200 and response.json["record"]["status"] == "reversed"
    with api_world.session() as s:
        reversal = s.get(journal.Entry, s.get(ServiceRecord, record_id).reversal_entry_id)
        assert reversal.type == "reversal" and reversal.receipt() == response.json["receipt"]
    again = as_("administrator").post(path, json={"reason": "重复登记"})
    assert again.status_code == 409 and "reversed already" in again.json["message"]


# --- feedback -----------------------------------------------------------------------------------

def test_the_elder_rates_once_and_the_comment_is_kept_as_personal_data(api_world: ApiWorld, as_: Clients) -> None:
    record_id, _ = make_record(api_world, "confirmed")
    path = f"/api/v1/records/{record_id}/rating"
    assert as_("elder").post(path, json={"stars": 6}).status_code == 400
    rated = as_("elder").post(path, json={"stars": 4, "comment": "准时，很耐心"})
    assert rated.status_code == 200 and rated.json["record"]["rating"] == 4 and "comment" not in rated.json["record"]
    assert as_("proxy").post(path, json={"stars": 5}).status_code == 409
    assert as_("coordinator").post(path, json={"stars": 5}).status_code == 403
    assert as_("elder").get(f"/api/v1/records/{record_id}").json["comment"] == "准时，很耐心"
    assert (api_world.ids["user:elder"], "change", ["comment"]) in _access(api_world, record_id)


def test_complaints_come_from_the_proxy_and_staff_read_them_with_the_read_logged(
        api_world: ApiWorld, as_: Clients) -> None:
    record_id, _ = make_record(api_world)
    path = f"/api/v1/records/{record_id}/complaints"
    made = as_("proxy").post(path, json={"text": "迟到了半小时"})
    assert made.status_code == 201 and made.json["text"] == "迟到了半小时" and made.json["receipt"]["log"] == "haizhou"
    assert made.json["by"] == api_world.ids["proxy"] and made.json["on_behalf_of"] == api_world.ids["elder"]
    assert as_("proxy").post(path, json={"text": ""}).status_code == 400
    listed = as_("coordinator").get(path)
    assert listed.status_code == 200 and [c["text"] for c in listed.json["items"]] == ["迟到了半小时"]
    assert (api_world.ids["user:coordinator"], "read", ["complaint"]) in _access(api_world, record_id)
    assert as_("proxy").get(path).status_code == 403
    assert as_("other_coordinator").get(path).status_code == 404


# --- reading ------------------------------------------------------------------------------------

def test_each_role_lists_only_the_records_in_its_scope(api_world: ApiWorld, as_: Clients) -> None:
    ids = api_world.ids
    posted, _ = make_record(api_world, "posted", volunteer="student")
    waiting, _ = make_record(api_world, volunteer="student")
    theirs, _ = make_record(api_world, elder="other_elder")
    mine = _all(as_("volunteer"), "/api/v1/records")
    assert mine and {r["volunteer_id"] for r in mine} == {ids["volunteer"]}
    students = _all(as_("student"), "/api/v1/records")
    assert {posted, waiting} <= {r["id"] for r in students}
    elders = _all(as_("proxy"), "/api/v1/records?limit=200")
    assert {r["elder_id"] for r in elders} == {ids["elder"]} and {posted, waiting} <= {r["id"] for r in elders}
    others = _all(as_("other_elder"), "/api/v1/records")
    assert theirs in {r["id"] for r in others} and {r["elder_id"] for r in others} == {ids["other_elder"]}
    school = _all(as_("school"), "/api/v1/records")
    assert posted in {r["id"] for r in school} and {r["status"] for r in school} == {"posted"}
    assert waiting not in {r["id"] for r in school} and "place" not in school[0]
    staff = {r["id"] for r in _all(as_("coordinator"), "/api/v1/records?limit=200")}
    assert {posted, waiting} <= staff and theirs not in staff
    assert theirs in {r["id"] for r in _all(as_("other_coordinator"), "/api/v1/records")}
    assert as_("auditor").get("/api/v1/records").status_code == 403
    assert as_("coordinator").get(f"/api/v1/records?region_id={ids['suqian_community']}").status_code == 404


def test_staff_filter_the_list_and_page_through_it(api_world: ApiWorld, as_: Clients) -> None:
    volunteer = fresh_volunteer(api_world)
    make_record(api_world)  # someone else's, filtered out
    made = [make_record(api_world, volunteer=volunteer)[0] for _ in range(3)]
    url = f"/api/v1/records?volunteer_id={volunteer}&limit=2"
    first = as_("coordinator").get(url).json
    assert len(first["items"]) == 2 and first["next"]
    second = as_("coordinator").get(f"{url}&cursor={first['next']}").json
    assert len(second["items"]) == 1 and second["next"] is None
    assert sorted(r["id"] for r in first["items"] + second["items"]) == sorted(made)
    today = now().astimezone(CHINA).date()  # the filters take China days
    assert len(_all(as_("coordinator"), f"/api/v1/records?volunteer_id={volunteer}&status=submitted"
                                         f"&from={today - timedelta(days=1)}&to={today + timedelta(days=1)}")) == 3
    assert _all(as_("coordinator"), f"/api/v1/records?volunteer_id={volunteer}&status=posted") == []
    assert _all(as_("coordinator"), f"/api/v1/records?volunteer_id={volunteer}&from={today + timedelta(days=1)}") == []
    bad = as_("coordinator").get(f"/api/v1/records?from={today}&to={today - timedelta(days=1)}")
    assert bad.status_code == 400 and "to" in bad.json["errors"]
    assert as_("coordinator").get("/api/v1/records?status=lost").status_code == 400
    assert as_("coordinator").get("/api/v1/records?colour=red").status_code == 400


def test_the_school_sees_a_students_posted_record_without_personal_data(api_world: ApiWorld, as_: Clients) -> None:
    posted, _ = make_record(api_world, "posted", volunteer="student")
    response = as_("school").get(f"/api/v1/records/{posted}")
    assert response.status_code == 200 and response.json["status"] == "posted"
    assert not {"place", "notes", "comment"} & set(response.json)
    assert _access(api_world, posted) == []
    assert all("reason" not in e for e in as_("school").get(f"/api/v1/records/{posted}/events").json["items"])
    waiting, _ = make_record(api_world, volunteer="student")
    assert as_("school").get(f"/api/v1/records/{waiting}").status_code == 404
    shown = as_("coordinator").get(f"/api/v1/records/{posted}").json
    assert shown["place"] == "朝阳社区3号楼" and shown["notes"] == "陪老人吃午饭"
    assert _access(api_world, posted) == [(api_world.ids["user:coordinator"], "read", ["notes", "place"])]


def test_an_out_of_scope_record_is_404_just_like_an_unknown_one(api_world: ApiWorld, as_: Clients) -> None:
    record_id, _ = make_record(api_world, volunteer="volunteer")
    hidden = as_("other_volunteer").get(f"/api/v1/records/{record_id}")
    unknown = as_("other_volunteer").get("/api/v1/records/rec_nothere")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json["message"] == f"no service record {record_id!r}"
    for role in ("other_coordinator", "other_elder", "student"):
        assert as_(role).get(f"/api/v1/records/{record_id}/events").status_code == 404
        assert as_(role).post(f"/api/v1/records/{record_id}/dispute", json={"reason": "x"}).status_code in (403, 404)


def test_the_events_name_every_transition_with_its_ledger_receipt(api_world: ApiWorld, as_: Clients) -> None:
    record_id, _ = make_record(api_world, "posted")
    items = as_("elder").get(f"/api/v1/records/{record_id}/events").json["items"]
    assert [e["event"] for e in items] == ["submitted", "confirmed", "verified"]
    assert [e["receipt"]["log"] for e in items] == ["haizhou", "haizhou", "haizhou"]
    assert items[1]["on_behalf_of"] == api_world.ids["elder"] and items[1]["actor"] == api_world.ids["coordinator"]


def test_the_queue_lists_the_confirmed_records_of_a_region_in_scope(api_world: ApiWorld, as_: Clients) -> None:
    ids = api_world.ids
    record_id, _ = make_record(api_world, "confirmed")
    queued = _all(as_("administrator"), f"/api/v1/regions/{ids['community']}/queue")
    assert record_id in {r["id"] for r in queued} and {r["status"] for r in queued} == {"confirmed"}
    assert record_id not in {r["id"] for r in _all(as_("coordinator"),
                                                   f"/api/v1/regions/{ids['haizhou']}/queue?status=submitted")}
    assert as_("other_coordinator").get(f"/api/v1/regions/{ids['community']}/queue").status_code == 404
    assert as_("coordinator").get(f"/api/v1/regions/{ids['community']}/queue?status=lost").status_code == 400
    assert as_("volunteer").get(f"/api/v1/regions/{ids['community']}/queue").status_code == 403


# --- who may call what --------------------------------------------------------------------------

@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.method} {r.path}")
def test_the_access_rules_hold_for_every_role(api_world: ApiWorld, as_: Clients, rule: Rule) -> None:
    wrong = []
    for role in ROLES:
        path, body = rule.sample(api_world) if rule.sample else (rule.path, None)
        call = getattr(as_(role), rule.method.lower())
        response = call(path) if rule.method == "GET" else call(path, json=body)
        allowed = role in rule.allowed
        if response.status_code >= 500 or (allowed and response.status_code in DENIED) or (
                not allowed and response.status_code not in DENIED):
            wrong.append(f"{role}: {response.status_code} {(response.json or {}).get('message', '')}")
    assert not wrong, "\n".join(wrong)
