"""The main journey across roles, each on their own phone: a volunteer logs hours, the elder
confirms with the code from the link (no account needed), the coordinator verifies, and the
volunteer's balance rises by exactly the hours given. The coordinator works in English."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from playwright.sync_api import Locator, Page, expect

from timebank import accounts
from timebank.checks import CHINA
from timebank.people import Elder
from timebank.records import ServiceRecord
from tests.web.webworld import PHONE, WebWorld, assert_accessible, screenshot


def _go(page: Page, target: Locator) -> None:
    with page.expect_navigation(wait_until="load"):
        target.click()


def _yesterday() -> date:
    return datetime.now(CHINA).date() - timedelta(days=1)


def test_hours_logged_confirmed_and_verified_raise_the_volunteers_balance(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    with web.world.session() as s:
        before = accounts.person_balance(s, web.ids["volunteer"])
        code_of_elder = s.get_one(Elder, web.ids["elder"]).short_code

    # the volunteer logs 90 minutes with the elder's card code
    volunteer = new_page(viewport=PHONE)
    web.sign_in(volunteer, "volunteer")
    expect(volunteer.locator("[data-balance]")).to_have_attribute("data-balance", str(before))
    _go(volunteer, volunteer.get_by_role("link", name="记录服务时长").first)
    volunteer.locator("#field-elder").fill(code_of_elder)
    volunteer.locator("#field-catalogue").select_option("MEAL")
    volunteer.locator("#field-date").fill(_yesterday().isoformat())
    volunteer.locator("#field-start").fill("14:00")
    volunteer.locator("#field-end").fill("15:30")
    volunteer.locator("#field-place").fill("朝阳社区3号楼")
    _go(volunteer, volunteer.locator("button[value=log]"))
    expect(volunteer.locator("h1")).to_have_text("服务时长已记录")
    link = volunteer.locator("[data-confirm-link]").get_attribute("href") or ""
    record_id = link.split("/confirm/")[1].split("?")[0]

    # the elder opens the link on their own phone, signed in as nobody, and confirms
    elder = new_page(viewport=PHONE)
    elder.goto(link if link.startswith("http") else web.at(link))
    expect(elder.locator(f"[data-record='{record_id}'] [data-minutes]")).to_have_text("90 分钟")
    assert_accessible(elder)
    _go(elder, elder.get_by_role("button", name="对，没错——确认"))
    expect(elder.locator("[data-confirmed]")).to_contain_text("已确认")
    screenshot(elder, "journey-elder-confirmed")

    # the coordinator verifies it from the queue, in English
    coordinator = new_page(viewport=PHONE)
    coordinator.goto(web.at("/sign-in?lang=en"))
    web.sign_in(coordinator, "coordinator", then="/coordinator/queue")
    row = coordinator.locator(f"tr[data-record={record_id}]")
    expect(row).to_be_visible()
    coordinator.locator(f"#pick-{record_id}").check()
    _go(coordinator, coordinator.get_by_role("button", name="Verify selected"))
    expect(coordinator.locator(".notice--ok")).to_be_visible()
    expect(row).to_have_count(0)
    assert_accessible(coordinator)

    # the volunteer's balance rose by the 90 minutes, on the page and in the ledger-backed accounts
    volunteer.goto(web.at("/volunteer"))
    expect(volunteer.locator("[data-balance]")).to_have_attribute("data-balance", str(before + 90))
    screenshot(volunteer, "journey-volunteer-balance")
    with web.world.session() as s:
        record = s.get_one(ServiceRecord, record_id)
        assert (record.status, record.credit_minutes) == ("posted", 90)
        assert accounts.person_balance(s, web.ids["volunteer"]) == before + 90
