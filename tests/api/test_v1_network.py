"""Regions, banks, stations, organisations, staff, the catalogue, policy, statistics and settlement:
/api/v1/regions, /staff, /catalogue, /policy, /settlement."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from access_network import RULES, new_region, owe
from apiworld import ROLES

from timebank import interbank, users

V1 = "/api/v1"


# --- regions and banks --------------------------------------------------------------------------

def test_anyone_signed_in_reads_the_whole_region_tree_and_filters_it(api_world: Any) -> None:
    ids = api_world.ids
    elder = api_world.client_for("elder")
    everything = elder.get(f"{V1}/regions?limit=200").json
    names = {r["name_zh"] for r in everything["items"]}
    assert {"江苏省", "连云港市", "海州区", "朝阳社区", "宿迁市", "幸福社区"} <= names
    assert everything["next"] is None
    children = api_world.client_for("coordinator").get(f"{V1}/regions?parent_id={ids['province']}").json["items"]
    assert {r["id"] for r in children} == {ids["lyg"], ids["suqian"]}  # staff see beyond their subtree too
    cities = elder.get(f"{V1}/regions?level=city").json["items"]
    assert all(r["level"] == "city" and r["level_name"] == "市" for r in cities) and len(cities) >= 2
    assert api_world.anonymous().get(f"{V1}/regions").status_code == 401


def test_the_region_list_pages_with_a_cursor(api_world: Any) -> None:
    client = api_world.client_for("volunteer")
    first = client.get(f"{V1}/regions?limit=2").json
    assert len(first["items"]) == 2 and first["next"]
    second = client.get(f"{V1}/regions?limit=2&cursor={first['next']}").json
    assert not {r["id"] for r in first["items"]} & {r["id"] for r in second["items"]}
    bad = client.get(f"{V1}/regions?limit=0&level=planet")
    assert bad.status_code == 400 and {"limit", "level"} <= set(bad.json["errors"])


def test_one_region_names_its_ancestors_and_the_bank_that_covers_it(api_world: Any) -> None:
    ids = api_world.ids
    region = api_world.client_for("school").get(f"{V1}/regions/{ids['community']}").json
    assert region["ancestor_ids"] == [ids["province"], ids["lyg"], ids["haizhou"], ids["community"]]
    assert region["bank_id"] == ids["haizhou"] and region["is_bank"] is False and region["origin"] is None
    bank = api_world.client_for("elder").get(f"{V1}/regions/{ids['suqian']}").json
    assert bank["is_bank"] and bank["log_id"] == "suqian" and bank["origin"] == "timebank.test/suqian"
    missing = api_world.client_for("elder").get(f"{V1}/regions/reg_nothere")
    assert missing.status_code == 404 and missing.json["code"] == "not_found"


def test_an_administrator_adds_a_region_only_under_their_subtree(api_world: Any) -> None:
    ids = api_world.ids
    admin = api_world.client_for("administrator")
    body = {"parent_id": ids["haizhou"], "level": "township", "name_zh": "新南街道", "name_en": "Xinnan"}
    made = admin.post(f"{V1}/regions", json=body)
    assert made.status_code == 201, made.json
    assert made.json["parent_id"] == ids["haizhou"] and made.json["bank_id"] == ids["haizhou"]
    outside = admin.post(f"{V1}/regions", json={**body, "parent_id": ids["suqian"]})
    assert outside.status_code == 404 and outside.json["errors"]["field"] == "region_id"
    above = admin.post(f"{V1}/regions", json={**body, "parent_id": ids["lyg"], "level": "county"})
    assert above.status_code == 404  # 连云港市 is above the administrator's 海州区
    assert api_world.client_for("coordinator").post(f"{V1}/regions", json=body).status_code == 403


def test_a_region_must_sit_deeper_than_its_parent_and_its_body_is_checked(api_world: Any) -> None:
    ids = api_world.ids
    admin = api_world.client_for("administrator")
    upward = admin.post(f"{V1}/regions", json={"parent_id": ids["haizhou"], "level": "city", "name_zh": "某市",
                                                "name_en": "Some city"})
    assert upward.status_code == 400 and upward.json["errors"]["field"] == "level"
    assert "cannot sit under" in upward.json["message"]
    bad = admin.post(f"{V1}/regions", json={"parent_id": ids["haizhou"], "level": "township", "name_zh": "",
                                             "colour": "red"})
    assert bad.status_code == 400 and {"name_zh", "name_en", "colour"} <= set(bad.json["errors"])


def test_an_administrator_opens_a_bank_with_its_own_log_and_a_receipt(api_world: Any) -> None:
    admin = api_world.client_for("administrator")
    region_id = new_region(api_world, "haizhou", "township")
    opened = admin.post(f"{V1}/regions/{region_id}/bank", json={"log_id": "xinnan"})
    assert opened.status_code == 201, opened.json
    assert opened.json["is_bank"] and opened.json["log_id"] == "xinnan"
    assert opened.json["origin"] == "timebank.test/xinnan" and opened.json["bank_id"] == region_id
    assert opened.json["receipt"]["log"] == "xinnan" and opened.json["receipt"]["index"] == 0
    again = admin.post(f"{V1}/regions/{region_id}/bank", json={"log_id": "xinnan-2"})
    assert again.status_code == 409 and "already a bank" in again.json["message"]
    taken = admin.post(f"{V1}/regions/{new_region(api_world)}/bank", json={"log_id": "xinnan"})
    assert taken.status_code == 409
    assert api_world.anonymous().get("/api/v1/ledger/logs").status_code in (200, 404)  # the ledger API is apart


def test_opening_a_bank_refuses_a_bad_log_id_and_regions_out_of_scope(api_world: Any) -> None:
    ids = api_world.ids
    admin = api_world.client_for("administrator")
    bad = admin.post(f"{V1}/regions/{new_region(api_world)}/bank", json={"log_id": "Bad Log!"})
    assert bad.status_code == 400 and "log_id" in bad.json["errors"]
    outside = admin.post(f"{V1}/regions/{ids['suqian_community']}/bank", json={"log_id": "xingfu"})
    assert outside.status_code == 404
    coordinator = api_world.client_for("coordinator").post(f"{V1}/regions/{new_region(api_world)}/bank",
                                                        json={"log_id": "by-coordinator"})
    assert coordinator.status_code == 403


def test_opening_a_bank_again_with_the_same_idempotency_key_replays_the_response(api_world: Any) -> None:
    admin = api_world.client_for("administrator")
    path = f"{V1}/regions/{new_region(api_world, 'haizhou', 'township')}/bank"
    headers = {"Idempotency-Key": "open-bank-once"}
    first = admin.post(path, json={"log_id": "replayed"}, headers=headers)
    second = admin.post(path, json={"log_id": "replayed"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json == first.json and second.headers["Idempotent-Replayed"] == "true"


# --- stations and organisations -----------------------------------------------------------------

def test_an_administrator_adds_stations_that_everyone_signed_in_lists(api_world: Any) -> None:
    ids = api_world.ids
    made = api_world.client_for("administrator").post(f"{V1}/regions/{ids['community']}/stations",
                                                   json={"name": "朝阳社区服务站"})
    assert made.status_code == 201 and made.json["region_id"] == ids["community"]
    elder = api_world.client_for("elder")
    here = elder.get(f"{V1}/regions/{ids['community']}/stations").json["items"]
    assert made.json["id"] in {s["id"] for s in here}
    assert made.json["id"] not in {s["id"] for s in elder.get(f"{V1}/regions/{ids['haizhou']}/stations").json["items"]}
    below = elder.get(f"{V1}/regions/{ids['haizhou']}/stations?subtree=true").json["items"]
    assert made.json["id"] in {s["id"] for s in below}


def test_stations_are_added_only_by_an_administrator_covering_the_region(api_world: Any) -> None:
    ids = api_world.ids
    path = f"{V1}/regions/{ids['community']}/stations"
    assert api_world.client_for("other_administrator").post(path, json={"name": "外站"}).status_code == 404
    assert api_world.client_for("coordinator").post(path, json={"name": "协调站"}).status_code == 403
    blank = api_world.client_for("administrator").post(path, json={"name": ""})
    assert blank.status_code == 400 and "name" in blank.json["errors"]
    assert api_world.client_for("volunteer").get(f"{V1}/regions/reg_nothere/stations").status_code == 404


def test_an_administrator_adds_a_team_under_a_brand_and_lists_them_by_kind(api_world: Any) -> None:
    ids = api_world.ids
    admin = api_world.client_for("administrator")
    path = f"{V1}/regions/{ids['haizhou']}/organisations"
    brand = admin.post(path, json={"kind": "brand", "name": "情暖夕阳"})
    assert brand.status_code == 201, brand.json
    team = admin.post(path, json={"kind": "team", "name": "情暖夕阳一队", "brand_id": brand.json["id"]})
    assert team.status_code == 201 and team.json["brand_id"] == brand.json["id"]
    not_a_brand = admin.post(path, json={"kind": "team", "name": "二队", "brand_id": team.json["id"]})
    assert not_a_brand.status_code == 400 and not_a_brand.json["errors"]["field"] == "brand_id"
    brands = api_world.client_for("volunteer").get(f"{path}?kind=brand").json["items"]
    assert [b["id"] for b in brands] == [brand.json["id"]]
    assert api_world.client_for("other_administrator").post(path, json={"kind": "team", "name": "x"}).status_code == 404


# --- staff --------------------------------------------------------------------------------------

def test_an_administrator_adds_staff_and_the_name_change_is_logged(api_world: Any) -> None:
    ids = api_world.ids
    made = api_world.client_for("administrator").post(f"{V1}/staff", json={
        "region_id": ids["community"], "role": "coordinator", "name": "周网格"})
    assert made.status_code == 201, made.json
    assert made.json["role"] == "coordinator" and made.json["active"]
    assert "name" not in made.json and "name_sealed" not in made.json  # not echoed, so no replay keeps it in clear
    assert api_world.client_for("administrator").get(f"{V1}/staff/{made.json['id']}").json["name"] == "周网格"
    with api_world.session() as session:
        read, changed = users.access_log(session, made.json["id"])  # newest first
        assert (changed.user_id, changed.action, changed.fields) == (ids["user:administrator"], "change", ["name"])
        assert (read.action, read.fields) == ("read", ["name"])


def test_staff_are_added_only_in_the_administrators_subtree(api_world: Any) -> None:
    ids = api_world.ids
    admin = api_world.client_for("administrator")
    outside = admin.post(f"{V1}/staff", json={"region_id": ids["suqian"], "role": "coordinator", "name": "钱"})
    assert outside.status_code == 404
    bad = admin.post(f"{V1}/staff", json={"region_id": ids["haizhou"], "role": "mayor", "name": ""})
    assert bad.status_code == 400 and {"role", "name"} <= set(bad.json["errors"])
    assert api_world.client_for("coordinator").post(f"{V1}/staff", json={
        "region_id": ids["haizhou"], "role": "coordinator", "name": "王"}).status_code == 403


def test_staff_in_scope_read_a_colleague_and_the_read_is_logged(api_world: Any) -> None:
    ids = api_world.ids
    shown = api_world.client_for("coordinator").get(f"{V1}/staff/{ids['administrator']}")
    assert shown.status_code == 200 and shown.json["name"] == "李管理"
    with api_world.session() as session:
        rows = users.access_log(session, ids["administrator"])
        assert any(r.user_id == ids["user:coordinator"] and r.action == "read" and r.fields == ["name"] for r in rows)


def test_staff_out_of_scope_are_not_found_and_other_roles_never_see_staff_names(api_world: Any) -> None:
    ids = api_world.ids
    assert api_world.client_for("other_coordinator").get(f"{V1}/staff/{ids['coordinator']}").status_code == 404
    assert api_world.client_for("administrator").get(f"{V1}/staff/{ids['other_administrator']}").status_code == 404
    assert api_world.client_for("administrator").get(f"{V1}/staff/stf_nothere").status_code == 404
    for role in ("volunteer", "elder", "school", "auditor"):
        response = api_world.client_for(role).get(f"{V1}/staff/{ids['coordinator']}")
        assert response.status_code == 403 and "王协调" not in response.get_data(as_text=True)


# --- the catalogue ------------------------------------------------------------------------------

def test_the_catalogue_lists_the_national_items_and_a_regions_own(api_world: Any) -> None:
    ids = api_world.ids
    added = api_world.client_for("administrator").post(f"{V1}/catalogue", json={
        "region_id": ids["haizhou"], "code": "HZ-TEA", "name_zh": "茶话会", "name_en": "Tea party",
        "category": "culture", "weight_pct": 80})
    assert added.status_code == 201, added.json
    assert added.json["region_id"] == ids["haizhou"] and added.json["weight_pct"] == 80
    client = api_world.client_for("volunteer")
    here = {i["code"]: i for i in client.get(f"{V1}/catalogue?region_id={ids['community']}&limit=200").json["items"]}
    assert {"HZ-TEA", "NURSING"} <= set(here) and here["NURSING"]["volunteer_eligible"] is False
    away = {i["code"] for i in client.get(f"{V1}/catalogue?region_id={ids['suqian']}&limit=200").json["items"]}
    assert "HZ-TEA" not in away
    cultural = client.get(f"{V1}/catalogue?category=culture&limit=200").json["items"]
    assert cultural and all(i["category"] == "culture" for i in cultural)
    assert client.get(f"{V1}/catalogue?region_id=reg_nothere").status_code == 404


def test_the_catalogue_of_a_region_applies_its_policys_weights(api_world: Any) -> None:
    region_id = new_region(api_world)
    admin = api_world.client_for("administrator")
    assert admin.post(f"{V1}/regions/{region_id}/policy", json={"changes": {"weights": {"MEAL": 150}}}
                      ).status_code == 201
    items = {i["code"]: i for i in api_world.client_for("elder").get(
        f"{V1}/catalogue?region_id={region_id}&limit=200").json["items"]}
    assert items["MEAL"]["weight_pct"] == 150 and items["MEAL"]["catalogue_weight_pct"] == 100
    assert items["MEAL"]["policy_version"] >= 1


def test_adding_a_catalogue_item_checks_the_code_the_values_and_the_scope(api_world: Any) -> None:
    ids = api_world.ids
    admin = api_world.client_for("administrator")
    body = {"region_id": ids["haizhou"], "code": "HZ-READ", "name_zh": "读报", "name_en": "Reading",
            "category": "emotional"}
    assert admin.post(f"{V1}/catalogue", json=body).status_code == 201
    taken = admin.post(f"{V1}/catalogue", json=body)
    assert taken.status_code == 409 and taken.json["errors"]["field"] == "code"
    bad = admin.post(f"{V1}/catalogue", json={**body, "code": "bad code", "weight_pct": "120", "price_minutes": 0})
    assert bad.status_code == 400 and {"code", "weight_pct", "price_minutes"} <= set(bad.json["errors"])
    assert admin.post(f"{V1}/catalogue", json={**body, "code": "SQ-X", "region_id": ids["suqian"]}).status_code == 404
    assert api_world.client_for("coordinator").post(f"{V1}/catalogue", json={**body, "code": "C-X"}).status_code == 403


# --- policy -------------------------------------------------------------------------------------

def test_the_knobs_are_listed_with_their_defaults_rules_and_meanings(api_world: Any) -> None:
    knobs = {k["name"]: k for k in api_world.client_for("school").get(f"{V1}/policy/knobs").json["items"]}
    assert knobs["daily_cap_minutes"]["default"] == 480 and knobs["daily_cap_minutes"]["rule"] == "1–1440"
    assert knobs["expiry_days"]["default"] is None and knobs["weights"]["default"] == {}
    assert all(k["meaning"] for k in knobs.values())
    assert api_world.anonymous().get(f"{V1}/policy/knobs").status_code == 401


def test_an_administrator_sets_policy_and_gets_the_version_and_its_receipt(api_world: Any) -> None:
    ids = api_world.ids
    region_id = new_region(api_world)
    admin = api_world.client_for("administrator")
    set_ = admin.post(f"{V1}/regions/{region_id}/policy", json={"changes": {"daily_cap_minutes": 360,
                                                                            "rounding": "floor"}})
    assert set_.status_code == 201, set_.json
    assert set_.json["set"] == {"daily_cap_minutes": 360, "rounding": "floor"}
    assert set_.json["set_by"] == ids["administrator"] and set_.json["receipt"]["log"] == "haizhou"
    shown = api_world.client_for("volunteer").get(f"{V1}/regions/{region_id}/policy").json
    assert shown["version"] >= set_.json["version"] and shown["values"]["daily_cap_minutes"] == 360
    assert api_world.client_for("volunteer").get(f"{V1}/regions/{ids['community']}/policy").json["values"][
        "daily_cap_minutes"] == 480  # the parent keeps the default
    history = api_world.client_for("auditor").get(f"{V1}/regions/{region_id}/policy/history").json["items"]
    assert history[0]["version"] == set_.json["version"] and history[0]["receipt"] == set_.json["receipt"]


def test_unknown_knobs_and_values_out_of_range_are_400_naming_each(api_world: Any) -> None:
    admin = api_world.client_for("administrator")
    path = f"{V1}/regions/{api_world.ids['community']}/policy"
    bad = admin.post(path, json={"changes": {"colour": "red", "daily_cap_minutes": 5000, "allow_overlap": "yes"}})
    assert bad.status_code == 400
    named = bad.json["errors"]["changes"]
    assert {"colour", "daily_cap_minutes", "allow_overlap"} <= set(named)
    assert "1440" in json.dumps(named)
    empty = admin.post(path, json={"changes": {}})
    assert empty.status_code == 400 and "at least one" in empty.json["message"]
    assert admin.post(path, json={}).status_code == 400
    duplicated = admin.post(path, json={"changes": {"gift_relations": ["spouse", "spouse"]}})
    assert duplicated.status_code == 400 and "gift_relations" in duplicated.json["errors"]["changes"]
    not_a_bank = admin.post(path, json={"changes": {"accepted_banks": [api_world.ids["community"]]}})
    assert not_a_bank.status_code == 400 and not_a_bank.json["errors"]["field"] == "accepted_banks"


def test_the_policy_body_documents_every_knob(api_world: Any) -> None:
    knobs = {k["name"] for k in api_world.client_for("volunteer").get(f"{V1}/policy/knobs").json["items"]}
    document = api_world.anonymous().get(f"{V1}/openapi.json").json
    assert set(document["components"]["schemas"]["PolicyChanges"]["properties"]) == knobs


def test_policy_is_set_only_by_an_administrator_covering_the_region(api_world: Any) -> None:
    ids = api_world.ids
    body = {"changes": {"redemption_age": 65}}
    assert api_world.client_for("other_administrator").post(f"{V1}/regions/{ids['community']}/policy",
                                                         json=body).status_code == 404
    assert api_world.client_for("administrator").post(f"{V1}/regions/{ids['lyg']}/policy", json=body).status_code == 404
    assert api_world.client_for("coordinator").post(f"{V1}/regions/{ids['community']}/policy",
                                                 json=body).status_code == 403


def test_setting_policy_again_with_the_same_idempotency_key_makes_no_second_version(api_world: Any) -> None:
    region_id = new_region(api_world)
    admin = api_world.client_for("administrator")
    headers = {"Idempotency-Key": "policy-once"}
    first = admin.post(f"{V1}/regions/{region_id}/policy", json={"changes": {"points_per_hour": 2}}, headers=headers)
    second = admin.post(f"{V1}/regions/{region_id}/policy", json={"changes": {"points_per_hour": 2}}, headers=headers)
    assert first.status_code == second.status_code == 201 and first.json == second.json
    history = api_world.client_for("administrator").get(f"{V1}/regions/{region_id}/policy/history").json["items"]
    assert [h["version"] for h in history if h["region_id"] == region_id] == [first.json["version"]]
    reused = admin.post(f"{V1}/regions/{region_id}/policy", json={"changes": {"points_per_hour": 3}}, headers=headers)
    assert reused.status_code == 409


def test_policy_history_is_for_staff_covering_the_region_and_auditors(api_world: Any) -> None:
    ids = api_world.ids
    path = f"{V1}/regions/{ids['community']}/policy/history"
    for role in ("coordinator", "administrator", "auditor"):
        assert api_world.client_for(role).get(path).status_code == 200
    assert api_world.client_for("other_coordinator").get(path).status_code == 404
    assert api_world.client_for("volunteer").get(path).status_code == 403


def test_policy_history_pages_newest_first(api_world: Any) -> None:
    region_id = new_region(api_world)
    admin = api_world.client_for("administrator")
    for cap in (400, 410, 420):
        assert admin.post(f"{V1}/regions/{region_id}/policy",
                          json={"changes": {"daily_cap_minutes": cap}}).status_code == 201
    first = admin.get(f"{V1}/regions/{region_id}/policy/history?limit=2").json
    assert [h["set"]["daily_cap_minutes"] for h in first["items"]] == [420, 410] and first["next"]
    rest = admin.get(f"{V1}/regions/{region_id}/policy/history?limit=2&cursor={first['next']}").json
    assert rest["items"][0]["set"] == {"daily_cap_minutes": 400}
    assert admin.get(f"{V1}/regions/{region_id}/policy/history?cursor=!!").status_code == 400


# --- statistics ---------------------------------------------------------------------------------

def test_staff_covering_a_region_and_auditors_read_its_statistics_without_personal_data(api_world: Any) -> None:
    ids = api_world.ids
    path = f"{V1}/regions/{ids['haizhou']}/stats?from=2024-01-01&to=2024-12-31"
    figures = api_world.client_for("coordinator").get(path)
    assert figures.status_code == 200, figures.json
    assert figures.json["from"] == "2024-01-01" and figures.json["to"] == "2024-12-31"
    assert figures.json["volunteers"] == 2 and figures.json["volunteers_by_kind"] == {"community": 1, "student": 1}
    assert figures.json["elders"] == 1 and set(figures.json["monthly_visit_rate"]) == {"visited", "elders"}
    text = figures.get_data(as_text=True)
    assert not any(name in text for name in ("张志愿", "陈同学", "刘奶奶", "13800000000"))
    assert api_world.client_for("auditor").get(path).status_code == 200
    assert api_world.client_for("other_administrator").get(path).status_code == 404
    assert api_world.client_for("elder").get(path).status_code == 403


def test_statistics_refuse_a_period_that_ends_before_it_starts(api_world: Any) -> None:
    client = api_world.client_for("administrator")
    path = f"{V1}/regions/{api_world.ids['haizhou']}/stats"
    backwards = client.get(f"{path}?from=2024-05-01&to=2024-04-30")
    assert backwards.status_code == 400 and "to" in backwards.json["errors"]
    assert client.get(f"{path}?from=yesterday").status_code == 400
    assert client.get(path).status_code == 200  # this month so far


# --- settlement ---------------------------------------------------------------------------------

def test_the_settlement_report_nets_positions_and_administrators_see_their_own_banks(fresh_api_world: Any) -> None:
    world, ids = fresh_api_world, fresh_api_world.ids
    owe(world, "haizhou", "suqian", 90)
    owe(world, "suqian", "haizhou", 30)
    owe(world, "lyg", "suqian", 45)
    everything = world.client_for("auditor").get(f"{V1}/settlement").json["items"]
    pairs = {frozenset((p["bank_a_id"], p["bank_b_id"])): p for p in everything}
    assert len(pairs) == 2
    between = pairs[frozenset((ids["haizhou"], ids["suqian"]))]
    a_is_haizhou = between["bank_a_id"] == ids["haizhou"]  # pairs come in the banks' path order
    used = (between["a_to_b"], between["b_to_a"]) if a_is_haizhou else (between["b_to_a"], between["a_to_b"])
    assert used == (90, 30) and between["net"] == (60 if a_is_haizhou else -60)
    assert between["owes"] == {"debtor_bank_id": ids["haizhou"], "creditor_bank_id": ids["suqian"], "minutes": 60}
    owed = between["a_owes_b_closing"] if a_is_haizhou else between["b_owes_a_closing"]
    assert owed == 90 and between["reconciled"] is True
    mine = world.client_for("administrator").get(f"{V1}/settlement").json["items"]
    assert [frozenset((p["bank_a_id"], p["bank_b_id"])) for p in mine] == [frozenset((ids["haizhou"], ids["suqian"]))]
    assert len(world.client_for("other_administrator").get(f"{V1}/settlement").json["items"]) == 2
    first = world.client_for("auditor").get(f"{V1}/settlement?limit=1").json
    rest = world.client_for("auditor").get(f"{V1}/settlement?limit=1&cursor={first['next']}").json
    assert len(first["items"]) == len(rest["items"]) == 1 and rest["next"] is None
    assert first["items"][0] != rest["items"][0]
    assert world.client_for("coordinator").get(f"{V1}/settlement").status_code == 403
    assert world.client_for("auditor").get(f"{V1}/settlement?from=2030-01-02&to=2030-01-01").status_code == 400


def test_an_administrator_settles_two_banks_once_with_receipts_in_both_logs(fresh_api_world: Any) -> None:
    world, ids = fresh_api_world, fresh_api_world.ids
    owe(world, "haizhou", "suqian", 90)
    owe(world, "suqian", "haizhou", 30)
    admin = world.client_for("administrator")
    body = {"bank_a_id": ids["haizhou"], "bank_b_id": ids["suqian"]}
    headers = {"Idempotency-Key": "settle-once"}
    done = admin.post(f"{V1}/settlement", json=body, headers=headers)
    assert done.status_code == 201, done.json
    assert (done.json["a_owed"], done.json["b_owed"], done.json["net"]) == (90, 30, 60)
    assert done.json["settled_by"] == ids["administrator"]
    receipts = done.json["receipts"]
    assert receipts["bank_a"]["log"] == receipts["link"]["log"] == "haizhou" and receipts["bank_b"]["log"] == "suqian"
    replay = admin.post(f"{V1}/settlement", json=body, headers=headers)
    assert replay.status_code == 201 and replay.json == done.json
    with world.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(interbank.Settlement)) == 1
    report = world.client_for("auditor").get(f"{V1}/settlement").json["items"]
    assert report[0]["a_owes_b_closing"] == report[0]["b_owes_a_closing"] == 0
    nothing = admin.post(f"{V1}/settlement", json=body)
    assert nothing.status_code == 409 and "nothing to settle" in nothing.json["message"]


def test_settlement_needs_two_banks_and_an_administrator_of_one_of_them(api_world: Any) -> None:
    ids = api_world.ids
    admin = api_world.client_for("administrator")
    neither = admin.post(f"{V1}/settlement", json={"bank_a_id": ids["lyg"], "bank_b_id": ids["suqian"]})
    assert neither.status_code == 403 and "one of the two banks" in neither.json["message"]
    not_a_bank = admin.post(f"{V1}/settlement", json={"bank_a_id": ids["haizhou"], "bank_b_id": ids["community"]})
    assert not_a_bank.status_code == 400 and not_a_bank.json["errors"]["field"] == "bank_b_id"
    unknown = admin.post(f"{V1}/settlement", json={"bank_a_id": ids["haizhou"], "bank_b_id": "reg_nothere"})
    assert unknown.status_code == 404 and unknown.json["errors"]["field"] == "bank_b_id"
    assert admin.post(f"{V1}/settlement", json={"bank_a_id": ids["haizhou"]}).status_code == 400
    assert api_world.client_for("coordinator").post(f"{V1}/settlement", json={
        "bank_a_id": ids["haizhou"], "bank_b_id": ids["suqian"]}).status_code == 403


# --- who may call what ----------------------------------------------------------------------------

@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.method} {r.path}")
def test_the_access_rule_holds_for_every_role(api_world: Any, rule: Any) -> None:
    wrong = []
    for role in ROLES:
        response = rule.attempt(api_world, role)
        allowed = role in rule.allowed
        if response.status_code >= 500 or (allowed and response.status_code in (401, 403, 404)) or (
                not allowed and response.status_code not in (401, 403, 404)):
            wrong.append(f"{role}: {response.status_code} {(response.json or {}).get('message', '')}")
    assert not wrong, "\n".join(wrong)


def test_every_network_path_of_the_openapi_document_has_a_rule(api_world: Any) -> None:
    document = api_world.anonymous().get(f"{V1}/openapi.json").json
    ours = {(method.upper(), path) for path, item in document["paths"].items() for method, operation in item.items()
            if method in ("get", "post", "put", "patch", "delete") and "network" in operation.get("tags", [])}
    assert ours == {(rule.method, rule.path) for rule in RULES}


def test_a_blacklisted_organisation_is_history_in_the_ledger_and_its_records_are_refused(
    fresh_api_world: Any,
) -> None:
    world = fresh_api_world
    admin = world.as_user("administrator")
    made = admin.post(f"/api/v1/regions/{world.ids['community']}/organisations", json={"kind": "team", "name": "某队"})
    team = made.json["id"]
    no_reason = admin.post(f"/api/v1/organisations/{team}/status", json={"status": "blacklisted"})
    assert no_reason.status_code == 400 and no_reason.json["errors"]["field"] == "reason"
    done = admin.post(f"/api/v1/organisations/{team}/status", json={"status": "blacklisted", "reason": "虚报时长"})
    assert done.status_code == 201 and done.json["status"] == "blacklisted" and done.json["receipt"]["log"] == "haizhou"
    listed = admin.get(f"/api/v1/regions/{world.ids['community']}/organisations").json["items"]
    assert [o["status"] for o in listed if o["id"] == team] == ["blacklisted"]
    again = admin.post(f"/api/v1/organisations/{team}/status", json={"status": "blacklisted", "reason": "x"})
    assert again.status_code == 409
    other = world.as_user("other_administrator")
    assert other.post(f"/api/v1/organisations/{team}/status", json={"status": "active"}).status_code == 404
