"""The elder's and their family member's pages on a phone: the time they hold, asking for a service
paid with it (the credit is held), cancelling (it comes back), a family member confirming a service
with one click, and hostile input on the request form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.web.test_confirm_pages import HOSTILE, new_record, stored
from tests.web.webworld import PHONE, WebWorld, assert_accessible, screenshot
from timebank import accounts, people
from timebank.accounts import Account
from timebank.redemption import Redemption


def give(web: WebWorld, person_id: str, minutes: int) -> None:
    """Credit straight into the person's home-bank account, as a verified record would put it."""
    world = web.world
    with world.session() as s:
        at = datetime.now(timezone.utc)
        bank = people.home_bank(s, person_id)
        accounts.transfer(s, world.writer(), bank=bank, type="deposit", at=at, body={"test_deposit": person_id},
                          moves=[(accounts.bank_account(s, bank, "issuance", at), -minutes),
                                 (accounts.person_account(s, bank=bank, person_id=person_id, at=at), minutes)])
        s.commit()


def credit(web: WebWorld, person_id: str) -> int:
    with web.world.session() as s:
        return int(s.scalar(sa.select(sa.func.coalesce(sa.func.sum(Account.balance), 0)).where(
            Account.kind == "person", Account.owner_id == person_id, Account.unit == "credit")) or 0)


def requests_of(web: WebWorld, elder_id: str) -> list[Redemption]:
    with web.world.session() as s:
        rows = list(s.scalars(sa.select(Redemption).where(Redemption.redeemer_id == elder_id)
                              .order_by(Redemption.requested_at)))
        s.expunge_all()
        return rows


def test_the_elder_sees_their_time_asks_for_a_service_and_cancels_it(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    elder_id = web.ids["elder"]
    give(web, elder_id, 150)
    before = credit(web, elder_id)
    page = new_page(viewport=PHONE)
    web.sign_in(page, "elder")
    assert page.url.endswith("/elder")
    expect(page.locator(".balance [data-balance]")).to_have_attribute("data-balance", str(before))
    assert page.locator(".balance__number").evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 48
    assert_accessible(page)

    page.get_by_role("link", name="申请服务").first.click()
    expect(page.locator("h1")).to_have_text("申请服务")
    page.get_by_role("button", name="提交申请").click()  # nothing chosen: said on the field
    expect(page.locator("#error-service")).to_be_visible()
    page.locator("#field-service").select_option("MEAL")
    page.locator("#field-minutes").fill("abc")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#error-minutes")).to_contain_text("请输入整数")
    expect(page.locator("#field-service")).to_have_value("MEAL")
    assert_accessible(page)
    page.locator("#field-minutes").fill("60")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator(".notice--ok")).to_contain_text("申请已提交")
    made = [r for r in requests_of(web, elder_id) if r.status == "requested"][-1]
    assert made.minutes == 60 and made.catalogue_code == "MEAL" and made.requested_by == elder_id
    assert credit(web, elder_id) == before - made.credit_minutes
    expect(page.locator(f"[data-request='{made.id}']")).to_have_attribute("data-status", "requested")
    assert_accessible(page)

    page.locator(f"[data-request='{made.id}']").get_by_role("link", name="取消这个申请").click()
    expect(page.locator("h1")).to_have_text("要取消这个申请吗？")
    assert_accessible(page)
    page.get_by_role("button", name="是的，取消").click()
    expect(page.locator(".notice--ok")).to_contain_text("申请已取消")
    expect(page.locator(f"[data-request='{made.id}']")).to_have_attribute("data-status", "cancelled")
    assert credit(web, elder_id) == before
    screenshot(page, "elder-request-cancelled")


def test_asking_for_more_than_the_time_held_is_refused_and_holds_nothing(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    elder_id = web.ids["elder"]
    before, count = credit(web, elder_id), len(requests_of(web, elder_id))
    page = new_page(viewport=PHONE)
    web.sign_in(page, "elder", then="/elder/ask?lang=en")
    page.locator("#field-service").select_option("MEAL")
    page.locator("#field-minutes").fill(str(min(before + 60, 1440)))
    page.get_by_role("button", name="Send my request").click()
    expect(page.locator(".error-summary")).to_contain_text("There is not enough credit for this.")
    expect(page.locator("#field-minutes")).to_have_value(str(min(before + 60, 1440)))
    assert credit(web, elder_id) == before and len(requests_of(web, elder_id)) == count
    screenshot(page, "elder-request-refused-en")


def test_a_family_member_sees_their_elders_page_and_confirms_with_one_click(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    record_id, _code = new_record(web, minutes=20)
    page = new_page(viewport=PHONE)
    web.sign_in(page, "proxy")
    assert page.url.endswith("/elder")
    expect(page.locator("h1")).to_have_text("家里老人的时间")
    expect(page.locator(".balance [data-balance]")).to_have_attribute("data-balance",
                                                                        str(credit(web, web.ids["elder"])))
    waiting = page.locator(f"#waiting [data-record='{record_id}']")
    expect(waiting).to_contain_text("20 分钟")
    expect(page.locator(".site-nav")).to_contain_text("我的申请")
    assert_accessible(page)
    waiting.get_by_role("button", name="对，没错——确认").click()
    expect(page.locator(".notice--ok")).to_contain_text("已确认")
    record = stored(web, record_id)
    assert record.status == "confirmed" and record.confirmed_kind == "proxy"
    assert record.confirmed_by == web.ids["proxy"] and record.on_behalf_of == web.ids["elder"]
    expect(page.locator(f"#waiting [data-record='{record_id}']")).to_have_count(0)
    screenshot(page, "elder-proxy-confirmed")


def test_the_elder_is_sent_to_the_code_page_to_confirm_and_others_may_not_open_these_pages(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    record_id, _code = new_record(web)
    page = new_page(viewport=PHONE)
    web.sign_in(page, "elder")
    page.locator(f"#waiting [data-record='{record_id}']").get_by_role("link", name="用确认码确认").click()
    expect(page.locator("#field-record")).to_have_value(record_id)
    # a one-click confirmation is for the family member; the elder's own is refused
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    refused = page.request.post(web.at(f"/elder/records/{record_id}/confirm"), form={"csrf_token": token})
    assert refused.status == 403 and stored(web, record_id).status == "submitted"
    volunteer = new_page(viewport=PHONE)
    web.sign_in(volunteer, "volunteer")
    response = volunteer.goto(web.at("/elder"))
    assert response is not None and response.status == 403
    other = new_page(viewport=PHONE)
    web.sign_in(other, "other_elder")
    response = other.goto(web.at(f"/elder/requests/{_any_request(web)}/cancel"))
    assert response is not None and response.status == 404


def _any_request(web: WebWorld) -> str:
    give(web, web.ids["elder"], 30)
    from timebank import redemption

    with web.world.session() as s:
        found = redemption.request_redemption(s, web.world.writer(), redeemer_id=web.ids["elder"],
                                              catalogue_code="MEAL", minutes=10, region_id=web.ids["community"],
                                              requested_by=web.ids["elder"], at=datetime.now(timezone.utc))
        s.commit()
        return found.id


def test_hostile_input_on_the_request_form_is_refused_and_shown_as_text(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    elder_id = web.ids["elder"]
    before, count = credit(web, elder_id), len(requests_of(web, elder_id))
    page = new_page(viewport=PHONE)
    web.sign_in(page, "elder", then="/elder/ask")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    for n, text in enumerate(HOSTILE):
        for field in ("service", "minutes", "form_key"):
            form = {"csrf_token": token, "form_key": f"hostile-{n}", "service": "MEAL", "minutes": "99999", field: text}
            response = page.request.post(web.at("/elder/ask"), form=form)
            assert response.status == 422, (field, text[:20], response.status)
            assert "<script>alert(1)</script>" not in response.text()
    assert credit(web, elder_id) == before and len(requests_of(web, elder_id)) == count
    page.goto(web.at("/elder/ask"))
    page.locator("#field-minutes").fill(HOSTILE[0])
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#field-minutes")).to_have_value(HOSTILE[0])
    screenshot(page, "elder-request-hostile")
