"""The public page of each bank's ledger, `/ledger/<log_id>`, on a phone in either language: its
latest signed checkpoint as the API serves it, the verifier key to copy, the exact steps to check."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.web.webworld import PHONE, WebWorld, assert_accessible, screenshot

LOGS = ("haizhou", "lyg", "suqian")


def _api(page: Page, url: str) -> str:
    response = page.request.get(url)
    assert response.status == 200, url
    return response.text()


def test_each_bank_is_linked_from_the_overview_and_its_page_shows_the_signed_checkpoint(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    page = new_page(viewport=PHONE)
    page.goto(web.at("/"))
    for log_id in LOGS:
        expect(page.locator(f"#log-{log_id} a.bank-page-link")).to_have_attribute("href", f"/ledger/{log_id}")
    page.locator("#log-haizhou a.bank-page-link").click()
    page.wait_for_url("**/ledger/haizhou")
    expect(page.locator("h1")).to_contain_text("账本 haizhou")
    note = _api(page, web.at("/api/v1/ledger/logs/haizhou/checkpoint"))
    shown = page.locator("[data-checkpoint]").inner_text()
    assert shown.strip() == note.strip()
    size = note.split("\n")[1]
    expect(page.locator("[data-entries]")).to_have_attribute("data-entries", size)
    expect(page.locator("[data-entries]")).to_have_text(f"{size} 条")
    vkey = _api(page, web.at("/api/v1/ledger/logs/haizhou/vkey"))
    expect(page.locator("#vkey-haizhou")).to_have_text(vkey)
    steps = page.locator("ol.steps").inner_text()
    assert "GET /api/v1/ledger/logs/haizhou/checkpoint" in steps.replace("\u200b", "")
    assert "timebank ledger verify haizhou" in steps and vkey in steps
    expect(page.locator("#howto-title")).to_have_text("如何核验")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("window.innerWidth")
    assert_accessible(page)
    screenshot(page, "public-ledger-haizhou")


def test_the_bank_page_speaks_english_and_copies_the_key(web: WebWorld, new_page: Callable[..., Page]) -> None:
    page = new_page(viewport=PHONE, permissions=["clipboard-read", "clipboard-write"])
    page.goto(web.at("/ledger/suqian?lang=en"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_contain_text("Ledger suqian")
    expect(page.locator("#howto-title")).to_have_text("How to verify")
    expect(page.locator(".status")).to_have_attribute("data-state", "ok")
    page.get_by_role("button", name="Copy key").click()
    expect(page.locator(".copy-status")).to_have_text("Copied", timeout=5000)
    assert page.evaluate("navigator.clipboard.readText()") == _api(page, web.at("/api/v1/ledger/logs/suqian/vkey"))
    assert_accessible(page)
    screenshot(page, "public-ledger-suqian-en")


def test_an_unknown_bank_is_a_404_page(web: WebWorld, new_page: Callable[..., Page]) -> None:
    page = new_page(viewport=PHONE)
    for path in ("/ledger/nowhere", "/ledger/" + "x" * 300, "/ledger/%3Cscript%3E"):
        response = page.goto(web.at(path))
        assert response is not None and response.status == 404
        expect(page.locator("h1")).to_have_text("找不到页面")
