"""The public ledger overview at `/`, over real HTTP in a real browser."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from ledger.keys import key_path, load_key
from ledger_fill import BANKS

from .conftest import DEMO_BATCH, DEMO_ENTRIES, Guard, Site, SiteFactory

if TYPE_CHECKING:  # playwright itself is imported by the browser fixture, which skips without Chromium
    from playwright.sync_api import Page

NewPage = Callable[..., "Page"]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
LOG_IDS = [log_id for log_id, _name in BANKS]


def _open(new_page: NewPage, url: str, **options: object) -> Page:
    page = new_page(**options)
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    return page


def _api(page: Page, url: str) -> str:
    response = page.request.get(url)
    assert response.status == 200, url
    return response.text()


@pytest.mark.parametrize("log_id", LOG_IDS)
def test_each_demo_bank_shows_its_entry_count_and_published_verifier_key(
    demo_site: Site, new_page: NewPage, log_id: str
) -> None:
    page = _open(new_page, demo_site.url + "/")
    bank = page.locator(f"#log-{log_id}")
    assert bank.locator("h2").inner_text().endswith(log_id)
    entries = bank.locator("[data-entries]")
    assert entries.get_attribute("data-entries") == str(DEMO_ENTRIES)
    assert entries.inner_text().strip() == f"{DEMO_ENTRIES} 条"
    assert demo_site.origin_of(log_id) in bank.inner_text()

    expected = load_key(key_path(demo_site.key_dir, log_id), demo_site.origin_of(log_id)).vkey
    assert bank.locator(f"#vkey-{log_id}").inner_text().strip() == expected
    # The links lead to the raw API, which agrees with the page.
    vkey_link = bank.get_by_role("link", name="核验公钥")
    assert _api(page, demo_site.url + vkey_link.get_attribute("href")) == expected  # type: ignore[operator]
    checkpoint_link = bank.get_by_role("link", name="最新检查点")
    note = _api(page, demo_site.url + checkpoint_link.get_attribute("href"))  # type: ignore[operator]
    assert note.split("\n")[:2] == [demo_site.origin_of(log_id), str(DEMO_ENTRIES)]
    assert bank.locator("time").get_attribute("datetime") == "2026-08-31T21:30:00Z"
    assert "2026年8月31日 21:30（UTC）" in bank.locator("time").inner_text()


@pytest.mark.parametrize("log_id", LOG_IDS)
def test_the_growth_chart_draws_one_point_per_signed_checkpoint(
    demo_site: Site, new_page: NewPage, log_id: str
) -> None:
    page = _open(new_page, demo_site.url + "/")
    chart = page.locator(f"#log-{log_id} svg.chart")
    assert chart.get_attribute("role") == "img"
    assert log_id in chart.locator("title").first.text_content()  # type: ignore[operator]
    assert "7 个已签名检查点" in chart.locator("desc").text_content()  # type: ignore[operator]
    texts = chart.locator("text").all_text_contents()
    assert "条目数" in texts and "签名时间（UTC）" in texts

    signed = json.loads(_api(page, f"{demo_site.url}/api/v1/ledger/logs/{log_id}/checkpoints?limit=200"))
    assert len(signed) == DEMO_ENTRIES // DEMO_BATCH + 1  # the empty checkpoint and one a batch
    points = chart.locator("circle.chart__point")
    assert points.count() == len(signed)
    assert [int(p.get_attribute("data-size")) for p in points.all()] == sorted(cp["size"] for cp in signed)  # type: ignore[arg-type]
    # Sizes grow left to right and upwards (SVG y grows downwards).
    xs = [float(p.get_attribute("cx")) for p in points.all()]  # type: ignore[arg-type]
    ys = [float(p.get_attribute("cy")) for p in points.all()]  # type: ignore[arg-type]
    assert xs == sorted(xs) and ys == sorted(ys, reverse=True)
    box = chart.bounding_box()
    assert box is not None and box["width"] > 250 and box["height"] > 150


def test_the_chart_shows_at_most_the_200_newest_checkpoints(make_site: SiteFactory, new_page: NewPage) -> None:
    site = make_site(entries=205, batch=1)
    page = _open(new_page, site.url + "/?lang=en")
    points = page.locator(f"#log-{LOG_IDS[0]} circle.chart__point")
    assert points.count() == 200
    assert [int(p.get_attribute("data-size")) for p in points.all()] == list(range(6, 206))  # type: ignore[arg-type]
    assert "The last 200 signed checkpoints" in page.locator(f"#log-{LOG_IDS[0]} figcaption").inner_text()


def test_the_page_is_in_chinese_by_default(demo_site: Site, new_page: NewPage) -> None:
    page = _open(new_page, demo_site.url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "公开账本"
    assert page.locator("#howto-title").inner_text() == "如何核验"
    assert page.locator("ol.steps > li").count() == 4
    steps = page.locator("ol.steps").inner_text()
    assert "timebank ledger verify" in steps and f"/api/v1/ledger/logs/{LOG_IDS[0]}/checkpoint" in steps
    for state in page.locator(".status").all():
        assert state.get_attribute("data-state") == "ok" and "正常" in state.inner_text()

    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="中文").click()
    page.wait_for_url("**/?lang=zh-CN")
    assert page.locator("h1").inner_text() == "公开账本"


def test_the_page_is_in_english_with_lang_en(demo_site: Site, new_page: NewPage) -> None:
    page = _open(new_page, demo_site.url + "/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Public ledger"
    assert page.locator("#howto-title").inner_text() == "How to verify"
    assert page.locator(f"#log-{LOG_IDS[0]} [data-entries]").inner_text().strip() == f"{DEMO_ENTRIES} entries"
    assert "31 Aug 2026, 21:30 UTC" in page.locator(f"#log-{LOG_IDS[0]} time").inner_text()
    assert "Entries" in page.locator(f"#log-{LOG_IDS[0]} svg.chart text").all_text_contents()
    assert page.get_by_role("link", name="中文").get_attribute("hreflang") == "zh-CN"


def test_without_accept_language_the_page_is_chinese(demo_site: Site) -> None:
    with urllib.request.urlopen(demo_site.url + "/") as response:  # sends no Accept-Language
        html = response.read().decode()
        assert response.headers["Content-Language"] == "zh-CN"
        assert "Accept-Language" in response.headers["Vary"]
    assert '<html lang="zh-CN">' in html and "<h1>公开账本</h1>" in html


@pytest.mark.parametrize(
    ("accept", "lang", "heading"),
    [
        ("en-US,en;q=0.9", "en", "Public ledger"),
        ("en-GB,zh-CN;q=0.8", "en", "Public ledger"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN", "公开账本"),
        ("fr-FR,fr;q=0.9", "zh-CN", "公开账本"),
    ],
)
def test_accept_language_chooses_english_only_when_it_is_preferred(
    demo_site: Site, new_page: NewPage, accept: str, lang: str, heading: str
) -> None:
    page = _open(new_page, demo_site.url + "/", extra_http_headers={"Accept-Language": accept})
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("h1").inner_text() == heading
    # An explicit choice wins over the header.
    page.goto(demo_site.url + "/?lang=zh-CN")
    assert page.locator("html").get_attribute("lang") == "zh-CN"


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_phone_screen_needs_no_sideways_scrolling_and_the_type_is_large(
    demo_site: Site, new_page: NewPage, lang: str
) -> None:
    page = _open(new_page, f"{demo_site.url}/?lang={lang}", viewport=PHONE)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("window.innerWidth")
    assert float(page.evaluate("getComputedStyle(document.body).fontSize").removesuffix("px")) >= 20
    # Nothing sticks out past the right edge, not even inside a card.
    overflow = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)"
        ".map(e => e.tagName + '.' + e.className)"
    )
    assert overflow == []
    page.screenshot(path=f"/tmp/timebank-phone-{lang}.png", full_page=True)


def test_the_desktop_page_renders_cleanly(demo_site: Site, new_page: NewPage) -> None:
    page = _open(new_page, demo_site.url + "/", viewport=DESKTOP)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("window.innerWidth")
    page.screenshot(path="/tmp/timebank-desktop.png", full_page=True)


def test_no_request_leaves_the_local_server(demo_site: Site, new_page: NewPage, guard: Guard) -> None:
    page = _open(new_page, demo_site.url + "/")
    page.get_by_role("button", name="复制公钥").first.click()
    page.wait_for_load_state("networkidle")
    assert guard.outside == []
    assert guard.seen and all(url.startswith("http://127.0.0.1:") for url in guard.seen)
    paths = {url.removeprefix(demo_site.url) for url in guard.seen}
    assert {"/", "/static/site.css", "/static/site.js"} <= paths
    # The stylesheet and script really load: the page is styled and the copy buttons are shown.
    assert page.evaluate("getComputedStyle(document.querySelector('.card')).borderRadius") != "0px"
    assert page.locator("button.copy-button:visible").count() == len(LOG_IDS)


def test_the_copy_button_copies_the_verifier_key(demo_site: Site, new_page: NewPage) -> None:
    page = _open(new_page, demo_site.url + "/", permissions=["clipboard-read", "clipboard-write"])
    log_id = LOG_IDS[1]
    page.locator(f"#log-{log_id} button.copy-button").click()
    # The clipboard write is asynchronous: wait (up to 5 s) for the page to say it is done.
    expect(page.locator(f"#log-{log_id} .copy-status")).to_have_text("已复制", timeout=5000)
    expected = load_key(key_path(demo_site.key_dir, log_id), demo_site.origin_of(log_id)).vkey
    assert page.evaluate("navigator.clipboard.readText()") == expected


def test_an_empty_deployment_says_how_to_create_a_ledger(make_site: SiteFactory, new_page: NewPage) -> None:
    site = make_site(entries=0)
    page = _open(new_page, site.url + "/")
    empty = page.locator("section.empty")
    assert empty.locator("h2").inner_text() == "还没有账本"
    assert "timebank ledger create" in empty.inner_text() and "timebank demo load" in empty.inner_text()
    assert page.locator("section.bank").count() == 0 and page.locator("svg.chart").count() == 0
    english = _open(new_page, site.url + "/?lang=en")
    assert english.locator("section.empty h2").inner_text() == "No ledgers yet"


def test_a_tampered_log_shows_that_it_refuses_writes(make_site: SiteFactory, new_page: NewPage) -> None:
    tampered, intact = LOG_IDS[1], LOG_IDS[0]
    site = make_site(tamper=tampered)
    assert tampered in site.app.extensions["timebank.writer"].frozen
    page = _open(new_page, site.url + "/")
    refused = page.locator(f"#log-{tampered} .status")
    assert refused.get_attribute("data-state") == "refused"
    assert "已停止写入" in refused.inner_text()
    assert page.locator(f"#log-{intact} .status").get_attribute("data-state") == "ok"
    # What was signed is still shown: the size of the last checkpoint, not the forged leaf.
    assert page.locator(f"#log-{tampered} [data-entries]").get_attribute("data-entries") == str(DEMO_ENTRIES)
    assert refused.get_by_role("link").get_attribute("href") == "/healthz"
    english = _open(new_page, site.url + "/?lang=en")
    assert "Refused writes" in english.locator(f"#log-{tampered} .status").inner_text()


def test_the_page_shows_no_personal_data_or_demo_record_ids(demo_site: Site, new_page: NewPage) -> None:
    page = _open(new_page, demo_site.url + "/")
    html = page.content()
    for opaque in ("vol-", "eld-", "rec-", "PRIVATE+KEY"):
        assert opaque not in html
    key_text = Path(key_path(demo_site.key_dir, LOG_IDS[0])).read_text().strip()
    assert key_text not in html
