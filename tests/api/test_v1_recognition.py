"""Recognition through /api/v1: schemes, levels reached once, awards, leaderboards."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from access_credits import new_volunteer
from access_recognition import AWARD, RULES, scheme_body
from apiworld import ROLES, ApiWorld

from timebank.checks import china_date
from timebank.model import new_id
from timebank.recognition import Award
from timebank.records import ServiceRecord

B = "/api/v1"


def hours(world: ApiWorld, volunteer_id: str, minutes: int, start: datetime | None = None) -> None:
    """Posted service minutes for a volunteer, written straight into the table (volume, not lifecycle)."""
    start = start or datetime.now(timezone.utc) - timedelta(hours=1)
    with world.session() as s:
        s.add(ServiceRecord(
            id=new_id("rec"), region_id=world.ids["community"], bank_id=world.ids["haizhou"],
            volunteer_id=volunteer_id, elder_id=world.ids["elder"], catalogue_code="VISIT", started_at=start,
            ended_at=start + timedelta(minutes=minutes), minutes=minutes, details_salt="s", details_commitment="c",
            status="posted", submitted_by=volunteer_id, submitted_at=start, verified_at=start,
            credit_minutes=minutes))
        s.commit()


def test_every_role_gets_exactly_the_recognition_endpoints_it_is_allowed(api_world: ApiWorld) -> None:
    wrong = []
    for rule in RULES:
        for role in ROLES:
            response = rule.attempt(api_world, role)
            denied = response.status_code in (401, 403, 404)
            if response.status_code >= 500 or denied == (role in rule.allowed):
                wrong.append((rule.method, rule.path, role, response.status_code, (response.json or {}).get("message")))
    assert wrong == []


def test_the_national_star_scheme_is_listed_for_everyone_signed_in(api_world: ApiWorld) -> None:
    response = api_world.client_for("elder").get(f"{B}/recognition/schemes?region_id={api_world.ids['community']}")
    assert response.status_code == 200, response.json
    (star,) = [s for s in response.json["items"] if s["code"] == "CN-STAR"]
    assert star["region_id"] is None and [lv["hours"] for lv in star["levels"]] == [100, 300, 600, 1000, 1500]
    elsewhere = api_world.client_for("elder").get(
        f"{B}/recognition/schemes?region_id={api_world.ids['suqian_community']}").json["items"]
    assert all(s["region_id"] is None for s in elsewhere)


def test_an_administrator_creates_a_local_scheme_and_its_code_is_unique(api_world: ApiWorld) -> None:
    admin = api_world.client_for("administrator")
    body = scheme_body(api_world)
    response = admin.post(f"{B}/recognition/schemes", json=body)
    assert response.status_code == 201, response.json
    assert response.json["region_id"] == api_world.ids["haizhou"] and len(response.json["levels"]) == 5
    again = admin.post(f"{B}/recognition/schemes", json=body)
    assert again.status_code == 409 and again.json["errors"]["field"] == "code"


def test_a_scheme_with_bad_levels_is_refused_naming_the_field(api_world: ApiWorld) -> None:
    admin = api_world.client_for("administrator")
    body = scheme_body(api_world)
    body["levels"][1]["hours"] = 10
    response = admin.post(f"{B}/recognition/schemes", json=body)
    assert response.status_code == 400 and "rise" in response.json["message"]
    missing = admin.post(f"{B}/recognition/schemes", json={**scheme_body(api_world), "kind": "weekly"})
    assert missing.status_code == 400 and "kind" in json.dumps(missing.json["errors"])
    other = api_world.client_for("other_administrator").post(f"{B}/recognition/schemes", json=scheme_body(api_world))
    assert other.status_code == 404


def test_a_level_reached_is_recorded_once_and_shown_on_the_volunteers_page(api_world: ApiWorld) -> None:
    volunteer = new_volunteer(api_world, user=True)
    hours(api_world, volunteer, 100 * 60 - 1)
    client = api_world.client_for(volunteer)
    first = client.post(f"{B}/volunteers/{volunteer}/recognition/evaluate")
    assert first.status_code == 200 and [r for r in first.json["reached"] if r["scheme"] == "CN-STAR"] == []
    hours(api_world, volunteer, 1)
    second = api_world.client_for("coordinator").post(f"{B}/volunteers/{volunteer}/recognition/evaluate")
    (reached,) = [r for r in second.json["reached"] if r["scheme"] == "CN-STAR"]
    assert (reached["level"], reached["hours"], reached["minutes"]) == (1, 100, 6000)
    assert reached["receipt"]["log"] == "haizhou"
    assert client.post(f"{B}/volunteers/{volunteer}/recognition/evaluate").json["reached"] == []
    page = client.get(f"{B}/volunteers/{volunteer}/recognition").json
    (star,) = [s for s in page["schemes"] if s["scheme"]["code"] == "CN-STAR"]
    assert star["minutes"] == 6000 and star["current_level"]["level"] == 1 and star["next_level"]["hours"] == 300
    assert [(r["level"], r["held"]) for r in star["reached"]] == [(1, True)]


def test_an_award_is_recorded_once_for_one_idempotency_key(api_world: ApiWorld) -> None:
    volunteer = new_volunteer(api_world)
    admin = api_world.client_for("administrator")
    headers = {"Idempotency-Key": f"award-{volunteer}"}
    first = admin.post(f"{B}/volunteers/{volunteer}/awards", json=AWARD, headers=headers)
    assert first.status_code == 201, first.json
    again = admin.post(f"{B}/volunteers/{volunteer}/awards", json=AWARD, headers=headers)
    assert again.status_code == 201 and again.json == first.json
    assert again.headers.get("Idempotent-Replayed") == "true"
    with api_world.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Award).where(Award.volunteer_id == volunteer)) == 1
    shown = api_world.client_for("coordinator").get(f"{B}/volunteers/{volunteer}/recognition").json["awards"]
    assert [(a["name"], a["granting_unit"], a["receipt"]["index"]) for a in shown] == [
        ("最美志愿者", "海州区民政局", first.json["receipt"]["index"])]


def test_only_an_administrator_records_an_award_and_the_date_is_checked(api_world: ApiWorld) -> None:
    volunteer = new_volunteer(api_world)
    refused = api_world.client_for("coordinator").post(f"{B}/volunteers/{volunteer}/awards", json=AWARD)
    assert refused.status_code == 403
    future = {**AWARD, "granted_on": (datetime.now(timezone.utc) + timedelta(days=3)).date().isoformat()}
    late = api_world.client_for("administrator").post(f"{B}/volunteers/{volunteer}/awards", json=future)
    assert late.status_code == 400 and late.json["errors"]["field"] == "granted_on"
    unknown = api_world.client_for("administrator").post(f"{B}/volunteers/vol_nobody/awards", json=AWARD)
    assert unknown.status_code == 404


def test_a_leaderboard_shows_opted_in_volunteers_by_display_or_masked_name_only(api_world: ApiWorld) -> None:
    named, masked, quiet = (new_volunteer(api_world, user=True) for _ in range(3))
    day = datetime.now(timezone.utc) - timedelta(days=1)
    for volunteer, minutes in ((named, 601), (masked, 602), (quiet, 6000)):
        hours(api_world, volunteer, minutes, start=day)
    put = api_world.client_for(named).put(f"{B}/volunteers/{named}/leaderboard",
                                          json={"on": True, "display_name": "海州小太阳"})
    assert put.status_code == 200 and put.json == {"volunteer_id": named, "on": True, "display_name": "海州小太阳"}
    assert api_world.client_for(masked).put(f"{B}/volunteers/{masked}/leaderboard",
                                            json={"on": True}).json["display_name"] == "吴**"
    staff = api_world.client_for("coordinator").put(f"{B}/volunteers/{named}/leaderboard", json={"on": False})
    assert staff.status_code == 403
    span = china_date(day).isoformat()
    board = api_world.client_for("other_elder").get(
        f"{B}/regions/{api_world.ids['haizhou']}/leaderboard?from={span}&to={span}&limit=200")
    assert board.status_code == 200, board.json
    rows = {r["display_name"]: r["minutes"] for r in board.json["items"]}
    assert rows["吴**"] == 602 and rows["海州小太阳"] == 601 and 6000 not in rows.values()
    assert "吴志愿" not in board.get_data(as_text=True) and named not in board.get_data(as_text=True)


def test_a_leaderboard_with_a_reversed_period_or_unknown_region_is_refused(api_world: ApiWorld) -> None:
    client = api_world.client_for("volunteer")
    bad = client.get(f"{B}/regions/{api_world.ids['haizhou']}/leaderboard?from=2026-10-02&to=2026-10-01")
    assert bad.status_code == 400 and "to" in bad.json["errors"]
    assert client.get(f"{B}/regions/reg_nowhere/leaderboard").status_code == 404
    extra = client.put(f"{B}/volunteers/{api_world.ids['volunteer']}/leaderboard", json={"on": True, "x": 1})
    assert extra.status_code == 400
