"""Volunteers, elders, sign-up, status, tags, relatives, training, heirs and the access log: /api/v1 people."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from access_people import (
    RULES,
    elder_body,
    new_elder,
    new_volunteer,
    resident_id,
    sign_up_body,
    volunteer_body,
)
from apiworld import NOW, PASSWORD, ROLES, ApiClient

from timebank import people, users
from timebank.regions import create_organisation


@pytest.fixture(scope="module")
def clients(api_world: Any) -> dict[str, ApiClient]:
    """One signed-in client per role, shared by the module's tests (signing in costs an Argon2 hash)."""
    return {role: api_world.anonymous() if role == "anonymous" else api_world.as_user(role) for role in ROLES}


def access_rows(world: Any, subject_id: str) -> list[users.AccessRecord]:
    with world.session() as s:
        return users.access_log(s, subject_id)


# --- sign-up ------------------------------------------------------------------------------------

def test_signing_up_registers_the_volunteer_and_their_user_and_starts_a_session(api_world: Any) -> None:
    client = api_world.anonymous()
    body = sign_up_body(api_world)
    made = client.post("/api/v1/sign-up", json=body)
    assert made.status_code == 201, made.json
    volunteer = made.json["volunteer"]
    assert volunteer["name"] == "周新人" and volunteer["id_number"] == body["id_number"]
    assert volunteer["phone"] == "13600000000" and volunteer["status"] == "active"
    assert made.json["user"]["role"] == "volunteer" and made.json["user"]["subject_id"] == volunteer["id"]
    assert "password" not in made.json["user"] and made.json["csrf_token"]
    session = client.get("/api/v1/auth/session").json
    assert session["user"]["subject_id"] == volunteer["id"]
    signed_in = ApiClient(client, csrf=made.json["csrf_token"])
    assert signed_in.get(f"/api/v1/volunteers/{volunteer['id']}").json["name"] == "周新人"
    (change, *_) = reversed(access_rows(api_world, volunteer["id"]))
    assert change.action == "change" and change.user_id == made.json["user"]["id"]


def test_a_weak_password_at_sign_up_registers_nothing(api_world: Any) -> None:
    body = {**sign_up_body(api_world), "password": "aaaaaaaaaaaa"}
    refused = api_world.anonymous().post("/api/v1/sign-up", json=body)
    assert refused.status_code == 400 and refused.json["errors"]["field"] == "password"
    again = api_world.anonymous().post("/api/v1/sign-up", json={**body, "password": PASSWORD})
    assert again.status_code == 201, again.json  # the same ID number was not kept


def test_sign_up_names_every_bad_field(api_world: Any) -> None:
    body = {**sign_up_body(api_world), "sex": "X", "birth_date": "1990-02-30", "kind": "hero", "extra": 1}
    del body["phone"]
    refused = api_world.anonymous().post("/api/v1/sign-up", json=body)
    assert refused.status_code == 400
    assert set(refused.json["errors"]) == {"sex", "birth_date", "kind", "extra", "phone"}


def test_sign_up_checks_the_id_number_and_refuses_one_registered_already(api_world: Any) -> None:
    body = sign_up_body(api_world)
    wrong_check = body["id_number"][:-1] + ("0" if body["id_number"][-1] != "0" else "1")
    bad = api_world.anonymous().post("/api/v1/sign-up", json={**body, "id_number": wrong_check})
    assert bad.status_code == 400 and "check digit" in bad.json["message"]
    assert api_world.anonymous().post("/api/v1/sign-up", json=body).status_code == 201
    twice = api_world.anonymous().post("/api/v1/sign-up", json={**sign_up_body(api_world),
                                                                "id_number": body["id_number"]})
    assert twice.status_code == 409 and twice.json["errors"]["field"] == "id_number"


def test_a_future_birth_date_or_a_region_without_a_bank_is_refused(api_world: Any) -> None:
    future = NOW.date() + timedelta(days=3)
    late = api_world.anonymous().post("/api/v1/sign-up", json={**sign_up_body(api_world), "birth_date": future.isoformat(),
                                                               "id_number": resident_id(future, "M")})
    assert late.status_code == 400 and late.json["errors"]["field"] == "birth_date"
    bankless = api_world.anonymous().post("/api/v1/sign-up", json={**sign_up_body(api_world),
                                                                   "region_id": api_world.ids["province"]})
    assert bankless.status_code == 422 and bankless.json["errors"]["rule"] == "bank"


def test_signing_up_while_signed_in_is_refused(clients: dict[str, ApiClient], api_world: Any) -> None:
    refused = clients["volunteer"].post("/api/v1/sign-up", json=sign_up_body(api_world))
    assert refused.status_code == 403 and "sign out" in refused.json["message"]


# --- volunteers ---------------------------------------------------------------------------------

def test_staff_list_the_volunteers_of_their_subtree_with_names_and_the_reads_are_logged(
        clients: dict[str, ApiClient], api_world: Any) -> None:
    ids = api_world.ids
    listed = clients["coordinator"].get("/api/v1/volunteers?limit=200").json
    by_id = {item["id"]: item for item in listed["items"]}
    assert ids["volunteer"] in by_id and ids["student"] in by_id and ids["other_volunteer"] not in by_id
    assert by_id[ids["student"]]["name"] == "陈同学" and "phone" not in by_id[ids["student"]]
    assert any(r.fields == ["name"] and r.user_id == ids["user:coordinator"]
               for r in access_rows(api_world, ids["student"]))
    students = clients["coordinator"].get("/api/v1/volunteers?kind=student").json["items"]
    assert [v["id"] for v in students] == [ids["student"]]
    theirs = clients["other_coordinator"].get("/api/v1/volunteers").json["items"]
    assert ids["other_volunteer"] in {v["id"] for v in theirs} and ids["volunteer"] not in {v["id"] for v in theirs}


def test_the_volunteer_list_pages_with_a_cursor(clients: dict[str, ApiClient]) -> None:
    seen: list[str] = []
    url = "/api/v1/volunteers?limit=1"
    while True:
        page = clients["administrator"].get(url).json
        assert len(page["items"]) <= 1
        seen += [v["id"] for v in page["items"]]
        if page["next"] is None:
            break
        url = f"/api/v1/volunteers?limit=1&cursor={page['next']}"
    assert len(seen) == len(set(seen)) >= 2


def test_the_volunteer_list_refuses_bad_filters_and_regions_out_of_scope(
        clients: dict[str, ApiClient], api_world: Any) -> None:
    bad = clients["coordinator"].get("/api/v1/volunteers?status=sleeping&limit=0")
    assert bad.status_code == 400 and set(bad.json["errors"]) == {"status", "limit"}
    away = clients["coordinator"].get(f"/api/v1/volunteers?region_id={api_world.ids['suqian_community']}")
    assert away.status_code == 404


def test_a_school_lists_and_reads_only_its_students_without_personal_data(
        clients: dict[str, ApiClient], api_world: Any) -> None:
    ids = api_world.ids
    listed = clients["school"].get("/api/v1/volunteers").json["items"]
    assert [v["id"] for v in listed] == [ids["student"]] and "name" not in listed[0]
    one = clients["school"].get(f"/api/v1/volunteers/{ids['student']}")
    assert one.status_code == 200 and set(one.json) == {"id", "kind", "organisation_id", "status"}
    assert clients["school"].get(f"/api/v1/volunteers/{ids['volunteer']}").status_code == 404


def test_a_volunteer_reads_their_own_personal_data_and_the_read_is_logged(
        clients: dict[str, ApiClient], api_world: Any) -> None:
    ids = api_world.ids
    mine = clients["volunteer"].get(f"/api/v1/volunteers/{ids['volunteer']}")
    assert mine.status_code == 200 and mine.json["name"] == "张志愿" and mine.json["id_number"]
    assert not any(key.endswith("_sealed") for key in mine.json)
    assert access_rows(api_world, ids["volunteer"])[0].fields == sorted(
        ["name", "sex", "birth_date", "id_number", "phone", "address"])
    assert clients["volunteer"].get(f"/api/v1/volunteers/{ids['student']}").status_code == 404
    assert clients["other_coordinator"].get(f"/api/v1/volunteers/{ids['volunteer']}").status_code == 404
    assert clients["elder"].get(f"/api/v1/volunteers/{ids['volunteer']}").status_code == 403


def test_staff_register_a_volunteer_in_their_subtree_only(clients: dict[str, ApiClient], api_world: Any) -> None:
    made = clients["coordinator"].post("/api/v1/volunteers", json=volunteer_body(api_world, skills=["理发"]))
    assert made.status_code == 201, made.json
    assert "name" not in made.json and made.json["status"] == "active"
    assert access_rows(api_world, made.json["id"])[0].action == "change"
    read = clients["coordinator"].get(f"/api/v1/volunteers/{made.json['id']}").json
    assert read["skills"] == ["理发"] and read["name"] == "周新人"
    away = clients["coordinator"].post("/api/v1/volunteers", json=volunteer_body(
        api_world, region_id=api_world.ids["suqian_community"]))
    assert away.status_code == 404


# --- status -------------------------------------------------------------------------------------

def test_suspending_a_volunteer_needs_a_reason_and_returns_a_ledger_receipt(
        clients: dict[str, ApiClient], api_world: Any) -> None:
    volunteer_id = new_volunteer(api_world)
    url = f"/api/v1/volunteers/{volunteer_id}/status"
    bare = clients["administrator"].post(url, json={"status": "suspended"})
    assert bare.status_code == 400 and bare.json["errors"]["field"] == "reason"
    done = clients["administrator"].post(url, json={"status": "suspended", "reason": "多次虚报时长"})
    assert done.status_code == 201, done.json
    assert done.json["receipt"]["log"] == "haizhou" and done.json["status"] == "suspended"
    assert "reason" not in done.json
    again = clients["administrator"].post(url, json={"status": "suspended", "reason": "again"})
    assert again.status_code == 409
    history = clients["coordinator"].get(f"/api/v1/volunteers/{volunteer_id}/status-history").json["items"]
    assert [(h["status"], h["reason"]) for h in history] == [("suspended", "多次虚报时长")]


def test_only_an_administrator_in_scope_changes_a_status(clients: dict[str, ApiClient], api_world: Any) -> None:
    url = f"/api/v1/volunteers/{new_volunteer(api_world)}/status"
    body = {"status": "blacklisted", "reason": "x"}
    assert clients["coordinator"].post(url, json=body).status_code == 403
    assert clients["other_administrator"].post(url, json=body).status_code == 404
    assert clients["administrator"].post(url, json={"status": "moved_away"}).status_code == 400


def test_a_status_change_retried_with_the_same_idempotency_key_is_replayed_not_repeated(
        clients: dict[str, ApiClient], api_world: Any) -> None:
    url = f"/api/v1/volunteers/{new_volunteer(api_world)}/status"
    body, key = {"status": "suspended", "reason": "核查"}, {"Idempotency-Key": f"susp-{url}"}
    first = clients["administrator"].post(url, json=body, headers=key)
    retry = clients["administrator"].post(url, json=body, headers=key)
    assert first.status_code == retry.status_code == 201
    assert retry.json == first.json and retry.headers["Idempotent-Replayed"] == "true"
    other = clients["administrator"].post(url, json={**body, "reason": "另一个"}, headers=key)
    assert other.status_code == 409
    history = clients["administrator"].get(url + "-history").json["items"]
    assert len(history) == 1


def test_an_elder_who_moved_away_is_no_longer_found_by_volunteers(
        clients: dict[str, ApiClient], api_world: Any) -> None:
    elder_id = new_elder(api_world)
    with api_world.session() as s:
        code = s.get(people.Elder, elder_id).short_code
    assert clients["volunteer"].get(f"/api/v1/elders/by-code/{code}").status_code == 200
    moved = clients["administrator"].post(f"/api/v1/elders/{elder_id}/status", json={"status": "moved_away"})
    assert moved.status_code == 201 and moved.json["receipt"]["index"] > 0
    assert clients["volunteer"].get(f"/api/v1/elders/by-code/{code}").status_code == 404
    assert clients["coordinator"].get(f"/api/v1/elders/by-code/{code}").status_code == 200


# --- training -----------------------------------------------------------------------------------

def test_staff_record_a_training_and_the_volunteer_reads_it(clients: dict[str, ApiClient], api_world: Any) -> None:
    volunteer_id = new_volunteer(api_world)
    body = {"course": "上门照护基础", "study_minutes": 240, "provider": "市红十字会", "completed_on": "2024-05-10",
            "certifies": ["HOMECARE", "BATH"], "content": "翻身、转移"}
    made = clients["coordinator"].post(f"/api/v1/volunteers/{volunteer_id}/trainings", json=body)
    assert made.status_code == 201, made.json
    assert made.json["certifies"] == ["HOMECARE", "BATH"] and made.json["recorded_by"] == api_world.ids["coordinator"]
    with api_world.session() as s:
        assert people.is_trained_for(s, volunteer_id, "BATH")
    listed = clients["administrator"].get(f"/api/v1/volunteers/{volunteer_id}/trainings").json
    assert [t["id"] for t in listed["items"]] == [made.json["id"]] and listed["next"] is None


def test_a_training_with_unknown_codes_bad_minutes_or_a_future_date_is_refused(
        clients: dict[str, ApiClient], api_world: Any) -> None:
    url = f"/api/v1/volunteers/{api_world.ids['volunteer']}/trainings"
    body = {"course": "x", "study_minutes": 60, "provider": "y", "completed_on": "2024-01-01"}
    unknown = clients["coordinator"].post(url, json={**body, "certifies": ["FLYING"]})
    assert unknown.status_code == 400 and unknown.json["errors"]["field"] == "certifies"
    zero = clients["coordinator"].post(url, json={**body, "study_minutes": 0})
    assert zero.status_code == 400 and "study_minutes" in zero.json["errors"]
    future = (NOW.date() + timedelta(days=2)).isoformat()
    late = clients["coordinator"].post(url, json={**body, "completed_on": future})
    assert late.status_code == 400 and late.json["errors"]["field"] == "completed_on"
    assert clients["student"].post(url, json=body).status_code == 403


def test_the_trainings_page_with_a_cursor(clients: dict[str, ApiClient], api_world: Any) -> None:
    volunteer_id = new_volunteer(api_world)
    url = f"/api/v1/volunteers/{volunteer_id}/trainings"
    for course in ("一", "二", "三"):
        assert clients["coordinator"].post(url, json={"course": course, "study_minutes": 30, "provider": "p",
                                                      "completed_on": "2024-02-02"}).status_code == 201
    first = clients["coordinator"].get(url + "?limit=2").json
    rest = clients["coordinator"].get(f"{url}?limit=2&cursor={first['next']}").json
    courses = [t["course"] for t in first["items"] + rest["items"]]
    assert sorted(courses) == ["一", "三", "二"] and len(set(courses)) == 3 and rest["next"] is None
    assert clients["coordinator"].get(url + "?cursor=bm90LWEtY3Vyc29y").status_code == 400


# --- elders -------------------------------------------------------------------------------------

def test_staff_register_an_elder_with_tags_and_get_the_short_code(
        clients: dict[str, ApiClient], api_world: Any) -> None:
    made = clients["coordinator"].post("/api/v1/elders", json=elder_body(api_world, tags=["living_alone", "age_80_plus"],
                                                                         health="高血压"))
    assert made.status_code == 201, made.json
    assert len(made.json["short_code"]) == 6 and "name" not in made.json and "health" not in made.json
    one = clients["administrator"].get(f"/api/v1/elders/{made.json['id']}").json
    assert one["name"] == "吴爷爷" and one["health"] == "高血压" and one["tags"] == ["age_80_plus", "living_alone"]
    tagged = clients["coordinator"].get("/api/v1/elders?tag=age_80_plus&limit=200").json["items"]
    assert made.json["id"] in {e["id"] for e in tagged}
    unknown = clients["coordinator"].post("/api/v1/elders", json=elder_body(api_world, tags=["rich"]))
    assert unknown.status_code == 400 and "tags" in unknown.json["errors"]
    away = clients["coordinator"].post("/api/v1/elders", json=elder_body(
        api_world, region_id=api_world.ids["suqian_community"]))
    assert away.status_code == 404


def test_registering_an_elder_retried_with_the_same_idempotency_key_registers_one(
        clients: dict[str, ApiClient], api_world: Any) -> None:
    body, key = elder_body(api_world), {"Idempotency-Key": "elder-retry-1"}
    first = clients["coordinator"].post("/api/v1/elders", json=body, headers=key)
    retry = clients["coordinator"].post("/api/v1/elders", json=body, headers=key)
    assert first.status_code == retry.status_code == 201 and retry.json == first.json
    assert retry.headers["Idempotent-Replayed"] == "true"
    with api_world.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(people.Elder).where(
            people.Elder.registered_at == s.get(people.Elder, first.json["id"]).registered_at)) == 1
    without_key = clients["coordinator"].post("/api/v1/elders", json=body)
    assert without_key.status_code == 409 and without_key.json["errors"]["field"] == "id_number"


def test_an_elder_and_their_proxy_read_the_elder_and_each_read_is_logged(
        clients: dict[str, ApiClient], api_world: Any) -> None:
    ids = api_world.ids
    for role in ("elder", "proxy"):
        got = clients[role].get(f"/api/v1/elders/{ids['elder']}")
        assert got.status_code == 200 and got.json["phone"] == "13900000000"
        assert access_rows(api_world, ids["elder"])[0].user_id == ids[f"user:{role}"]
    for role in ("other_elder", "other_coordinator"):
        assert clients[role].get(f"/api/v1/elders/{ids['elder']}").status_code == 404
    assert clients["volunteer"].get(f"/api/v1/elders/{ids['elder']}").status_code == 403


def test_a_volunteer_finds_an_elder_by_code_with_only_a_masked_name(
        clients: dict[str, ApiClient], api_world: Any) -> None:
    ids = api_world.ids
    with api_world.session() as s:
        code = s.get(people.Elder, ids["elder"]).short_code
    found = clients["student"].get(f"/api/v1/elders/by-code/{code.lower()}")
    assert found.status_code == 200
    assert found.json == {"id": ids["elder"], "short_code": code, "region_id": ids["community"],
                          "masked_name": "刘**"}
    assert access_rows(api_world, ids["elder"])[0].fields == ["masked_name"]
    assert clients["other_volunteer"].get(f"/api/v1/elders/by-code/{code}").status_code == 404
    assert clients["volunteer"].get("/api/v1/elders/by-code/ZZZZZZ").status_code == 404
    bad = clients["volunteer"].get("/api/v1/elders/by-code/no-such-code!")
    assert bad.status_code == 400 and "short_code" in bad.json["errors"]


def test_a_suspended_volunteer_cannot_look_elders_up(clients: dict[str, ApiClient], api_world: Any) -> None:
    volunteer_id = new_volunteer(api_world)
    with api_world.session() as s:
        username = users.create_user(s, username=f"sus.{volunteer_id}", password=PASSWORD, role="volunteer",
                                     subject_id=volunteer_id, at=NOW).username
        code = s.get(people.Elder, api_world.ids["elder"]).short_code
        s.commit()
    client = api_world.anonymous()
    csrf = client.post("/api/v1/auth/sign-in", json={"username": username, "password": PASSWORD}).json["csrf_token"]
    volunteer = ApiClient(client.client, csrf=csrf)
    assert volunteer.get(f"/api/v1/elders/by-code/{code}").status_code == 200
    assert clients["administrator"].post(f"/api/v1/volunteers/{volunteer_id}/status",
                                         json={"status": "suspended", "reason": "核查"}).status_code == 201
    refused = volunteer.get(f"/api/v1/elders/by-code/{code}")
    assert refused.status_code == 403 and "active volunteer" in refused.json["message"]


def test_a_volunteer_joins_only_an_organisation_of_their_own_bank(api_world: Any) -> None:
    with api_world.session() as s:
        far = create_organisation(s, region_id=api_world.ids["suqian"], kind="team", name="宿迁中学", at=NOW).id
        s.commit()
    away = api_world.anonymous().post("/api/v1/sign-up", json={**sign_up_body(api_world), "organisation_id": far})
    assert away.status_code == 400 and away.json["errors"]["field"] == "organisation_id"
    body = {**sign_up_body(api_world), "kind": "student", "organisation_id": api_world.ids["school"]}
    joined = api_world.anonymous().post("/api/v1/sign-up", json=body)
    assert joined.status_code == 201 and joined.json["volunteer"]["organisation_id"] == api_world.ids["school"]


def test_tags_are_added_removed_and_kept_as_history(clients: dict[str, ApiClient], api_world: Any) -> None:
    elder_id = new_elder(api_world)
    url = f"/api/v1/elders/{elder_id}/tags"
    added = clients["coordinator"].post(url, json={"tag": "dementia"})
    assert added.status_code == 201 and added.json["added_by"] == api_world.ids["coordinator"]
    assert clients["coordinator"].post(url, json={"tag": "dementia"}).status_code == 409
    assert clients["coordinator"].post(url, json={"tag": "wealthy"}).status_code == 400
    removed = clients["administrator"].delete(f"{url}/dementia")
    assert removed.status_code == 200 and removed.json["removed_by"] == api_world.ids["administrator"]
    assert clients["administrator"].delete(f"{url}/dementia").status_code == 404
    assert clients["administrator"].delete(f"{url}/wealthy").status_code == 400
    history = clients["coordinator"].get(f"{url}/history").json["items"]
    assert [(t["tag"], t["removed_at"] is not None) for t in history] == [("dementia", True)]
    assert clients["other_coordinator"].post(url, json={"tag": "disabled"}).status_code == 404
    assert clients["elder"].get(f"{url}/history").status_code == 403


# --- relatives ----------------------------------------------------------------------------------

def test_relatives_are_added_listed_with_their_personal_data_and_removed(
        clients: dict[str, ApiClient], api_world: Any) -> None:
    ids = api_world.ids
    url = f"/api/v1/elders/{ids['elder']}/relatives"
    made = clients["coordinator"].post(url, json={"relation": "child", "name": "刘女儿", "phone": "13711112222",
                                                  "person_id": ids["volunteer"], "may_redeem": True})
    assert made.status_code == 201, made.json
    assert "name" not in made.json and made.json["person_id"] == ids["volunteer"] and made.json["may_confirm"]
    listed = clients["proxy"].get(url).json["items"]
    assert {"刘女儿", "刘儿子"} <= {r["name"] for r in listed}
    assert access_rows(api_world, ids["elder"])[0].user_id == ids["user:proxy"]
    assert clients["other_coordinator"].delete(f"{url}/{made.json['id']}").status_code == 404
    assert clients["coordinator"].delete(f"/api/v1/elders/{ids['other_elder']}/relatives/{made.json['id']}"
                                         ).status_code == 404
    assert clients["coordinator"].delete(f"{url}/{made.json['id']}").status_code == 204
    assert clients["coordinator"].delete(f"{url}/{made.json['id']}").status_code == 404
    assert made.json["id"] not in {r["id"] for r in clients["elder"].get(url).json["items"]}


def test_a_relative_needs_a_known_relation_and_an_existing_person(
        clients: dict[str, ApiClient], api_world: Any) -> None:
    url = f"/api/v1/elders/{api_world.ids['elder']}/relatives"
    bad = clients["coordinator"].post(url, json={"relation": "boss", "name": "x", "phone": "12"})
    assert bad.status_code == 400 and set(bad.json["errors"]) == {"relation", "phone"}
    ghost = clients["coordinator"].post(url, json={"relation": "child", "name": "x", "person_id": "vol_nobody"})
    assert ghost.status_code == 404 and ghost.json["errors"]["field"] == "person_id"


# --- heirs and the access log -------------------------------------------------------------------

def test_a_person_names_and_clears_their_heir(clients: dict[str, ApiClient], api_world: Any) -> None:
    ids = api_world.ids
    url = f"/api/v1/people/{ids['elder']}/heir"
    named = clients["elder"].put(url, json={"heir_id": ids["volunteer"]})
    assert named.status_code == 200 and named.json == {"person_id": ids["elder"], "heir_id": ids["volunteer"]}
    assert clients["elder"].put(url, json={"heir_id": ids["elder"]}).status_code == 400
    assert clients["elder"].put(url, json={"heir_id": "vol_nobody"}).status_code == 404
    assert clients["elder"].put(url, json={}).json["errors"] == {"heir_id": ["Missing data for required field."]}
    assert clients["proxy"].put(url, json={"heir_id": None}).status_code == 403
    assert clients["other_coordinator"].put(url, json={"heir_id": None}).status_code == 404
    cleared = clients["coordinator"].put(url, json={"heir_id": None})
    assert cleared.status_code == 200 and cleared.json["heir_id"] is None
    assert access_rows(api_world, ids["elder"])[0].fields == ["heir_id"]


def test_the_access_log_shows_who_read_a_persons_data_to_them_and_their_administrator(
        clients: dict[str, ApiClient], api_world: Any) -> None:
    volunteer_id = new_volunteer(api_world)
    clients["coordinator"].get(f"/api/v1/volunteers/{volunteer_id}")
    with api_world.session() as s:
        username = users.create_user(s, username=f"own.{volunteer_id}", password=PASSWORD, role="volunteer",
                                     subject_id=volunteer_id, at=NOW).username
        s.commit()
    own = api_world.anonymous()
    csrf = own.post("/api/v1/auth/sign-in", json={"username": username, "password": PASSWORD}).json["csrf_token"]
    log = ApiClient(own.client, csrf=csrf).get(f"/api/v1/people/{volunteer_id}/access-log").json
    assert log["items"][0]["role"] == "coordinator" and log["items"][0]["action"] == "read"
    assert "name" in log["items"][0]["fields"] and log["items"][0]["user_id"] == api_world.ids["user:coordinator"]
    clients["administrator"].get(f"/api/v1/volunteers/{volunteer_id}")
    first = clients["administrator"].get(f"/api/v1/people/{volunteer_id}/access-log?limit=1").json
    assert first["items"][0]["role"] == "administrator" and first["next"]
    rest = clients["administrator"].get(f"/api/v1/people/{volunteer_id}/access-log?cursor={first['next']}").json
    assert [r["role"] for r in rest["items"]] == ["coordinator"]
    assert clients["coordinator"].get(f"/api/v1/people/{volunteer_id}/access-log").status_code == 403
    assert clients["other_administrator"].get(f"/api/v1/people/{volunteer_id}/access-log").status_code == 404
    assert clients["volunteer"].get(f"/api/v1/people/{volunteer_id}/access-log").status_code == 404


def test_no_sealed_value_or_ciphertext_reaches_a_response(clients: dict[str, ApiClient], api_world: Any) -> None:
    ids = api_world.ids
    with api_world.session() as s:
        sealed = s.scalar(sa.select(people.Elder.name_sealed).where(people.Elder.id == ids["elder"]))
    for path in (f"/api/v1/elders/{ids['elder']}", "/api/v1/elders", f"/api/v1/elders/{ids['elder']}/relatives"):
        text = clients["coordinator"].get(path).get_data(as_text=True)
        assert sealed not in text and "_sealed" not in text


# --- who may call what --------------------------------------------------------------------------

def test_every_rule_lets_exactly_its_roles_in(clients: dict[str, ApiClient], api_world: Any) -> None:
    problems = []
    for rule in RULES:
        for role in ROLES:
            path, body = rule.sample(api_world)
            client = api_world.anonymous() if role == "anonymous" else clients[role]  # sign-up signs in
            call = getattr(client, rule.method.lower())
            response = call(path) if rule.method in ("GET", "DELETE") else call(path, json=body)
            denied = response.status_code in (401, 403, 404)
            if response.status_code >= 500 or denied == (role in rule.allowed):
                problems.append(f"{rule.method} {rule.path} as {role}: {response.status_code} "
                                f"{(response.json or {}).get('message')}")
    assert problems == []


def test_the_rules_cover_every_path_of_the_blueprint(api_world: Any) -> None:
    spec = api_world.app.test_client().get("/api/v1/openapi.json").json
    ours = {(method.upper(), path) for path, ops in spec["paths"].items() for method, op in ops.items()
            if method in ("get", "post", "put", "patch", "delete") and "people" in op.get("tags", [])}
    assert ours == {(rule.method, rule.path) for rule in RULES}


def test_a_resident_id_must_agree_with_the_birth_date_and_sex(api_world: Any) -> None:
    body = sign_up_body(api_world)
    born = api_world.anonymous().post("/api/v1/sign-up", json={**body, "birth_date": "1970-01-01"})
    assert born.status_code == 400 and "born 1985-04-02" in born.json["message"]
    sex = api_world.anonymous().post("/api/v1/sign-up", json={**body, "sex": "F"})
    assert sex.status_code == 400 and sex.json["errors"]["field"] == "id_number"
    passport = api_world.anonymous().post("/api/v1/sign-up", json={**body, "id_number": "E12345678"})
    assert passport.status_code == 201, passport.json
