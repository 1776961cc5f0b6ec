"""The coordinator's pages in a real browser on a phone: verifying records in bulk (the volunteers'
balances rise), rejecting with a reason, records of other regions never shown, dispatching and
completing a service request (the volunteer sent is paid), registering an elder (an inline error
fixed, then the short code), the week's care compliance; hostile input in the forms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from tests.api.apiworld import id_number
from tests.web.webworld import PHONE, WebWorld, assert_accessible, screenshot
from timebank import accounts, care, dispatch, people
from timebank.checks import china_date
from timebank.people import Elder, Relative
from timebank.records import RecordEvent, ServiceRecord
from timebank.records_confirm import confirm_with_code
from timebank.records_review import verify_record
from timebank.records_submit import submit_record
from timebank.redemption import Redemption, request_redemption

HOSTILE = ("<script>alert(1)</script>", "长" * 5000, "王\u202eevil", "'; DROP TABLE x; --")


def female_id(born: date) -> str:
    """A resident ID number of a woman born on `born` (its 17th digit is even)."""
    while True:
        number = id_number(born)
        if int(number[16]) % 2 == 0:
            return number


def go(page: Page, target: Locator) -> None:
    """Click a link or a submit button and wait until the next page has loaded, stylesheets too (a
    request cut off by the next click would leave the test server's file open)."""
    with page.expect_navigation(wait_until="load"):
        target.click()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def volunteer(web: WebWorld, region: str = "community", born: date = date(1990, 5, 17), name: str = "张志愿") -> str:
    """A new volunteer (so the records of one test never overlap another's)."""
    with web.world.session() as s:
        found = people.register_volunteer(s, web.world.sealer(), region_id=web.ids[region], name=name, sex="F",
                                          birth_date=born, id_number=id_number(born), kind="community",
                                          phone="13800000000", at=_now())
        s.commit()
        return found.id


def confirmed(web: WebWorld, volunteer_id: str, elder: str = "elder", *, minutes: int = 60, hours_ago: int = 3) -> str:
    """A record submitted by the volunteer and confirmed with the elder's code, through the use cases."""
    start = _now() - timedelta(hours=hours_ago)
    with web.world.session() as s:
        record, code = submit_record(s, web.world.writer(), web.world.sealer(), volunteer_id=volunteer_id,
                                     elder_id=web.ids[elder], catalogue_code="VISIT", started_at=start,
                                     ended_at=start + timedelta(minutes=minutes), submitted_by=volunteer_id,
                                     at=_now(), place="朝阳社区3号楼")
        assert code is not None
        confirm_with_code(s, web.world.writer(), record_id=record.id, code=code, at=_now())
        s.commit()
        return record.id


def balance(web: WebWorld, person_id: str) -> int:
    with web.world.session() as s:
        return accounts.person_balance(s, person_id)


def record_row(web: WebWorld, record_id: str) -> ServiceRecord:
    with web.world.session() as s:
        return s.get_one(ServiceRecord, record_id)


def test_a_coordinator_verifies_two_records_at_once_and_the_volunteers_are_credited(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    first, second = volunteer(web), volunteer(web)
    ids = [confirmed(web, first, minutes=60), confirmed(web, second, minutes=45)]
    elsewhere = confirmed(web, web.ids["other_volunteer"], "other_elder")  # 宿迁: not this coordinator's
    page = new_page(viewport=PHONE)
    web.sign_in(page, "coordinator", then="/coordinator")
    expect(page.locator("h1")).to_have_text("协调员首页")
    assert int(page.locator("[data-count=records]").inner_text()) >= 2
    assert_accessible(page)
    go(page, page.get_by_role("link", name="去核实服务记录"))
    expect(page.locator("h1")).to_have_text("核实服务记录")
    for record_id in ids:
        expect(page.locator(f"tr[data-record={record_id}]")).to_contain_text("探访")
    expect(page.locator(f"tr[data-record={elsewhere}]")).to_have_count(0)
    assert elsewhere not in page.content()
    assert_accessible(page)
    for record_id in ids:
        page.locator(f"#pick-{record_id}").check()
    go(page, page.get_by_role("button", name="核实所选记录"))
    expect(page.locator(".notice--ok")).to_contain_text("已核实2条记录")
    expect(page.locator("[data-empty=queue]")).to_be_visible()
    screenshot(page, "coordinator-queue-verified")
    posted = [record_row(web, record_id) for record_id in ids]
    assert [r.status for r in posted] == ["posted", "posted"]
    assert [r.credit_minutes for r in posted] == [60, 45]  # 探访 weighs 1.0
    assert (balance(web, first), balance(web, second)) == (60, 45)
    # out of scope stays out of reach, even by its address
    assert record_row(web, elsewhere).status == "confirmed"
    response = page.goto(web.at(f"/coordinator/queue/{elsewhere}/reject"))
    assert response is not None and response.status == 404


def test_one_record_is_verified_and_another_rejected_with_a_reason_in_english(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    helper = volunteer(web)
    good, bad = confirmed(web, helper, hours_ago=5), confirmed(web, helper, hours_ago=3)
    page = new_page(viewport=PHONE)
    web.sign_in(page, "coordinator", then="/coordinator/queue?lang=en")
    expect(page.locator("h1")).to_have_text("Verify records")
    go(page, page.locator(f"tr[data-record={good}]").get_by_role("button", name="Verify"))
    expect(page.locator(".notice--ok")).to_contain_text("The record is verified")
    assert record_row(web, good).status == "posted" and balance(web, helper) == 60
    go(page, page.locator(f"tr[data-record={bad}]").get_by_role("link", name="Reject"))
    expect(page.locator("h1")).to_have_text("Reject a record")
    go(page, page.get_by_role("button", name="Reject the record"))
    expect(page.locator("#error-reason")).to_contain_text("Please fill this in.")
    assert_accessible(page)
    page.locator("#field-reason").fill("The elder was in hospital that day.")
    go(page, page.get_by_role("button", name="Reject the record"))
    expect(page.locator(".notice--ok")).to_contain_text("The record is rejected")
    expect(page.locator(f"tr[data-record={bad}]")).to_have_count(0)
    screenshot(page, "coordinator-reject-en")
    assert record_row(web, bad).status == "rejected" and balance(web, helper) == 60
    with web.world.session() as s:
        reasons = s.scalars(sa.select(RecordEvent.reason).where(RecordEvent.record_id == bad,
                                                                RecordEvent.event == "rejected")).all()
    assert reasons == ["The elder was in hospital that day."]


def test_hostile_reasons_are_refused_or_kept_as_text(web: WebWorld, new_page: Callable[..., Page]) -> None:
    record_id = confirmed(web, volunteer(web))
    page = new_page(viewport=PHONE)
    web.sign_in(page, "coordinator", then=f"/coordinator/queue/{record_id}/reject")
    script, long, rtl, sql = HOSTILE
    for text, stays in ((long, True), (rtl, True), (script, False)):
        field = page.locator("#field-reason")
        field.evaluate("el => el.removeAttribute('maxlength')")  # as a script posting the form would
        field.fill(text)
        with page.expect_response(lambda r: r.request.method == "POST") as sent:
            go(page, page.get_by_role("button", name="确定不通过"))
        assert sent.value.status < 500
        if stays:
            assert sent.value.status == 422
            expect(page.locator("#error-reason")).to_be_visible()
            expect(page.locator("#field-reason")).to_have_value(text)
    expect(page.locator(".notice--ok")).to_contain_text("记录未通过")
    with web.world.session() as s:
        reasons = s.scalars(sa.select(RecordEvent.reason).where(RecordEvent.record_id == record_id,
                                                                RecordEvent.event == "rejected")).all()
    assert reasons == [script]
    # once rejected, another reason is refused in words, never a 5xx
    page.goto(web.at(f"/coordinator/queue/{record_id}/reject"))
    page.locator("#field-reason").fill(sql)
    go(page, page.get_by_role("button", name="确定不通过"))
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#field-reason")).to_have_value(sql)


def _request(web: WebWorld) -> tuple[str, int]:
    """A service request by a volunteer over 60 who earned the time first: (redemption id, credit)."""
    older = volunteer(web, born=date(1955, 4, 1), name="周大爷")
    record_id = confirmed(web, older, minutes=120)
    with web.world.session() as s:
        verify_record(s, web.world.writer(), record_id=record_id, staff_id=web.ids["coordinator"], at=_now())
        found = request_redemption(s, web.world.writer(), redeemer_id=older, catalogue_code="MEAL", minutes=60,
                                   region_id=web.ids["community"], requested_by=older, at=_now())
        s.commit()
        return found.id, found.credit_minutes


def test_a_request_is_sent_a_volunteer_then_done_and_the_volunteer_is_paid(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    redemption_id, credit = _request(web)
    helper = volunteer(web, name="吴热心")
    page = new_page(viewport=PHONE)
    web.sign_in(page, "coordinator", then="/coordinator/requests")
    expect(page.locator("h1")).to_have_text("服务申请")
    row = page.locator(f"tr[data-request={redemption_id}]")
    expect(row).to_contain_text("还没派人")
    assert_accessible(page)
    go(page, row.get_by_role("link", name="打开"))
    # done before anyone is sent: said on the page, nothing paid
    go(page, page.get_by_role("button", name="已完成"))
    expect(page.locator(".error-summary")).to_contain_text("请先派志愿者")
    assert_accessible(page)
    page.locator("#field-volunteer_id").select_option(helper)
    go(page, page.get_by_role("button", name="派这位志愿者"))
    expect(page.locator(".notice--ok")).to_contain_text("已派出志愿者")
    expect(page.locator("[data-sent]")).to_contain_text("吴热心")
    with web.world.session() as s:
        sent = dispatch.current_dispatch(s, redemption_id)
        assert sent is not None and (sent.volunteer_id, sent.by) == (helper, web.ids["coordinator"])
    go(page, page.get_by_role("button", name="已完成"))
    expect(page.locator(".notice--ok")).to_contain_text("已付给吴热心")
    expect(page.locator(f"tr[data-request={redemption_id}]")).to_have_count(0)
    screenshot(page, "coordinator-request-done")
    with web.world.session() as s:
        done = s.get_one(Redemption, redemption_id)
        assert (done.status, done.provider_id, done.completed_by) == ("completed", helper, web.ids["coordinator"])
    assert balance(web, helper) == credit == 60


def _fill_elder(page: Page, web: WebWorld, *, name: str, born: str, number: str) -> None:
    page.locator("#field-name").fill(name)
    page.locator("#field-sex").select_option("F")
    page.locator("#field-birth_date").fill(born)
    page.locator("#field-id_number").fill(number)
    page.locator("#field-phone").fill("139 0000 1111")
    page.locator("#field-address").fill("朝阳社区5号楼2单元")
    page.locator("#field-region_id").select_option(web.ids["community"])


def test_registering_an_elder_fixes_an_inline_error_then_shows_the_short_code(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    number = female_id(date(1938, 2, 14))
    page = new_page(viewport=PHONE)
    web.sign_in(page, "coordinator", then="/coordinator/elders/new")
    expect(page.locator("h1")).to_have_text("登记老人")
    _fill_elder(page, web, name="孙奶奶", born="1938-02-15", number=number)  # one day off the ID number
    page.get_by_label("独居").check()
    page.locator("#field-relative_name").fill("孙女儿")
    page.locator("#field-relative_relation").select_option("child")
    go(page, page.get_by_role("button", name="登记", exact=True))
    expect(page.locator("#error-id_number")).to_contain_text("身份证号上的出生日期是1938-02-14")
    for field, value in (("name", "孙奶奶"), ("id_number", number), ("relative_name", "孙女儿")):
        expect(page.locator(f"#field-{field}")).to_have_value(value)
    expect(page.get_by_label("独居")).to_be_checked()
    assert_accessible(page)
    page.locator("#field-birth_date").fill("1938-02-14")
    go(page, page.get_by_role("button", name="登记", exact=True))
    expect(page.locator("h1")).to_have_text("老人已登记")
    code = page.locator("[data-short-code]").get_attribute("data-short-code")
    assert code and len(code) == 6
    assert_accessible(page)
    screenshot(page, "coordinator-elder-registered")
    with web.world.session() as s:
        elder = s.scalars(sa.select(Elder).where(Elder.short_code == code)).one()
        assert people.opened(web.world.sealer(), elder)["name"] == "孙奶奶"
        assert (elder.region_id, elder.birth_date) == (web.ids["community"], date(1938, 2, 14))
        assert people.current_tags(s, elder.id) == ["living_alone"]
        (relative,) = s.scalars(sa.select(Relative).where(Relative.elder_id == elder.id)).all()
        assert (relative.relation, relative.may_confirm, relative.may_redeem) == ("child", True, False)


def test_hostile_text_in_the_elder_form_is_refused_or_shown_as_text(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    page = new_page(viewport=PHONE)
    web.sign_in(page, "coordinator", then="/coordinator/elders/new")
    for text in HOSTILE:
        page.goto(web.at("/coordinator/elders/new"))
        number = female_id(date(1944, 6, 1))
        _fill_elder(page, web, name=text, born="1944-06-01", number=number)
        page.locator("#field-address").fill(text)
        with page.expect_response(lambda r: r.request.method == "POST") as sent:
            go(page, page.get_by_role("button", name="登记", exact=True))
        assert sent.value.status < 500
        if len(text) > 200 or "\u202e" in text:
            assert sent.value.status == 422
            expect(page.locator("#error-name")).to_be_visible()
            expect(page.locator("#field-id_number")).to_have_value(number)
        else:
            expect(page.locator("[data-name]")).to_have_text(text)  # shown as text, not run
    with web.world.session() as s:
        names = {people.opened(web.world.sealer(), e)["name"] for e in s.scalars(sa.select(Elder))}
    assert {HOSTILE[0], HOSTILE[3]} <= names and not {HOSTILE[1], HOSTILE[2]} & names


def test_the_care_list_puts_a_behind_agreement_first_in_words(web: WebWorld, new_page: Callable[..., Page]) -> None:
    today = china_date(_now())
    monday = today - timedelta(days=today.weekday())
    with web.world.session() as s:
        sealer, writer, staff = web.world.sealer(), web.world.writer(), web.ids["coordinator"]

        def elder(name: str) -> str:
            born = date(1936, 1, 5)
            return people.register_elder(s, sealer, region_id=web.ids["community"], name=name, sex="F",
                                         birth_date=born, id_number=id_number(born), registered_by=staff,
                                         at=_now()).id

        care.sign_agreement(s, writer, sealer, elder_id=elder("钱奶奶"), carer_kind="neighbour",
                                     carer_name="李邻居", signed_by=staff, starts_on=monday - timedelta(days=7),
                                     contacts_per_week=3, at=_now())
        kept = care.sign_agreement(s, writer, sealer, elder_id=elder("冯爷爷"), carer_kind="volunteer",
                                   carer_id=web.ids["volunteer"], signed_by=staff,
                                   starts_on=monday - timedelta(days=7), contacts_per_week=1, at=_now())
        care.log_contact(s, sealer, agreement_id=kept.id, kind="visit", happened_at=_now() - timedelta(seconds=1),
                         by=staff, at=_now())
        s.commit()
    page = new_page(viewport=PHONE)
    web.sign_in(page, "coordinator", then="/coordinator/care")
    expect(page.locator("h1")).to_have_text("关爱探访")
    rows = page.locator("tbody tr")
    expect(rows.first).to_have_attribute("data-behind", "yes")
    expect(rows.first).to_contain_text("钱奶奶")
    expect(rows.first).to_contain_text("未达标")
    expect(rows.first).to_contain_text("还差3次电话或探访")
    kept_row = page.locator("tbody tr", has_text="冯爷爷")
    expect(kept_row).to_have_attribute("data-behind", "no")
    expect(kept_row).to_contain_text("已达标")
    assert int(page.locator("dd[data-behind]").get_attribute("data-behind") or 0) >= 1
    expect(page.locator("[data-rate]")).not_to_have_attribute("data-rate", "")
    assert_accessible(page)
    screenshot(page, "coordinator-care")


def test_other_roles_are_turned_away(web: WebWorld, new_page: Callable[..., Page]) -> None:
    page = new_page(viewport=PHONE)
    web.sign_in(page, "volunteer")
    response = page.goto(web.at("/coordinator/queue"))
    assert response is not None and response.status == 403
    page = new_page(viewport=PHONE)
    response = page.goto(web.at("/coordinator"))
    assert response is not None and "/sign-in?next=/coordinator" in page.url
