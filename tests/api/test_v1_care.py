"""Care agreements, contacts, weekly compliance and the monthly visit rate: /api/v1 (care)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from access_care import RULES, china_noon, sign, this_monday
from access_credits import new_elder, new_volunteer, now
from apiworld import ROLES, ApiWorld, Rule

from timebank import users
from timebank.checks import china_date

B = "/api/v1"


def check_rules(world: ApiWorld, rules: list[Rule]) -> None:
    """Every allowed role gets past the scope checks, every other role gets 401, 403 or 404, and nobody a 5xx."""
    wrong = []
    for rule in rules:
        for role in ROLES:
            path, body = rule.sample(world) if rule.sample else (rule.path, None)
            call = getattr(world.client_for(role), rule.method.lower())
            response = call(path) if rule.method == "GET" else call(path, json=body)
            denied = response.status_code in (401, 403, 404)
            if response.status_code >= 500 or denied == (role in rule.allowed):
                wrong.append((rule.method, rule.path, role, response.status_code, (response.json or {}).get("message")))
    assert wrong == []


def access_rows(world: ApiWorld, subject_id: str) -> list[users.AccessRecord]:
    with world.session() as s:
        return users.access_log(s, subject_id)


def agreement_body(elder_id: str, **changes: Any) -> dict[str, Any]:
    return {"elder_id": elder_id, "carer_kind": "neighbour", "carer_name": "隔壁王阿姨",
            "starts_on": (china_date(now()) - timedelta(days=14)).isoformat(), **changes}


def test_every_role_gets_exactly_the_care_endpoints_it_is_allowed(api_world: ApiWorld) -> None:
    check_rules(api_world, RULES)


# --- agreements ---------------------------------------------------------------------------------

def test_a_coordinator_signs_an_agreement_with_a_neighbour_whose_name_is_sealed_personal_data(
        api_world: ApiWorld) -> None:
    elder = new_elder(api_world, user=True)
    made = api_world.client_for("coordinator").post(f"{B}/care-agreements", json=agreement_body(elder))
    assert made.status_code == 201, made.json
    assert made.json["carer_name"] == "隔壁王阿姨" and made.json["carer_id"] is None
    assert made.json["contacts_per_week"] == 3  # policy care_contacts_per_week
    assert made.json["signed_by"] == api_world.ids["coordinator"] and made.json["receipts"]["signed"]["log"] == "haizhou"
    assert not any("sealed" in key for key in made.json)
    assert [(r.action, r.fields) for r in access_rows(api_world, elder)] == [("change", ["carer_name"])]
    mine = api_world.client_for(elder).get(f"{B}/care-agreements/{made.json['id']}")
    assert mine.status_code == 200 and mine.json["carer_name"] == "隔壁王阿姨"
    assert access_rows(api_world, elder)[0].action == "read"
    assert api_world.client_for("volunteer").get(f"{B}/care-agreements/{made.json['id']}").status_code == 404
    assert api_world.client_for("other_coordinator").get(f"{B}/care-agreements/{made.json['id']}").status_code == 404


def test_the_carer_volunteer_sees_the_agreement_and_logs_contacts_without_seeing_notes(api_world: ApiWorld) -> None:
    elder, carer = new_elder(api_world), new_volunteer(api_world, user=True)
    made = api_world.client_for("coordinator").post(f"{B}/care-agreements", json=agreement_body(
        elder, carer_kind="volunteer", carer_id=carer, carer_name=None, contacts_per_week=2))
    assert made.status_code == 201, made.json
    path = f"{B}/care-agreements/{made.json['id']}"
    client = api_world.client_for(carer)
    assert client.get(path).json["carer_id"] == carer
    visit = {"kind": "visit", "happened_at": china_noon(china_date(now()) - timedelta(days=1)), "minutes": 40,
             "note": "血压偏高，已提醒子女"}
    logged = client.post(f"{path}/contacts", json=visit)
    assert logged.status_code == 201, logged.json
    assert logged.json["by"] == carer and logged.json["has_note"] is True and logged.json["note"] is None
    assert [(r.action, r.fields) for r in access_rows(api_world, elder)] == [("change", ["note"])]
    own = client.get(f"{path}/contacts")
    assert own.status_code == 200 and own.json["items"][0]["note"] is None
    staff = api_world.client_for("coordinator").get(f"{path}/contacts")
    assert staff.json["items"][0]["note"] == "血压偏高，已提醒子女"
    assert access_rows(api_world, elder)[0].action == "read"
    twice = client.post(f"{path}/contacts", json=visit)
    assert twice.status_code == 409
    future = client.post(f"{path}/contacts", json={**visit, "happened_at": (now() + timedelta(hours=2)).isoformat()})
    assert future.status_code == 400 and future.json["errors"]["field"] == "happened_at"
    naive = client.post(f"{path}/contacts", json={**visit, "happened_at": "2025-01-01T10:00:00"})
    assert naive.status_code == 400 and "happened_at" in naive.json["errors"]
    assert api_world.client_for("volunteer").post(f"{path}/contacts", json=visit).status_code == 404


def test_signing_refuses_bad_input_naming_the_field_and_elders_out_of_scope(api_world: ApiWorld) -> None:
    coordinator = api_world.client_for("coordinator")
    elder = new_elder(api_world)
    no_id = coordinator.post(f"{B}/care-agreements", json=agreement_body(elder, carer_kind="volunteer",
                                                                         carer_name=None))
    assert no_id.status_code == 400 and no_id.json["errors"]["field"] == "carer_id"
    bad = coordinator.post(f"{B}/care-agreements", json=agreement_body(elder, carer_kind="cousin", starts_on="soon",
                                                                       contacts_per_week=30))
    assert bad.status_code == 400 and {"carer_kind", "starts_on", "contacts_per_week"} <= set(bad.json["errors"])
    other = coordinator.post(f"{B}/care-agreements", json=agreement_body(api_world.ids["other_elder"]))
    assert other.status_code == 404
    volunteer_as_elder = coordinator.post(f"{B}/care-agreements", json=agreement_body(api_world.ids["volunteer"]))
    assert volunteer_as_elder.status_code == 404
    assert api_world.client_for("elder").post(f"{B}/care-agreements", json=agreement_body(elder)).status_code == 403


def test_staff_end_an_agreement_once_with_a_receipt(api_world: ApiWorld) -> None:
    elder = new_elder(api_world)
    agreement = sign(api_world, elder, new_volunteer(api_world))
    path = f"{B}/care-agreements/{agreement}/end"
    ends_on = china_date(now()).isoformat()
    assert api_world.client_for("other_administrator").post(path, json={"ends_on": ends_on}).status_code == 404
    ended = api_world.client_for("administrator").post(path, json={"ends_on": ends_on})
    assert ended.status_code == 200, ended.json
    assert ended.json["ends_on"] == ends_on and ended.json["receipts"]["ended"]["log"] == "haizhou"
    again = api_world.client_for("administrator").post(path, json={"ends_on": ends_on})
    assert again.status_code == 409
    early = sign(api_world, elder, new_volunteer(api_world))
    before = api_world.client_for("administrator").post(f"{B}/care-agreements/{early}/end",
                                                        json={"ends_on": "2000-01-01"})
    assert before.status_code == 400 and before.json["errors"]["field"] == "ends_on"


def test_agreements_are_listed_by_region_and_status_and_paged(api_world: ApiWorld) -> None:
    elder = new_elder(api_world)
    first, second = sign(api_world, elder, new_volunteer(api_world)), sign(api_world, elder, new_volunteer(api_world))
    api_world.client_for("coordinator").post(f"{B}/care-agreements/{second}/end",
                                             json={"ends_on": china_date(now()).isoformat()})
    client = api_world.client_for("coordinator")
    page = client.get(f"{B}/care-agreements?elder_id={elder}&limit=1")
    assert page.status_code == 200 and len(page.json["items"]) == 1 and page.json["next"]
    rest = client.get(f"{B}/care-agreements?elder_id={elder}&limit=1&cursor={page.json['next']}").json
    assert {page.json["items"][0]["id"], rest["items"][0]["id"]} == {first, second}
    assert "carer_name" not in page.json["items"][0]
    open_ = client.get(f"{B}/care-agreements?elder_id={elder}&status=open").json["items"]
    assert [a["id"] for a in open_] == [first]
    assert client.get(f"{B}/care-agreements?region_id={api_world.ids['suqian']}").status_code == 404
    assert api_world.client_for("other_coordinator").get(f"{B}/care-agreements?elder_id={elder}").json["items"] == []
    assert client.get(f"{B}/care-agreements?status=lapsed").status_code == 400


# --- supervision --------------------------------------------------------------------------------

def test_compliance_lists_the_weeks_agreements_most_behind_first(api_world: ApiWorld) -> None:
    monday = this_monday()
    behind, keeping_up = new_elder(api_world), new_elder(api_world)
    late = sign(api_world, behind, new_volunteer(api_world), starts_on=monday - timedelta(days=7))
    good_carer = new_volunteer(api_world, user=True)
    good = sign(api_world, keeping_up, good_carer, starts_on=monday - timedelta(days=7))
    for seconds in (1, 2, 3):  # three calls this week, just now
        happened = now() - timedelta(seconds=seconds)
        response = api_world.client_for(good_carer).post(f"{B}/care-agreements/{good}/contacts", json={
            "kind": "call", "happened_at": happened.isoformat()})
        assert response.status_code == 201, response.json
    rows = api_world.client_for("coordinator").get(
        f"{B}/regions/{api_world.ids['community']}/care-compliance?week_start={monday}&limit=200")
    assert rows.status_code == 200, rows.json
    by_id = {row["agreement_id"]: row for row in rows.json["items"]}
    assert by_id[late]["done"] == 0 and by_id[late]["missing"] == 3 and by_id[late]["behind"] is True
    assert by_id[good]["done"] == 3 and by_id[good]["behind"] is False
    ids = [row["agreement_id"] for row in rows.json["items"]]
    assert ids.index(late) < ids.index(good)
    missing = [row["missing"] for row in rows.json["items"]]
    assert missing == sorted(missing, reverse=True)
    behind_only = api_world.client_for("coordinator").get(
        f"{B}/regions/{api_world.ids['community']}/care-compliance?week_start={monday}&behind_only=true&limit=200")
    assert good not in [row["agreement_id"] for row in behind_only.json["items"]]
    paged = api_world.client_for("coordinator").get(
        f"{B}/regions/{api_world.ids['community']}/care-compliance?week_start={monday}&limit=1")
    assert len(paged.json["items"]) == 1 and paged.json["next"]
    second = api_world.client_for("coordinator").get(f"{B}/regions/{api_world.ids['community']}/care-compliance"
                                                     f"?week_start={monday}&limit=1&cursor={paged.json['next']}")
    assert second.json["items"][0]["agreement_id"] == ids[1]


def test_compliance_needs_a_monday_and_staff_covering_the_region(api_world: ApiWorld) -> None:
    tuesday = this_monday() + timedelta(days=1)
    path = f"{B}/regions/{api_world.ids['haizhou']}/care-compliance"
    bad = api_world.client_for("coordinator").get(f"{path}?week_start={tuesday}")
    assert bad.status_code == 400 and "week_start" in bad.json["errors"]
    assert api_world.client_for("coordinator").get(path).status_code == 400
    assert api_world.client_for("other_coordinator").get(f"{path}?week_start={this_monday()}").status_code == 404
    assert api_world.client_for("volunteer").get(f"{path}?week_start={this_monday()}").status_code == 403


def test_the_visit_rate_counts_elders_visited_in_the_month(fresh_api_world: ApiWorld) -> None:
    world = fresh_api_world
    today = china_date(now())
    month = today.replace(day=1)
    carer = new_volunteer(world, user=True)
    visited = sign(world, new_elder(world), carer, starts_on=month)
    sign(world, new_elder(world), new_volunteer(world), starts_on=month)
    happened = now() - timedelta(minutes=5)
    call = world.client_for(carer).post(f"{B}/care-agreements/{visited}/contacts", json={
        "kind": "visit", "happened_at": happened.isoformat()})
    assert call.status_code == 201, call.json
    rate = world.client_for("administrator").get(f"{B}/regions/{world.ids['haizhou']}/visit-rate?month={month}")
    assert rate.status_code == 200, rate.json
    assert rate.json == {"region_id": world.ids["haizhou"], "month": month.isoformat(), "visited": 1, "elders": 2,
                         "rate": 0.5}
    assert world.client_for("auditor").get(f"{B}/regions/{world.ids['suqian']}/visit-rate?month={month}").json[
        "rate"] is None
    second_day = month + timedelta(days=1)
    bad = world.client_for("administrator").get(f"{B}/regions/{world.ids['haizhou']}/visit-rate?month={second_day}")
    assert bad.status_code == 400 and "month" in bad.json["errors"]
    assert world.client_for("other_administrator").get(
        f"{B}/regions/{world.ids['haizhou']}/visit-rate?month={month}").status_code == 404
