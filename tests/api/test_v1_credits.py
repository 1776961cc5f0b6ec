"""Balances and history, redemptions, gifts, estates, points and expiry: /api/v1 (credits)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from access_credits import RULES, deceased_with_credit, give, new_elder, new_volunteer, now, requested
from apiworld import ROLES, ApiWorld, Rule

from timebank import policy, users
from timebank.accounts import Account

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


def balance_of(world: ApiWorld, person_id: str) -> dict[str, Any]:
    response = world.client_for("coordinator").get(f"{B}/people/{person_id}/balance")
    assert response.status_code == 200, response.json
    return response.json


def access_rows(world: ApiWorld, subject_id: str) -> list[users.AccessRecord]:
    with world.session() as s:
        return users.access_log(s, subject_id)


def redeem_body(world: ApiWorld, redeemer: str, minutes: int = 60, region: str = "community",
                code: str = "MEAL") -> dict[str, Any]:
    return {"redeemer_id": redeemer, "catalogue_code": code, "minutes": minutes, "region_id": world.ids[region]}


# --- the matrix ---------------------------------------------------------------------------------

def test_every_role_gets_exactly_the_credit_endpoints_it_is_allowed(api_world: ApiWorld) -> None:
    check_rules(api_world, RULES)


# --- balances and history -----------------------------------------------------------------------

def test_a_person_sees_their_credit_and_points_per_bank(api_world: ApiWorld) -> None:
    elder = new_elder(api_world, user=True)
    give(api_world, elder, 150)
    give(api_world, elder, 7, unit="point")
    response = api_world.client_for(elder).get(f"{B}/people/{elder}/balance")
    assert response.status_code == 200
    assert response.json == {"person_id": elder, "credit_minutes": 150, "points": 7, "held_minutes": 0,
                             "banks": [{"bank_id": api_world.ids["haizhou"], "credit_minutes": 150, "points": 7}]}


def test_the_proxy_staff_and_a_school_see_balances_only_in_their_scope(api_world: ApiWorld) -> None:
    ids = api_world.ids
    assert api_world.client_for("proxy").get(f"{B}/people/{ids['elder']}/balance").status_code == 200
    assert api_world.client_for("school").get(f"{B}/people/{ids['student']}/balance").status_code == 200
    assert api_world.client_for("school").get(f"{B}/people/{ids['volunteer']}/balance").status_code == 404
    hidden = api_world.client_for("other_coordinator").get(f"{B}/people/{ids['elder']}/balance")
    assert hidden.status_code == 404 and hidden.json["code"] == "not_found"
    assert api_world.client_for("volunteer").get(f"{B}/people/{ids['elder']}/balance").status_code == 404
    assert api_world.client_for("volunteer").get(f"{B}/people/nobody/balance").status_code == 404
    assert api_world.anonymous().get(f"{B}/people/{ids['elder']}/balance").status_code == 401


def test_history_lists_postings_newest_first_with_receipts_and_pages_by_posting(api_world: ApiWorld) -> None:
    volunteer = new_volunteer(api_world, user=True)
    for minutes in (10, 20, 30):
        give(api_world, volunteer, minutes)
    give(api_world, volunteer, 2, unit="point")
    client = api_world.client_for(volunteer)
    first = client.get(f"{B}/people/{volunteer}/history?limit=2&unit=credit")
    assert first.status_code == 200, first.json
    assert [item["amount"] for item in first.json["items"]] == [30, 20]
    item = first.json["items"][0]
    assert item["entry_type"] == "deposit" and item["unit"] == "credit" and item["bank_id"] == api_world.ids["haizhou"]
    assert item["receipt"]["log"] == "haizhou" and item["receipt"]["index"] > 0 and item["receipt"]["leaf_hash"]
    second = client.get(f"{B}/people/{volunteer}/history?limit=2&unit=credit&cursor={first.json['next']}")
    assert [i["amount"] for i in second.json["items"]] == [10] and second.json["next"] is None
    everything = client.get(f"{B}/people/{volunteer}/history").json["items"]
    assert [(i["unit"], i["amount"]) for i in everything] == [("point", 2), ("credit", 30), ("credit", 20),
                                                              ("credit", 10)]


def test_history_filters_by_china_day_and_refuses_bad_queries_naming_the_field(api_world: ApiWorld) -> None:
    volunteer = new_volunteer(api_world, user=True)
    give(api_world, volunteer, 5)
    client = api_world.client_for(volunteer)
    tomorrow = (now() + timedelta(days=2)).date().isoformat()
    assert client.get(f"{B}/people/{volunteer}/history?from={tomorrow}").json["items"] == []
    bad = client.get(f"{B}/people/{volunteer}/history?cursor=%%%")
    assert bad.status_code == 400 and "cursor" in bad.json["errors"]
    bad = client.get(f"{B}/people/{volunteer}/history?limit=0&unit=coins")
    assert bad.status_code == 400 and {"limit", "unit"} <= set(bad.json["errors"])
    bad = client.get(f"{B}/people/{volunteer}/history?from=2025-02-02&to=2025-02-01")
    assert bad.status_code == 400 and "to" in bad.json["errors"]


# --- redemptions --------------------------------------------------------------------------------

def test_an_elder_redeems_and_staff_complete_paying_the_volunteer_with_receipts(api_world: ApiWorld) -> None:
    elder = new_elder(api_world, user=True)
    provider = new_volunteer(api_world)
    give(api_world, elder, 100)
    made = api_world.client_for(elder).post(f"{B}/redemptions", json=redeem_body(api_world, elder, 60))
    assert made.status_code == 201, made.json
    assert made.json["status"] == "requested" and made.json["credit_minutes"] == 60
    assert made.json["requested_by"] == elder and made.json["on_behalf_of"] is None
    assert made.json["receipts"]["hold"]["log"] == "haizhou" and made.json["receipts"]["release"] is None
    assert balance_of(api_world, elder)["credit_minutes"] == 40
    assert balance_of(api_world, elder)["held_minutes"] == 60
    done = api_world.client_for("coordinator").post(f"{B}/redemptions/{made.json['id']}/complete",
                                                 json={"provider_volunteer_id": provider})
    assert done.status_code == 200, done.json
    assert done.json["status"] == "completed" and done.json["provider_kind"] == "volunteer"
    assert done.json["completed_by"] == api_world.ids["coordinator"]
    assert done.json["receipts"]["release"]["log"] == "haizhou" and done.json["receipts"]["away"] is None
    assert balance_of(api_world, provider)["credit_minutes"] == 60
    assert balance_of(api_world, elder)["held_minutes"] == 0
    again = api_world.client_for("coordinator").post(f"{B}/redemptions/{made.json['id']}/complete",
                                                  json={"provider_volunteer_id": provider})
    assert again.status_code == 409 and "already completed" in again.json["message"]


def test_a_retry_with_the_same_idempotency_key_returns_the_same_redemption_and_holds_once(
        api_world: ApiWorld) -> None:
    elder = new_elder(api_world, user=True)
    give(api_world, elder, 100)
    client = api_world.client_for(elder)
    key = {"Idempotency-Key": f"redeem-{elder}"}
    first = client.post(f"{B}/redemptions", json=redeem_body(api_world, elder, 30), headers=key)
    second = client.post(f"{B}/redemptions", json=redeem_body(api_world, elder, 30), headers=key)
    assert first.status_code == second.status_code == 201
    assert second.json == first.json and second.headers.get("Idempotent-Replayed") == "true"
    assert balance_of(api_world, elder)["credit_minutes"] == 70
    other = client.post(f"{B}/redemptions", json=redeem_body(api_world, elder, 40), headers=key)
    assert other.status_code == 409
    assert balance_of(api_world, elder)["credit_minutes"] == 70


def test_a_proxy_redeems_for_their_elder_and_cancels_returning_the_hold(api_world: ApiWorld) -> None:
    elder = api_world.ids["elder"]
    give(api_world, elder, 30)
    before = balance_of(api_world, elder)["credit_minutes"]
    proxy = api_world.client_for("proxy")
    made = proxy.post(f"{B}/redemptions", json=redeem_body(api_world, elder, 30))
    assert made.status_code == 201, made.json
    assert made.json["requested_by"] == api_world.ids["proxy"] and made.json["on_behalf_of"] == elder
    assert balance_of(api_world, elder)["credit_minutes"] == before - 30
    cancelled = proxy.post(f"{B}/redemptions/{made.json['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["status"] == "cancelled" and cancelled.json["receipts"]["release"]["log"] == "haizhou"
    assert balance_of(api_world, elder)["credit_minutes"] == before
    twice = proxy.post(f"{B}/redemptions/{made.json['id']}/cancel")
    assert twice.status_code == 409


def test_redemption_guards_answer_with_their_codes(api_world: ApiWorld) -> None:
    elder = new_elder(api_world, user=True)
    give(api_world, elder, 20)
    client = api_world.client_for(elder)
    poor = client.post(f"{B}/redemptions", json=redeem_body(api_world, elder, 60))
    assert poor.status_code == 422 and poor.json["code"] == "insufficient_credit"
    assert "holds 20 credit minutes" in poor.json["message"]
    young = api_world.client_for("student").post(f"{B}/redemptions",
                                              json=redeem_body(api_world, api_world.ids["student"], 10))
    assert young.status_code == 422 and young.json["errors"]["rule"] == "redemption_age"
    for_other = api_world.client_for("volunteer").post(f"{B}/redemptions", json=redeem_body(api_world, elder, 10))
    assert for_other.status_code == 404
    unknown = client.post(f"{B}/redemptions", json=redeem_body(api_world, elder, 10, code="NO_SUCH"))
    assert unknown.status_code == 404 and unknown.json["errors"]["field"] == "catalogue"
    bad = client.post(f"{B}/redemptions", json={**redeem_body(api_world, elder, 0), "extra": 1})
    assert bad.status_code == 400 and {"minutes", "extra"} <= set(bad.json["errors"])
    missing = client.post(f"{B}/redemptions", json={"minutes": 10})
    assert missing.status_code == 400 and {"redeemer_id", "catalogue_code", "region_id"} <= set(missing.json["errors"])
    assert api_world.client_for("school").post(f"{B}/redemptions", json=redeem_body(api_world, elder, 10)
                                            ).status_code == 403
    assert balance_of(api_world, elder)["credit_minutes"] == 20


def test_completing_is_for_staff_covering_the_service_with_exactly_one_provider(api_world: ApiWorld) -> None:
    redemption_id = requested(api_world)
    path = f"{B}/redemptions/{redemption_id}/complete"
    volunteer = api_world.ids["volunteer"]
    assert api_world.client_for("elder").post(path, json={"provider_volunteer_id": volunteer}).status_code == 403
    assert api_world.client_for("other_coordinator").post(path, json={"provider_volunteer_id": volunteer}
                                                       ).status_code == 404
    both = api_world.client_for("coordinator").post(path, json={"provider_volunteer_id": volunteer,
                                                             "station_id": "stn_x"})
    assert both.status_code == 400 and both.json["errors"]["field"] == "provider"
    self_service = api_world.client_for("coordinator").post(path, json={"provider_volunteer_id": api_world.ids["elder"]})
    assert self_service.status_code == 404  # an elder is no volunteer
    other_bank = api_world.client_for("coordinator").post(path, json={
        "provider_volunteer_id": api_world.ids["other_volunteer"]})
    assert other_bank.status_code == 422 and other_bank.json["errors"]["rule"] == "provider"


def test_a_redemption_away_from_home_returns_both_banks_receipts(api_world: ApiWorld) -> None:
    elder = new_elder(api_world, user=True)
    give(api_world, elder, 60)
    made = api_world.client_for(elder).post(f"{B}/redemptions", json=redeem_body(api_world, elder, 60,
                                                                              region="suqian_community"))
    assert made.status_code == 201, made.json
    assert made.json["is_away"] and made.json["serving_bank_id"] == api_world.ids["suqian"]
    # staff of the serving bank see it through the service's region, and complete it
    done = api_world.client_for("other_coordinator").post(f"{B}/redemptions/{made.json['id']}/complete",
                                                       json={"provider_volunteer_id": api_world.ids["other_volunteer"]})
    assert done.status_code == 200, done.json
    receipts = done.json["receipts"]
    assert receipts["release"]["log"] == "haizhou" and receipts["link"]["log"] == "haizhou"
    assert receipts["away"]["log"] == "suqian"
    assert api_world.client_for("coordinator").get(f"{B}/redemptions/{made.json['id']}").status_code == 200


def test_redemptions_are_listed_in_scope_and_filtered(api_world: ApiWorld) -> None:
    elder = new_elder(api_world, user=True)
    first, second = requested(api_world, elder), requested(api_world, elder)
    api_world.client_for(elder).post(f"{B}/redemptions/{second}/cancel")
    mine = api_world.client_for(elder).get(f"{B}/redemptions?limit=1")
    assert mine.status_code == 200 and len(mine.json["items"]) == 1 and mine.json["next"]
    rest = api_world.client_for(elder).get(f"{B}/redemptions?limit=1&cursor={mine.json['next']}").json
    assert {mine.json["items"][0]["id"], rest["items"][0]["id"]} == {first, second} and rest["next"] is None
    staff = api_world.client_for("coordinator").get(f"{B}/redemptions?redeemer_id={elder}&status=requested&limit=200")
    assert [r["id"] for r in staff.json["items"]] == [first]
    assert api_world.client_for("other_coordinator").get(f"{B}/redemptions?redeemer_id={elder}").json["items"] == []
    assert api_world.client_for("other_elder").get(f"{B}/redemptions").json["items"] == []
    assert api_world.client_for("other_elder").get(f"{B}/redemptions/{first}").status_code == 404
    assert api_world.client_for("auditor").get(f"{B}/redemptions").status_code == 403
    assert api_world.client_for(elder).get(f"{B}/redemptions?status=lost").status_code == 400


# --- gifts and estates --------------------------------------------------------------------------

def test_a_volunteer_gives_credit_to_a_parent_and_the_relation_is_logged_personal_data(api_world: ApiWorld) -> None:
    giver, parent = new_volunteer(api_world, user=True), new_elder(api_world, user=True)
    give(api_world, giver, 90)
    client = api_world.client_for(giver)
    key = {"Idempotency-Key": f"gift-{giver}"}
    body = {"recipient_id": parent, "minutes": 60, "relation": "parent"}
    made = client.post(f"{B}/gifts", json=body, headers=key)
    assert made.status_code == 201, made.json
    assert made.json["giver_id"] == giver and made.json["relation"] == "parent"
    assert made.json["receipts"]["entry"]["log"] == "haizhou" and made.json["receipts"]["away"] is None
    replay = client.post(f"{B}/gifts", json=body, headers=key)
    assert replay.json == made.json
    assert balance_of(api_world, giver)["credit_minutes"] == 30
    assert balance_of(api_world, parent)["credit_minutes"] == 60
    listed = api_world.client_for(parent).get(f"{B}/people/{parent}/gifts")
    assert [g["id"] for g in listed.json["items"]] == [made.json["id"]]
    read = access_rows(api_world, parent)
    assert read and read[0].action == "read" and read[0].fields == ["relation"]
    assert read[0].user_id == api_world.ids.get(f"user:{parent}", read[0].user_id)
    assert [row.action for row in access_rows(api_world, giver)] == ["change"]
    assert api_world.client_for("school").get(f"{B}/people/{parent}/gifts").status_code == 403
    assert api_world.client_for("other_coordinator").get(f"{B}/people/{parent}/gifts").status_code == 404


def test_gift_guards_answer_with_their_codes(api_world: ApiWorld) -> None:
    giver = new_volunteer(api_world, user=True)
    give(api_world, giver, 10)
    client = api_world.client_for(giver)
    friend = client.post(f"{B}/gifts", json={"recipient_id": api_world.ids["elder"], "minutes": 5, "relation": "friend"})
    assert friend.status_code == 422 and friend.json["errors"]["rule"] == "gift_relations"
    rich = client.post(f"{B}/gifts", json={"recipient_id": api_world.ids["elder"], "minutes": 50, "relation": "parent"})
    assert rich.status_code == 422 and rich.json["code"] == "insufficient_credit"
    own = client.post(f"{B}/gifts", json={"recipient_id": giver, "minutes": 5, "relation": "parent"})
    assert own.status_code == 422 and own.json["errors"]["rule"] == "self"
    bad = client.post(f"{B}/gifts", json={"recipient_id": api_world.ids["elder"], "minutes": -1, "relation": "cousin"})
    assert bad.status_code == 400 and {"minutes", "relation"} <= set(bad.json["errors"])
    assert client.post(f"{B}/gifts", json={"recipient_id": "nobody", "minutes": 5, "relation": "parent"}
                       ).status_code == 404
    assert api_world.client_for("proxy").post(f"{B}/gifts", json={"recipient_id": giver, "minutes": 1,
                                                               "relation": "child"}).status_code == 403
    assert balance_of(api_world, giver)["credit_minutes"] == 10


def test_staff_settle_a_deceased_persons_estate_into_the_pool(api_world: ApiWorld) -> None:
    deceased = deceased_with_credit(api_world, 45)
    assert api_world.client_for("other_coordinator").post(f"{B}/people/{deceased}/estate").status_code == 404
    assert api_world.client_for("volunteer").post(f"{B}/people/{deceased}/estate").status_code == 403
    settled = api_world.client_for("coordinator").post(f"{B}/people/{deceased}/estate")
    assert settled.status_code == 201, settled.json
    assert settled.json["minutes"] == 45 and settled.json["heir_id"] is None
    assert [r["log"] for r in settled.json["receipts"]] == ["haizhou"]
    assert balance_of(api_world, deceased)["credit_minutes"] == 0
    again = api_world.client_for("coordinator").post(f"{B}/people/{deceased}/estate")
    assert again.status_code == 409 and "no credit left" in again.json["message"]
    alive = new_elder(api_world)
    give(api_world, alive, 5)
    living = api_world.client_for("coordinator").post(f"{B}/people/{alive}/estate")
    assert living.status_code == 409 and "after death" in living.json["message"]


# --- points and expiry --------------------------------------------------------------------------

def test_a_volunteer_spends_points_and_staff_may_at_the_counter(api_world: ApiWorld) -> None:
    volunteer = new_volunteer(api_world, user=True)
    give(api_world, volunteer, 5, unit="point")
    body = {"volunteer_id": volunteer, "points": 3, "shop": "party_member_market", "item": "洗衣液"}
    spent = api_world.client_for(volunteer).post(f"{B}/points/spend", json=body)
    assert spent.status_code == 201, spent.json
    assert spent.json["points"] == 3 and spent.json["item"] == "洗衣液" and spent.json["receipt"]["log"] == "haizhou"
    counter = api_world.client_for("coordinator").post(f"{B}/points/spend", json={**body, "points": 2})
    assert counter.status_code == 201
    assert balance_of(api_world, volunteer)["points"] == 0
    broke = api_world.client_for(volunteer).post(f"{B}/points/spend", json={**body, "points": 1})
    assert broke.status_code == 422 and broke.json["code"] == "insufficient_credit"
    assert api_world.client_for("other_coordinator").post(f"{B}/points/spend", json=body).status_code == 404
    assert api_world.client_for("elder").post(f"{B}/points/spend", json=body).status_code == 403
    bad = api_world.client_for(volunteer).post(f"{B}/points/spend", json={**body, "shop": "casino", "item": ""})
    assert bad.status_code == 400 and {"shop", "item"} <= set(bad.json["errors"])
    elder_as_volunteer = api_world.client_for("coordinator").post(f"{B}/points/spend", json={
        **body, "volunteer_id": api_world.ids["elder"]})
    assert elder_as_volunteer.status_code == 404


def test_expiring_under_the_default_policy_moves_nothing_and_is_for_the_banks_administrator(
        api_world: ApiWorld) -> None:
    path = f"{B}/banks/{api_world.ids['haizhou']}/expire"
    done = api_world.client_for("administrator").post(path)
    assert done.status_code == 200, done.json
    assert done.json["total_minutes"] == 0 and done.json["expired"] == []
    assert api_world.client_for("coordinator").post(path).status_code == 403
    assert api_world.client_for("other_administrator").post(path).status_code == 404
    above = api_world.client_for("administrator").post(f"{B}/banks/{api_world.ids['lyg']}/expire")
    assert above.status_code == 404
    not_bank = api_world.client_for("administrator").post(f"{B}/banks/{api_world.ids['community']}/expire")
    assert not_bank.status_code == 400 and not_bank.json["errors"]["field"] == "bank_id"


def test_expiry_moves_old_credit_to_the_pool_with_a_receipt(fresh_api_world: ApiWorld) -> None:
    world = fresh_api_world
    volunteer = world.ids["volunteer"]
    with world.session() as s:
        policy.set_policy(s, world.writer(), region_id=world.ids["haizhou"], changes={"expiry_days": 1},
                          set_by=world.ids["administrator"], at=now())
        s.commit()
    give(world, volunteer, 25, at=now() - timedelta(days=2))
    done = world.client_for("administrator").post(f"{B}/banks/{world.ids['haizhou']}/expire")
    assert done.status_code == 200, done.json
    assert done.json["total_minutes"] == 25
    assert done.json["expired"][0]["person_id"] == volunteer and done.json["expired"][0]["receipt"]["log"] == "haizhou"
    with world.session() as s:
        assert s.scalar(sa.select(Account.balance).where(Account.owner_id == volunteer)) == 0
    assert world.client_for("administrator").post(f"{B}/banks/{world.ids['haizhou']}/expire").json["total_minutes"] == 0
