"""The volunteer's journeys in a real browser on a phone: signing up, logging hours (the elder's code
and QR code), the records, the credit and giving it to a relative, certificates; errors on the
field that must change, with nothing typed lost; hostile input stored and shown as text."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.api.apiworld import PASSWORD, id_number
from tests.web.webworld import PHONE, WebWorld, assert_accessible, screenshot
from timebank import accounts, people, records_confirm, records_review, users
from timebank.checks import CHINA
from timebank.gifts import Gift
from timebank.people import Elder, Volunteer
from timebank.records import ServiceRecord
from timebank.records_submit import submit_record

_n = itertools.count(1)
HOSTILE = ("<script>alert(1)</script>", "x" * 5000, "abc\u202edef", "'; DROP TABLE x; --")


# --- setting up, through the use cases ----------------------------------------------------------

def _now() -> datetime:
    return datetime.now(timezone.utc)


def _yesterday() -> date:
    return _now().astimezone(CHINA).date() - timedelta(days=1)


def new_volunteer(web: WebWorld) -> tuple[str, str]:
    """A volunteer of 朝阳社区 with a user of their own; returns (volunteer id, key in web.usernames)."""
    n = next(_n)
    birth = date(1980, 1, 1) + timedelta(days=n * 37)
    world = web.world
    with world.session() as s:
        volunteer = people.register_volunteer(s, world.sealer(), region_id=web.ids["community"], name="周志愿",
                                              sex="M", birth_date=birth, id_number=id_number(birth), kind="community",
                                              phone="13800000002", at=_now())
        user = users.create_user(s, username=f"vp{n}.{volunteer.id[-6:]}".lower(), password=PASSWORD,
                                 role="volunteer", subject_id=volunteer.id, at=_now())
        s.commit()
        web.usernames[f"vp{n}"] = user.username
        return volunteer.id, f"vp{n}"


def add_record(web: WebWorld, volunteer_id: str, *, hour: int, minutes: int = 60, posted: bool = True) -> str:
    """A record of yesterday from `hour` o'clock (China time), posted as credit unless not `posted`."""
    world, ids = web.world, web.ids
    started = datetime.combine(_yesterday(), time(hour), CHINA)
    with world.session() as s:
        record, _code = submit_record(s, world.writer(), world.sealer(), volunteer_id=volunteer_id,
                                      elder_id=ids["elder"], catalogue_code="MEAL", started_at=started,
                                      ended_at=started + timedelta(minutes=minutes), submitted_by=volunteer_id,
                                      at=_now(), place="朝阳社区3号楼")
        if posted:
            records_confirm.confirm_as_witness(s, world.writer(), record_id=record.id, staff_id=ids["coordinator"],
                                               at=_now())
            records_review.verify_record(s, world.writer(), record_id=record.id, staff_id=ids["coordinator"],
                                         at=_now())
        s.commit()
        return record.id


def elder_code(web: WebWorld) -> str:
    with web.world.session() as s:
        return s.get_one(Elder, web.ids["elder"]).short_code


def balance(web: WebWorld, person_id: str) -> int:
    with web.world.session() as s:
        return accounts.person_balance(s, person_id)


def fill_service(page: Page, *, day: date, start: str, end: str, place: str = "", notes: str = "") -> None:
    page.locator("#field-catalogue").select_option("MEAL")
    page.locator("#field-date").fill(day.isoformat())
    page.locator("#field-start").fill(start)
    page.locator("#field-end").fill(end)
    page.locator("#field-place").fill(place)
    page.locator("#field-notes").fill(notes)


def log_button(page: Page) -> None:
    page.locator("button[value=log]").click()
    page.wait_for_load_state()


# --- signing up ---------------------------------------------------------------------------------

def test_signing_up_registers_a_volunteer_and_signs_them_in(web: WebWorld, new_page: Callable[..., Page]) -> None:
    page = new_page(viewport=PHONE)
    page.goto(web.at("/sign-in"))
    page.get_by_role("link", name="在这里注册").click()
    expect(page.locator("h1")).to_have_text("志愿者注册")
    assert_accessible(page)
    born = date(1992, 6, 3)
    number = id_number(born)
    sex = "M" if int(number[16]) % 2 else "F"
    username = f"signup{next(_n)}"
    page.locator("#field-region").select_option(web.ids["community"])
    page.locator("#field-name").fill("吴新人")
    page.locator("#field-sex").select_option(sex)
    page.locator("#field-birth_date").fill("1992-06-04")  # not the day the ID number holds
    page.locator("#field-id_number").fill(number)
    page.locator("#field-phone").fill("13812345678")
    page.locator("#field-kind").select_option("youth")
    page.locator("#field-username").fill(username)
    page.locator("#field-password").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    expect(page.locator("#error-id_number")).to_contain_text("1992-06-03")
    expect(page.locator("#field-name")).to_have_value("吴新人")
    expect(page.locator("#field-id_number")).to_have_value(number)
    expect(page.locator("#field-kind")).to_have_value("youth")
    expect(page.locator("#field-password")).to_have_value("")
    assert_accessible(page)
    page.locator("#field-birth_date").fill(born.isoformat())
    page.locator("#field-password").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("我的首页")
    expect(page.locator(".notice--ok")).to_contain_text("欢迎")
    expect(page.locator("[data-balance]")).to_have_attribute("data-balance", "0")
    with web.world.session() as s:
        user = s.scalar(sa.select(users.User).where(users.User.username == username))
        assert user is not None and user.role == "volunteer"
        volunteer = s.get_one(Volunteer, user.subject_id)
        assert (volunteer.region_id, volunteer.kind, volunteer.birth_date) == (web.ids["community"], "youth", born)
        assert people.opened(web.world.sealer(), volunteer)["name"] == "吴新人"
    assert_accessible(page)
    screenshot(page, "volunteer-sign-up-done")


# --- logging hours ------------------------------------------------------------------------------

def test_logging_hours_gives_the_elder_a_code_a_link_and_a_qr_code(web: WebWorld,
                                                                    new_page: Callable[..., Page]) -> None:
    volunteer_id, user = new_volunteer(web)
    page = new_page(viewport=PHONE)
    web.sign_in(page, user)
    expect(page.locator("h1")).to_have_text("我的首页")
    page.get_by_role("link", name="记录服务时长").first.click()
    expect(page.locator("h1")).to_have_text("记录服务时长")
    assert_accessible(page)
    # found by name within the volunteer's community, shown masked
    page.locator("#field-elder").fill("刘奶奶")
    page.locator("button[value=find]").click()
    expect(page.locator("[data-found]")).to_contain_text("刘**")
    expect(page.locator("main")).not_to_contain_text("刘奶奶")
    # or by the code on the elder's card
    page.locator("#field-elder").fill(elder_code(web).lower())
    fill_service(page, day=_yesterday(), start="09:00", end="10:30", place="朝阳社区3号楼", notes="陪老人吃午饭")
    log_button(page)
    expect(page.locator("h1")).to_have_text("服务时长已记录")
    code = page.locator("[data-code]").get_attribute("data-code") or ""
    assert re.fullmatch(r"[0-9]{6}", code)
    assert (page.locator("img.qr").get_attribute("src") or "").startswith("data:image/svg+xml")
    assert page.locator("img.qr").evaluate("img => img.complete && img.naturalWidth > 0")  # it drew
    link = page.locator("[data-confirm-link]").get_attribute("href") or ""
    match = re.search(r"/confirm/(rec_[a-z0-9]+)\?code=([0-9]{6})$", link)
    assert match and match[2] == code
    with web.world.session() as s:
        record = s.get_one(ServiceRecord, match[1])
        assert (record.volunteer_id, record.elder_id, record.status) == (volunteer_id, web.ids["elder"], "submitted")
        assert (record.minutes, record.catalogue_code) == (90, "MEAL")
        assert record.started_at.replace(tzinfo=timezone.utc) == datetime.combine(_yesterday(), time(9), CHINA)
    assert_accessible(page)
    screenshot(page, "volunteer-log-hours-code")


def test_log_hours_errors_are_shown_on_the_field_and_nothing_typed_is_lost(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    volunteer_id, user = new_volunteer(web)
    page = new_page(viewport=PHONE)
    web.sign_in(page, user, then="/volunteer/log-hours?lang=en")
    expect(page.locator("h1")).to_have_text("Log hours")
    page.locator("#field-elder").fill(elder_code(web))
    fill_service(page, day=_yesterday(), start="10:00", end="09:00", place="Room 3", notes="lunch together")
    log_button(page)
    expect(page.locator("#error-end")).to_contain_text("must be after the start time")
    for field, value in (("elder", elder_code(web)), ("start", "10:00"), ("end", "09:00"), ("place", "Room 3"),
                         ("notes", "lunch together"), ("catalogue", "MEAL")):
        expect(page.locator(f"#field-{field}")).to_have_value(value)
    # an unknown card code
    page.locator("#field-elder").fill("ZZZZ99")
    page.locator("#field-end").fill("11:00")
    log_button(page)
    expect(page.locator("#error-elder")).to_contain_text("No elder has the code ZZZZ99")
    expect(page.locator("#field-elder")).to_have_attribute("aria-invalid", "true")
    # the domain refuses a service that has not ended yet: said on the end time
    page.locator("#field-elder").fill(elder_code(web))
    page.locator("#field-date").fill((_yesterday() + timedelta(days=2)).isoformat())
    log_button(page)
    expect(page.locator("#error-end")).to_contain_text("only be logged after it has ended")
    expect(page.locator("#field-notes")).to_have_value("lunch together")
    expect(page.locator("#field-date")).to_have_value((_yesterday() + timedelta(days=2)).isoformat())
    assert_accessible(page)
    screenshot(page, "volunteer-log-hours-errors-en")
    with web.world.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ServiceRecord).where(
            ServiceRecord.volunteer_id == volunteer_id)) == 0


def test_an_overlapping_record_is_refused_in_words(web: WebWorld, new_page: Callable[..., Page]) -> None:
    volunteer_id, user = new_volunteer(web)
    add_record(web, volunteer_id, hour=9, posted=False)
    page = new_page(viewport=PHONE)
    web.sign_in(page, user, then="/volunteer/log-hours")
    page.locator("#field-elder").fill(elder_code(web))
    fill_service(page, day=_yesterday(), start="09:30", end="10:30", notes="第二次")
    log_button(page)
    expect(page.locator("#error-start")).to_contain_text("和您的另一条记录重叠")
    expect(page.locator("#field-notes")).to_have_value("第二次")


def test_hostile_input_on_the_log_hours_form_is_refused_or_shown_as_text(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    volunteer_id, user = new_volunteer(web)
    page = new_page(viewport=PHONE)
    web.sign_in(page, user, then="/volunteer/log-hours")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    for n, text in enumerate(HOSTILE):
        for f, field in enumerate(("elder", "place", "notes")):
            hour = 6 + n * 3 + f  # a slot of its own, so stored ones never overlap
            form = {"csrf_token": token, "form_key": f"hostile-{n}-{field}", "elder": elder_code(web),
                    "catalogue": "MEAL", "date": _yesterday().isoformat(), "start": f"{hour:02d}:00",
                    "end": f"{hour:02d}:30", "action": "log", field: text}
            response = page.request.post(web.at("/volunteer/log-hours"), form=form)
            assert response.status < 500, (field, text[:20], response.status)
            assert "<script>alert(1)</script>" not in response.text()
    # what was stored comes back as text, never as markup
    page.goto(web.at("/volunteer/log-hours"))
    page.locator("#field-elder").fill(elder_code(web))
    fill_service(page, day=_yesterday(), start="18:00", end="18:30", place=HOSTILE[0], notes=HOSTILE[3])
    log_button(page)
    expect(page.locator("[data-place]")).to_have_text(HOSTILE[0])
    assert not dialogs
    with web.world.session() as s:
        count = s.scalar(sa.select(sa.func.count()).select_from(ServiceRecord).where(
            ServiceRecord.volunteer_id == volunteer_id))
    # stored: the script and the SQL text in place and notes (2 × 2) and in the form above; refused: the
    # rest (too long, direction marks, no elder of that name)
    assert count == 5
    screenshot(page, "volunteer-log-hours-hostile")


# --- records, credit, gifts, certificates --------------------------------------------------------

def test_the_records_and_the_start_page_say_each_status_in_words(web: WebWorld,
                                                                   new_page: Callable[..., Page]) -> None:
    volunteer_id, user = new_volunteer(web)
    posted = add_record(web, volunteer_id, hour=8, minutes=90)
    waiting = add_record(web, volunteer_id, hour=13, posted=False)
    page = new_page(viewport=PHONE)
    web.sign_in(page, user)
    expect(page.locator("[data-count=pending]")).to_have_text("1")
    expect(page.locator("[data-count=verified]")).to_have_text("1")
    expect(page.locator("[data-balance]")).to_have_text("1小时30分钟")
    assert_accessible(page)
    page.goto(web.at("/volunteer/records"))
    rows = page.locator("tr[data-record]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-record", waiting)  # newest service first
    expect(page.locator(f"tr[data-record='{posted}'] .badge")).to_have_text("已核实，时间已入账")
    expect(page.locator(f"tr[data-record='{waiting}'] .badge")).to_have_text("等待老人确认")
    assert_accessible(page)
    page.get_by_role("link", name="已核实").click()
    expect(page.locator("tr[data-record]")).to_have_count(1)
    for path in ("/volunteer/records?page=abc&show=<script>", "/volunteer/records?page=-9",
                 "/volunteer/credit?before=99999999999999999999999", "/volunteer/credit?before=x"):
        response = page.goto(web.at(path))
        assert response is not None and response.status == 200, path
    screenshot(page, "volunteer-records")
    # a lost code: a new one for the record still waiting
    page.goto(web.at("/volunteer/records?show=pending"))
    page.get_by_role("button", name="给老人一个新确认码").click()
    expect(page.locator("[data-code]")).to_have_attribute("data-code", re.compile(r"^[0-9]{6}$"))


def test_giving_credit_to_a_parent_moves_exactly_the_minutes_once(web: WebWorld,
                                                                  new_page: Callable[..., Page]) -> None:
    volunteer_id, user = new_volunteer(web)
    add_record(web, volunteer_id, hour=8, minutes=120)
    with web.world.session() as s:  # the register makes the volunteer the elder's child
        people.add_relative(s, web.world.sealer(), elder_id=web.ids["elder"], relation="child", name="周志愿",
                            person_id=volunteer_id, at=_now())
        s.commit()
    mine, theirs = balance(web, volunteer_id), balance(web, web.ids["elder"])
    assert mine == 120
    page = new_page(viewport=PHONE)
    web.sign_in(page, user, then="/volunteer/give")
    assert_accessible(page)
    page.locator("#field-recipient").select_option(web.ids["elder"])
    page.locator("#field-minutes").fill("500")
    page.locator("button[value=review]").click()
    expect(page.locator("#error-minutes")).to_contain_text("2小时")
    expect(page.locator("#field-recipient")).to_have_value(web.ids["elder"])
    page.locator("#field-minutes").fill("45")
    page.locator("button[value=review]").click()
    expect(page.locator("[data-confirm]")).to_have_text("您将把45分钟送给刘**（您的父母）。")
    assert_accessible(page)
    sent = {name: page.locator(f"input[name={name}]").first.get_attribute("value") or ""
            for name in ("csrf_token", "form_key", "recipient", "minutes")}
    page.locator("button[value=give]").click()
    expect(page.locator(".notice--ok")).to_contain_text("45分钟")
    expect(page.locator("[data-balance]")).to_have_attribute("data-balance", "75")
    assert (balance(web, volunteer_id), balance(web, web.ids["elder"])) == (mine - 45, theirs + 45)
    # the same confirmed form sent again (a double tap, a reload) gives nothing more
    again = page.request.post(web.at("/volunteer/give"), form={**sent, "action": "give"})
    assert again.ok
    assert (balance(web, volunteer_id), balance(web, web.ids["elder"])) == (mine - 45, theirs + 45)
    with web.world.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Gift).where(Gift.giver_id == volunteer_id)) == 1
    page.goto(web.at("/volunteer/credit"))
    expect(page.locator("tr[data-amount='-45']")).to_contain_text("送给亲属")
    expect(page.locator("tr[data-amount='120']")).to_contain_text("服务已核实")
    assert_accessible(page)
    screenshot(page, "volunteer-give-done")


def test_a_certificate_is_issued_and_downloads_as_a_pdf(web: WebWorld, new_page: Callable[..., Page]) -> None:
    volunteer_id, user = new_volunteer(web)
    add_record(web, volunteer_id, hour=8, minutes=150)
    page = new_page(viewport=PHONE)
    web.sign_in(page, user, then="/volunteer/certificates?lang=en")
    expect(page.locator("h1")).to_have_text("Certificates")
    assert_accessible(page)
    # a period without verified service is refused on the field
    page.locator("#field-start").fill("2001-01-01")
    page.locator("#field-end").fill("2001-12-31")
    page.locator("form.form button[type=submit]").click()
    expect(page.locator("#error-end")).to_contain_text("no verified service in this period")
    expect(page.locator("#field-start")).to_have_value("2001-01-01")
    page.locator("#field-start").fill((_yesterday() - timedelta(days=30)).isoformat())
    page.locator("#field-end").fill(_yesterday().isoformat())
    page.locator("form.form button[type=submit]").click()
    item = page.locator("[data-certificate]")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("2 hours 30 minutes")
    number = item.get_attribute("data-certificate") or ""
    href = page.locator("[data-download]").get_attribute("href") or ""
    pdf = page.request.get(web.at(href))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    assert_accessible(page)
    screenshot(page, "volunteer-certificate-en")
    page.get_by_role("link", name="Its public verification page").click()
    expect(page.locator("main")).to_contain_text(number)
    # another volunteer's certificate is not theirs to download
    other = new_page(viewport=PHONE)
    _, stranger = new_volunteer(web)
    web.sign_in(other, stranger)
    assert other.request.get(web.at(href)).status == 404


def test_the_volunteer_pages_are_for_volunteers_only(web: WebWorld, new_page: Callable[..., Page]) -> None:
    page = new_page(viewport=PHONE)
    page.goto(web.at("/volunteer/records"))
    assert "/sign-in?next=/volunteer/records" in page.url
    web.sign_in(page, "elder")
    response = page.goto(web.at("/volunteer"))
    assert response is not None and response.status == 403
