"""The administrator's pages in a real browser: the region dashboard and its charts, the policy
editor with its preview, the settlement report and the downloads, each scoped to the
administrator's own region."""

from __future__ import annotations

import csv
import io
import itertools
import urllib.request
from urllib.parse import quote
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from ledger.writer import Writer
from tests.api.apiworld import id_number
from tests.web.webworld import PHONE, WebWorld, assert_accessible, screenshot
from timebank import care, interbank, journal, people, policy
from timebank.banks import open_bank
from timebank.checks import CHINA
from timebank.records_confirm import confirm_with_code
from timebank.records_review import verify_record
from timebank.records_submit import submit_record
from timebank.redemption import complete_redemption, request_redemption
from timebank.regions import create_region

DESKTOP = {"width": 1280, "height": 900}
HOSTILE = ("<script>alert(1)</script>", "x" * 5000, "\u202e12", "'; DROP TABLE x; --")
_n = itertools.count(1)


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Area:
    """A township of its own (a bank, so its ledger log is this test's alone) with two communities,
    a volunteer and an elder in each."""

    id: str
    names: dict[str, str]  # key → 中文 name
    names_en: dict[str, str]
    ids: dict[str, str]


def _area(web: WebWorld, *, bank: bool = True) -> Area:
    """A new township under 海州区 with communities one and two; each has a volunteer and an elder."""
    n = next(_n)
    names = {"town": f"测试街道{n}", "one": f"东园社区{n}", "two": f"西园社区{n}"}
    names_en = {"town": f"Test Street {n}", "one": f"East Garden {n}", "two": f"West Garden {n}"}
    ids: dict[str, str] = {}
    at = _now() - timedelta(days=9)
    with web.world.session() as s:
        sealer = web.world.sealer()
        ids["town"] = create_region(s, level="township", name_zh=names["town"], name_en=names_en["town"],
                                    parent_id=web.ids["haizhou"], at=at).id
        if bank:
            open_bank(s, web.world.writer(), region_id=ids["town"], log_id=f"admin-test-{n}-{ids['town'][-6:]}",
                      origin=f"timebank.test/admin-test-{n}", at=at)
        for key in ("one", "two"):
            ids[key] = create_region(s, level="community", name_zh=names[key], name_en=names_en[key],
                                     parent_id=ids["town"], at=at).id
            birth = date(1952, 4, 1)
            ids[f"volunteer_{key}"] = people.register_volunteer(
                s, sealer, region_id=ids[key], name="周志愿", sex="M", birth_date=birth, id_number=id_number(birth),
                kind="community", phone="13800000001", at=at).id
            old = date(1938, 2, 2)
            ids[f"elder_{key}"] = people.register_elder(
                s, sealer, region_id=ids[key], name="吴爷爷", sex="M", birth_date=old, id_number=id_number(old),
                registered_by="test", phone="13900000001", address="测试地址", at=at).id
        s.commit()
    return Area(ids["town"], names, names_en, ids)


def _posted(web: WebWorld, volunteer: str, elder: str, *, at: datetime, span: int, code: str,
            verify: bool = True, started: datetime | None = None) -> int:
    """A record through the use cases (submitted, confirmed by code, verified at `at`): its credit."""
    writer: Writer = web.world.writer()
    start = started or at - timedelta(minutes=span + 60)
    with web.world.session() as s:
        record, pin = submit_record(s, writer, web.world.sealer(), volunteer_id=volunteer, elder_id=elder,
                                    catalogue_code=code, started_at=start, ended_at=start + timedelta(minutes=span),
                                    submitted_by=volunteer, at=max(at - timedelta(minutes=30), start + timedelta(
                                        minutes=span)))
        assert pin is not None
        credit = 0
        if verify:
            confirm_with_code(s, writer, record_id=record.id, code=pin, at=at)
            credit = int(verify_record(s, writer, record_id=record.id, staff_id=web.ids["coordinator"],
                                       at=at).credit_minutes or 0)
        s.commit()
    return credit


@pytest.fixture(scope="module")
def dashboard_area(web: WebWorld) -> Area:
    """The dashboard's data set, made once for the tests that only read it."""
    return _dashboard_data(web)


def _dashboard_data(web: WebWorld) -> Area:
    """90 minutes of VISIT eight days ago in one; 30 of COMPANY and 60 of MEAL an hour ago in one and two;
    care agreements for both elders, one visited this month."""
    area = _area(web)
    ids, now = area.ids, _now()
    assert _posted(web, ids["volunteer_one"], ids["elder_one"], at=now - timedelta(days=8), span=90, code="VISIT") == 90
    assert _posted(web, ids["volunteer_one"], ids["elder_one"], at=now - timedelta(hours=1), span=30, code="COMPANY") == 30
    assert _posted(web, ids["volunteer_two"], ids["elder_two"], at=now - timedelta(minutes=50), span=60, code="MEAL") == 60
    with web.world.session() as s:
        today = now.astimezone(CHINA).date()
        for key in ("one", "two"):
            agreement = care.sign_agreement(s, web.world.writer(), web.world.sealer(), elder_id=ids[f"elder_{key}"],
                                            carer_kind="volunteer", carer_id=ids[f"volunteer_{key}"],
                                            signed_by=web.ids["coordinator"], starts_on=today, at=now)
            if key == "one":
                care.log_contact(s, web.world.sealer(), agreement_id=agreement.id, kind="visit",
                                 happened_at=now - timedelta(seconds=5), by=ids["volunteer_one"], at=now)
        s.commit()
    return area


def _open(web: WebWorld, page: Page, who: str, path: str) -> None:
    """Sign in as `who` and go straight to `path` (its query string kept whole)."""
    web.sign_in(page, who, then=quote(path, safe="/"))


def _bar(page: Page, chart: str, label: str) -> str | None:
    return page.locator(f"#chart-{chart} .bar[data-label='{label}']").get_attribute("data-value")


def _cells(page: Page, table: str) -> dict[str, list[str]]:
    """A data table's rows (shown or still folded in its <details>): first cell → the others."""
    rows = {}
    for row in page.locator(f"#table-{table} tbody tr").all():
        rows[(row.locator("th").text_content() or "").strip()] = [c.strip() for c in row.locator("td").all_text_contents()]
    return rows


# --- the dashboard ------------------------------------------------------------------------------

def test_the_dashboard_charts_the_areas_hours_credit_and_visits(web: WebWorld, new_page: Callable[..., Page],
                                                                dashboard_area: Area) -> None:
    area = dashboard_area
    page = new_page(viewport=PHONE)
    _open(web, page, "administrator", f"/admin?region={area.id}")
    expect(page.locator("h1")).to_have_text("数据总览")
    # hours over time: 90 minutes eight days ago, 90 in the last hour, nothing in the other weeks
    points = page.locator("#chart-hours-over-time circle.chart__point")
    values = [int(v or 0) for v in points.evaluate_all("ps => ps.map(p => p.dataset.value)")]
    assert sorted(v for v in values if v) == [90, 90] and sum(values) == 180 and len(values) >= 2
    # by service, by area, credit held, visits: the bars and the tables say the same
    assert _bar(page, "hours-by-service", "探访") == "90" and _bar(page, "hours-by-service", "助餐") == "60"
    assert _bar(page, "hours-by-service", "精神慰藉") == "30"
    assert _bar(page, "hours-by-region", area.names["one"]) == "120"
    assert _bar(page, "hours-by-region", area.names["two"]) == "60"
    assert _bar(page, "outstanding-credit", area.names["one"]) == "120"
    assert _bar(page, "outstanding-credit", area.names["two"]) == "60"
    this_month = _now().astimezone(CHINA).strftime("%Y-%m")
    assert _bar(page, "visit-compliance", this_month) == "50"
    page.locator("#hours-by-region details summary").click()
    assert _cells(page, "hours-by-region")[area.names["one"]] == ["2.00", "120"]
    assert _cells(page, "visit-compliance")[this_month] == ["1", "2", "50"]
    for chart in ("hours-over-time", "hours-by-service", "hours-by-region", "outstanding-credit", "visit-compliance"):
        svg = page.locator(f"#chart-{chart}")
        expect(svg).to_have_attribute("role", "img")
        assert svg.locator("title").first.text_content() and svg.locator("desc").text_content()
        assert page.locator(f"#table-{chart}").count() == 1
    expect(page.locator("#outstanding-credit figcaption")).to_contain_text("东园社区")
    expect(page.locator(".facts")).to_contain_text("3 小时")
    assert_accessible(page)
    screenshot(page, "admin-dashboard")


def test_the_dashboard_speaks_english_on_a_desktop(web: WebWorld, new_page: Callable[..., Page]) -> None:
    area = _area(web)
    _posted(web, area.ids["volunteer_two"], area.ids["elder_two"], at=_now() - timedelta(hours=2), span=45,
            code="MEAL")
    page = new_page(viewport=DESKTOP)
    _open(web, page, "administrator", f"/admin?region={area.id}&lang=en")
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator("#heading-hours-by-service")).to_have_text("Hours credited by service")
    assert _bar(page, "hours-by-service", "Meal help") == "45"
    assert _bar(page, "hours-by-region", area.names_en["two"]) == "45"
    assert _bar(page, "hours-by-region", f"Directly in {area.names_en['town']}") == "0"
    expect(page.locator("#chart-hours-by-service desc")).to_contain_text("Meal help")
    assert_accessible(page)


def test_a_bad_period_is_said_on_the_field(web: WebWorld, new_page: Callable[..., Page]) -> None:
    page = new_page(viewport=PHONE)
    _open(web, page, "administrator", "/admin?from=2026-05-02&to=2026-05-01")
    expect(page.locator("#error-to")).to_be_visible()
    expect(page.locator("#field-from")).to_have_value("2026-05-02")


# --- downloads ----------------------------------------------------------------------------------

def _get(page: Page, path: str) -> tuple[int, dict[str, str], bytes]:
    """GET `path` with the page's session cookie."""
    response = page.request.get(path)
    return response.status, response.headers, response.body()


def test_the_dashboard_downloads_as_csv_and_xlsx_with_the_figures(web: WebWorld, new_page: Callable[..., Page],
                                                                  dashboard_area: Area) -> None:
    area = dashboard_area
    page = new_page(viewport=PHONE)
    _open(web, page, "administrator", f"/admin?region={area.id}")
    with page.expect_download() as shown:
        page.get_by_role("link", name="CSV").click()
    text = shown.value.path().read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    by_label = {row[0]: row[1:] for row in rows if row}
    assert by_label[area.names["one"]][-1] == "120" and by_label[area.names["two"]][-1] == "60"
    assert by_label["探访"] == ["1.5", "90"] and by_label["助餐"] == ["1.0", "60"]
    summary = {row[0]: row[1:] for row in rows[:rows.index([])]}
    assert summary["区域"] == [area.names["town"]] and summary["记入的服务时间"] == ["3 小时"]
    status, headers, body = _get(page, web.at(f"/admin/dashboard.xlsx?region={area.id}"))
    assert status == 200 and headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(body))
    assert {"summary", "hours-over-time", "hours-by-service", "hours-by-region", "outstanding-credit",
            "visit-compliance"} <= set(book.sheetnames)
    regions = {row[0]: row[1:] for row in book["hours-by-region"].iter_rows(values_only=True)}
    assert regions[area.names["one"]] == (2.0, 120) and regions[area.names["two"]] == (1.0, 60)
    held = {row[0]: row[1:] for row in book["outstanding-credit"].iter_rows(values_only=True)}
    assert held[area.names["one"]][-1] == 120
    weeks = [row for row in book["hours-over-time"].iter_rows(min_row=3, values_only=True)]
    assert sum(row[2] for row in weeks) == 180


# --- the policy editor --------------------------------------------------------------------------

def _cap_data(web: WebWorld) -> Area:
    """In community one yesterday: 120 minutes from 09:00, then 90 from 13:00 (210 minutes in the day)."""
    area = _area(web, bank=False)
    yesterday = _now().astimezone(CHINA).date() - timedelta(days=1)
    for hour, span in ((9, 120), (13, 90)):
        start = datetime.combine(yesterday, time(hour), CHINA).astimezone(timezone.utc)
        _posted(web, area.ids["volunteer_one"], area.ids["elder_one"], at=_now(), span=span, code="VISIT",
                started=start, verify=False)
    return area


def test_an_administrator_previews_then_saves_a_lower_daily_limit(web: WebWorld,
                                                                  new_page: Callable[..., Page]) -> None:
    area = _cap_data(web)
    page = new_page(viewport=PHONE)
    _open(web, page, "administrator", f"/admin/policy?region={area.ids['one']}")
    row = page.locator("#rules-now tr[data-knob='daily_cap_minutes']")
    expect(row.locator(".knob-value")).to_have_text("480 分钟")
    expect(row.locator(".knob-source")).to_have_text("默认值")
    assert_accessible(page)
    page.locator("#field-daily_cap_minutes").fill("180")
    page.get_by_role("button", name="预览修改").click()
    change = page.locator("#changes tr[data-knob='daily_cap_minutes']")
    expect(change.locator(".change-old")).to_have_text("480 分钟")
    expect(change.locator(".change-new")).to_have_text("180 分钟")
    assert page.locator("#changes tbody tr").count() == 1
    # the 90 minutes logged after 120 that day would have passed a limit of 180
    expect(page.locator("#effect-1")).to_contain_text("1 条")
    expect(page.locator("#effect-1")).to_contain_text("90 分钟")
    with web.world.session() as s:
        before = policy.current_version(s)
    assert_accessible(page)
    page.get_by_role("button", name="保存新规则").click()
    expect(page.locator(".notice--ok")).to_contain_text(f"第 {before + 1} 版")
    row = page.locator("#rules-now tr[data-knob='daily_cap_minutes']")
    expect(row.locator(".knob-value")).to_have_text("180 分钟")
    expect(row.locator(".knob-source")).to_have_text(f"本区域设定（第 {before + 1} 版）")
    assert_accessible(page)
    screenshot(page, "admin-policy-saved")
    with web.world.session() as s:
        version = s.get(policy.PolicyVersion, before + 1)
        assert version is not None and version.region_id == area.ids["one"]
        assert version.values == {"daily_cap_minutes": 180} and version.set_by == web.ids["administrator"]
        entry = s.get(journal.Entry, version.entry_id)
        assert entry is not None and entry.type == "policy" and entry.bank_id == web.ids["haizhou"]
        region = s.get(policy.Region, area.ids["one"])
        assert region is not None and policy.effective(s, region).daily_cap_minutes == 180
        # the township above keeps the old limit
        town = s.get(policy.Region, area.id)
        assert town is not None and policy.effective(s, town).daily_cap_minutes == 480


def test_values_out_of_range_are_refused_on_the_field_and_nothing_typed_is_lost(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    area = _area(web, bank=False)
    page = new_page(viewport=PHONE)
    _open(web, page, "administrator", f"/admin/policy?region={area.id}&lang=en")
    page.locator("#field-daily_cap_minutes").fill("2000")
    page.locator("#field-redemption_age").fill("65")
    page.locator("#field-points_per_hour").fill("abc")
    page.get_by_role("button", name="Preview the change").click()
    expect(page.locator("#error-daily_cap_minutes")).to_contain_text("from 1 to 1440")
    expect(page.locator("#error-points_per_hour")).to_contain_text("whole number")
    expect(page.locator("#field-daily_cap_minutes")).to_have_value("2000")
    expect(page.locator("#field-redemption_age")).to_have_value("65")
    expect(page.locator("#field-daily_cap_minutes")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    # a form with nothing changed is not previewed
    page.goto(web.at(f"/admin/policy?region={area.id}"))
    page.get_by_role("button", name="Preview the change").click()
    expect(page.locator(".error-summary")).to_contain_text("Nothing was changed")
    with web.world.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(policy.PolicyVersion)
                        .where(policy.PolicyVersion.region_id == area.id)) == 0


def test_weights_changed_in_the_preview_show_their_effect_on_credit(web: WebWorld,
                                                                    new_page: Callable[..., Page]) -> None:
    area = _area(web)
    _posted(web, area.ids["volunteer_one"], area.ids["elder_one"], at=_now() - timedelta(hours=3), span=60, code="VISIT")
    page = new_page(viewport=DESKTOP)
    _open(web, page, "administrator", f"/admin/policy?region={area.id}&lang=en")
    page.locator("details.weights-box summary").click()
    page.locator("#field-weight-VISIT").fill("150")
    page.get_by_role("button", name="Preview the change").click()
    expect(page.locator("#changes")).to_contain_text("150%")
    expect(page.locator("#effect-1")).to_contain_text("1 of 1 verified records would have been credited differently")
    expect(page.locator("#effect-1")).to_contain_text("60 minutes under the rules now, 90 minutes under the new rules")
    page.get_by_role("button", name="Change them again").click()
    expect(page.locator("#field-weight-VISIT")).to_have_value("150")


def test_hostile_input_in_the_policy_form_is_refused_and_shown_escaped(web: WebWorld,
                                                                       new_page: Callable[..., Page]) -> None:
    area = _area(web, bank=False)
    page = new_page(viewport=PHONE)
    page.on("dialog", lambda dialog: (_ for _ in ()).throw(AssertionError(f"a script ran: {dialog.message}")))
    _open(web, page, "administrator", f"/admin/policy?region={area.id}")
    fields = ("daily_cap_minutes", "redemption_age", "points_per_hour", "confirm_deadline_working_days")
    for name, text in zip(fields, HOSTILE, strict=True):
        page.locator(f"#field-{name}").fill(text)
    page.get_by_role("button", name="预览修改").click()
    for name, text in zip(fields, HOSTILE, strict=True):
        expect(page.locator(f"#error-{name}")).to_be_visible()
        expect(page.locator(f"#field-{name}")).to_have_value(text)
    assert page.locator("script:not([src])").count() == 0
    # a region that is no region, and a bank ticked that is no bank
    response = page.goto(web.at("/admin/policy?region=%3Cscript%3Ealert(1)%3C/script%3E"))
    assert response is not None and response.status == 404
    body = (f"csrf_token={_csrf(page)}&region={area.id}&daily_cap_minutes=100&accepted_mode=listed"
            "&accepted_banks=%27%3B+DROP+TABLE+x%3B+--&action=save")
    answer = page.request.post(web.at("/admin/policy"), data=body,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 422
    with web.world.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(policy.PolicyVersion)
                        .where(policy.PolicyVersion.region_id == area.id)) == 0


def _csrf(page: Page) -> str:
    return page.locator("input[name=csrf_token]").first.get_attribute("value") or ""


# --- settlement ---------------------------------------------------------------------------------

def test_the_settlement_report_shows_what_is_owed_and_the_administrator_settles_it(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    area = _area(web)
    ids, now = area.ids, _now()
    _posted(web, ids["volunteer_one"], ids["elder_one"], at=now - timedelta(hours=4), span=90, code="VISIT")
    with web.world.session() as s:  # the volunteer (over 60) uses 60 minutes of care in 宿迁
        held = request_redemption(s, web.world.writer(), redeemer_id=ids["volunteer_one"], catalogue_code="MEAL",
                                  minutes=60, region_id=web.ids["suqian_community"],
                                  requested_by=ids["volunteer_one"], at=now)
        complete_redemption(s, web.world.writer(), redemption_id=held.id, completed_by=web.ids["other_coordinator"],
                            provider_volunteer_id=web.ids["other_volunteer"], at=now)
        s.commit()
    page = new_page(viewport=PHONE)
    _open(web, page, "administrator", "/admin/settlement")
    row = page.locator(f"#settlement tr[data-pair*='{ids['town']}']")
    expect(row.locator(".net")).to_contain_text(f"{area.names['town']}欠宿迁市 60 分钟")
    town_first = (row.get_attribute("data-pair") or "").startswith(ids["town"])  # pairs come in the banks' path order
    assert_accessible(page)
    status, _headers, body = _get(page, web.at("/admin/settlement.csv"))
    assert status == 200
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    mine = next(r for r in table if area.names["town"] in r[:2])
    used, owed = (mine[2:4], mine[7:9]) if town_first else (mine[3:1:-1], mine[8:6:-1])
    assert used == ["60", "0"] and owed == ["60", "0"] and mine[4:7] == ["60", area.names["town"], "宿迁市"]
    status, _headers, body = _get(page, web.at("/admin/settlement.xlsx"))
    sheet = load_workbook(io.BytesIO(body))["settlement"]
    assert next(r for r in sheet.iter_rows(values_only=True) if area.names["town"] in r[:2])[4] == 60
    row.get_by_role("link", name="结算").click()
    expect(page.locator(".facts")).to_contain_text("60 分钟")
    assert_accessible(page)
    page.get_by_role("button", name="记下这次结算").click()
    expect(page.locator(".notice--ok")).to_contain_text("结算")
    with web.world.session() as s:
        done = s.scalars(sa.select(interbank.Settlement).where(sa.or_(interbank.Settlement.bank_a_id == ids["town"],
                                                                      interbank.Settlement.bank_b_id == ids["town"]))).all()
        assert [(d.a_owed + d.b_owed, abs(d.net), d.settled_by) for d in done] == [(60, 60, web.ids["administrator"])]
    expect(page.locator(f"#settlement tr[data-pair*='{ids['town']}'] .settle-pair")).to_have_count(0)
    screenshot(page, "admin-settlement")


# --- scope --------------------------------------------------------------------------------------

def test_an_administrator_of_another_region_sees_none_of_this_regions_figures(
        web: WebWorld, new_page: Callable[..., Page], dashboard_area: Area) -> None:
    area = dashboard_area
    page = new_page(viewport=PHONE)
    _open(web, page, "other_administrator", "/admin")
    expect(page.locator("h1")).to_have_text("数据总览")
    main = page.locator("main").inner_text()
    assert area.names["one"] not in main and area.names["town"] not in main and "海州区" not in main
    assert_accessible(page)
    for path in (f"/admin?region={area.id}", f"/admin/policy?region={area.ids['one']}",
                 f"/admin/dashboard.csv?region={area.id}", f"/admin/dashboard.xlsx?region={area.id}"):
        status, _headers, body = _get(page, web.at(path))
        assert status == 404, path
        assert area.names["town"].encode() not in body
    # the policy page lists only their own regions
    page.goto(web.at("/admin/policy"))
    assert area.names["town"] not in page.locator("#field-region").inner_text()
    # other roles are turned away
    other = new_page()
    web.sign_in(other, "coordinator", then="/account")
    response = other.goto(web.at("/admin"))
    assert response is not None and response.status == 403


def test_the_administrator_menu_leads_to_each_page(web: WebWorld, new_page: Callable[..., Page]) -> None:
    page = new_page(viewport=PHONE)
    web.sign_in(page, "administrator")
    assert page.url.endswith("/admin")
    nav = page.get_by_role("navigation", name="主菜单")
    nav.get_by_role("link", name="规则设置").click()
    expect(page.locator("h1")).to_have_text("规则设置")
    nav.get_by_role("link", name="银行间结算").click()
    expect(page.locator("h1")).to_have_text("银行间结算")
    assert_accessible(page)


def test_downloads_need_an_administrator(web: WebWorld) -> None:
    request = urllib.request.Request(web.at("/admin/dashboard.csv"))
    with urllib.request.urlopen(request) as response:  # redirected to the sign-in page
        assert "/sign-in" in response.url
