"""Confirming a service by its one-time code on a phone, without an account: the link's page, the
typed-in form, a wrong code refused inline and counted, "this is not right", rating and complaining,
and hostile text shown as text."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.api.apiworld import id_number
from tests.web.webworld import PHONE, WebWorld, assert_accessible, screenshot
from timebank import people, records_feedback
from timebank.records import RecordComplaint, ServiceRecord, opened
from timebank.records_submit import submit_record

HOSTILE = ("<script>alert(1)</script>", "x" * 5000, "abc\u202edef", "'; DROP TABLE x; --")
_hour = itertools.count(1)


def new_record(web: WebWorld, *, minutes: int = 30) -> tuple[str, str]:
    """A service record for the world's elder by a new volunteer (吴志愿), through the use case;
    returns (record id, the one-time code)."""
    world = web.world
    now = datetime.now(timezone.utc)
    with world.session() as s:
        birth = date(1980, 1, 2)
        volunteer = people.register_volunteer(s, world.sealer(), region_id=world.ids["community"], name="吴志愿",
                                              sex="M", birth_date=birth, id_number=id_number(birth),
                                              kind="community", phone="13812345678", at=now)
        ended = now - timedelta(minutes=5 + next(_hour))
        record, code = submit_record(s, world.writer(), world.sealer(), volunteer_id=volunteer.id,
                                     elder_id=world.ids["elder"], catalogue_code="MEAL",
                                     started_at=ended - timedelta(minutes=minutes), ended_at=ended,
                                     submitted_by=volunteer.id, at=now, place="朝阳社区3号楼", notes=None)
        s.commit()
        assert code is not None
        return record.id, code


def stored(web: WebWorld, record_id: str) -> ServiceRecord:
    with web.world.session() as s:
        record = s.get(ServiceRecord, record_id)
        assert record is not None
        s.expunge(record)
        return record


def _wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_the_elder_confirms_by_the_link_on_a_phone_and_rates_the_service(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    record_id, code = new_record(web, minutes=30)
    page = new_page(viewport=PHONE)
    page.goto(web.at(f"/confirm/{record_id}?code={code}"))
    card = page.locator(f"[data-record='{record_id}']")
    expect(card.locator("h2")).to_have_text("助餐")
    expect(card.locator("[data-minutes]")).to_have_text("30 分钟")
    expect(card).to_contain_text("吴**")
    expect(card).to_contain_text("朝阳社区3号楼")
    assert "吴志愿" not in page.content()
    assert_accessible(page)
    page.get_by_role("button", name="对，没错——确认").click()
    expect(page.locator("[data-confirmed]")).to_contain_text("已确认")
    record = stored(web, record_id)
    assert record.status == "confirmed" and record.confirmed_kind == "code" and record.confirmed_by == record.elder_id
    assert_accessible(page)

    page.locator("label[for=stars-5]").click()
    page.locator("#field-comment").fill("很好，谢谢小吴")
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("[data-outcome=rated]")).to_be_visible()
    record = stored(web, record_id)
    assert record.rating == 5 and record.rated_by == record.elder_id
    assert opened(web.world.sealer(), record)["comment"] == "很好，谢谢小吴"
    screenshot(page, "confirm-by-code-rated")
    # the same link again: confirmed already, nothing more to do, nothing changed
    page.goto(web.at(f"/confirm/{record_id}?code={code}"))
    expect(page.locator(".error-summary")).to_contain_text("已经确认过")
    assert stored(web, record_id).status == "confirmed"


def test_a_wrong_code_is_refused_inline_counted_and_reveals_nothing(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    record_id, code = new_record(web)
    page = new_page(viewport=PHONE)
    response = page.goto(web.at(f"/confirm/{record_id}?code={_wrong_code(code)}"))
    assert response is not None and response.status == 422
    expect(page.locator("#error-code")).to_contain_text("记录编号或确认码不对")
    expect(page.locator("#field-record")).to_have_value(record_id)
    html = page.content()
    assert "助餐" not in html and "朝阳社区3号楼" not in html and "吴**" not in html
    assert stored(web, record_id).confirm_attempts == 1
    assert_accessible(page)
    # an unknown record reads exactly the same
    unknown = page.goto(web.at(f"/confirm/rec_aaaaaaaaaaaaaaaa?code={code}"))
    assert unknown is not None and unknown.status == 422
    expect(page.locator("#error-code")).to_contain_text("记录编号或确认码不对")
    # confirming with a wrong code is counted too, and changes nothing else
    page.goto(web.at(f"/confirm/{record_id}?code={code}"))
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    posted = page.request.post(web.at(f"/confirm/{record_id}"), form={"csrf_token": token, "code": _wrong_code(code)})
    assert posted.status == 422 and "记录编号或确认码不对" in posted.text()
    record = stored(web, record_id)
    assert record.status == "submitted" and record.confirm_attempts == 2
    # after five wrong codes even the right one is refused: ask for a new code
    for _ in range(3):
        page.goto(web.at(f"/confirm/{record_id}?code={_wrong_code(code)}"))
    page.goto(web.at(f"/confirm/{record_id}?code={code}"))
    expect(page.locator(".error-summary")).to_contain_text("输错确认码的次数太多")
    assert stored(web, record_id).status == "submitted"
    screenshot(page, "confirm-wrong-code")


def test_a_code_read_out_is_typed_in_english_and_the_service_confirmed(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    record_id, code = new_record(web, minutes=45)
    page = new_page(viewport=PHONE)
    page.goto(web.at("/confirm?lang=en"))
    expect(page.locator("h1")).to_have_text("Confirm a service")
    assert_accessible(page)
    page.locator("#field-record").fill(record_id)
    page.locator("#field-code").fill("12")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#error-code")).to_contain_text("The code is 6 digits")
    expect(page.locator("#field-record")).to_have_value(record_id)
    page.locator("#field-code").fill(code)
    page.get_by_role("button", name="Next").click()
    expect(page.locator(f"[data-record='{record_id}'] [data-minutes]")).to_have_text("45 minutes")
    page.get_by_role("button", name="Yes, this is right — confirm").click()
    expect(page.locator("h1")).to_have_text("How was the service?")
    assert stored(web, record_id).status == "confirmed"
    screenshot(page, "confirm-typed-code-en")


def test_this_is_not_right_disputes_the_record_and_a_complaint_is_stored(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    record_id, code = new_record(web)
    page = new_page(viewport=PHONE)
    page.goto(web.at(f"/confirm/{record_id}?code={code}"))
    page.get_by_role("link", name="不对，有问题").click()
    page.get_by_role("button", name="提交：服务有问题").click()
    expect(page.locator("#error-reason")).to_contain_text("请填写这一项")
    assert_accessible(page)
    page.locator("#field-reason").fill("志愿者只来了十分钟")
    page.get_by_role("button", name="提交：服务有问题").click()
    expect(page.locator("[data-outcome=disputed]")).to_be_visible()
    assert stored(web, record_id).status == "disputed"

    page.goto(web.at(f"/confirm/{record_id}/complaint"))
    page.locator("#field-text").fill("态度不好")
    page.get_by_role("button", name="提交投诉").click()
    expect(page.locator("[data-outcome=complained]")).to_be_visible()
    with web.world.session() as s:
        complaints = s.scalars(sa.select(RecordComplaint).where(RecordComplaint.record_id == record_id)).all()
        record = s.get(ServiceRecord, record_id)
        assert record is not None
        assert [opened(web.world.sealer(), c)["text"] for c in complaints] == ["态度不好"]
        assert [c.by for c in complaints] == [record.elder_id]
    screenshot(page, "confirm-complaint")


def test_rating_and_complaining_need_the_code_first(web: WebWorld, new_page: Callable[..., Page]) -> None:
    record_id, _code = new_record(web)
    page = new_page(viewport=PHONE)
    for path in (f"/confirm/{record_id}/rate", f"/confirm/{record_id}/complaint"):
        response = page.goto(web.at(path))
        assert response is not None and response.status == 404
    assert stored(web, record_id).status == "submitted"


def test_hostile_text_in_the_comment_and_complaint_is_refused_or_shown_as_text(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    page = new_page(viewport=PHONE)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    kept: dict[str, tuple[str | None, list[str]]] = {}
    for text in HOSTILE:
        record_id, code = new_record(web)
        page.goto(web.at(f"/confirm/{record_id}?code={code}"))
        page.get_by_role("button", name="对，没错——确认").click()
        expect(page.locator("[data-confirmed]")).to_be_visible()
        token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
        rated = page.request.post(web.at(f"/confirm/{record_id}/rate"),
                                  form={"csrf_token": token, "stars": "3", "comment": text})
        complained = page.request.post(web.at(f"/confirm/{record_id}/complaint"),
                                       form={"csrf_token": token, "text": text})
        for response in (rated, complained):
            assert response.status < 500, (text[:20], response.status)
            assert "<script>alert(1)</script>" not in response.text()
            if response.status == 422:  # shown again with what is wrong, nothing typed lost
                assert 'class="field__error"' in response.text()
                assert text.replace("'", "&#39;")[:200] in response.text()
        with web.world.session() as s:
            record = s.get(ServiceRecord, record_id)
            assert record is not None
            complaints = s.scalars(sa.select(RecordComplaint).where(RecordComplaint.record_id == record_id)).all()
            kept[text] = (opened(web.world.sealer(), record)["comment"],
                          [opened(web.world.sealer(), c)["text"] or "" for c in complaints])
    # stored as typed: the script and the SQL; refused: too long (comment), direction marks
    assert kept[HOSTILE[0]] == (HOSTILE[0], [HOSTILE[0]])
    assert kept[HOSTILE[3]] == (HOSTILE[3], [HOSTILE[3]])
    assert kept[HOSTILE[1]] == (None, [])
    assert kept[HOSTILE[2]] == (None, [])
    assert records_feedback.COMPLAINT_LIMIT < 5000
    # a script typed in the browser is kept as text when the form comes back
    record_id, code = new_record(web)
    page.goto(web.at(f"/confirm/{record_id}?code={code}"))
    page.get_by_role("button", name="对，没错——确认").click()
    page.locator("#field-comment").fill(HOSTILE[0])
    page.get_by_role("button", name="提交评价").click()  # no stars chosen: shown again
    expect(page.locator("#error-stars")).to_be_visible()
    expect(page.locator("#field-comment")).to_have_value(HOSTILE[0])
    assert stored(web, record_id).rating is None
    assert not dialogs
    screenshot(page, "confirm-hostile")
