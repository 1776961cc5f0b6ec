"""Signing in and out in a real browser; errors said in words, on the field, in either language;
the security headers every page carries."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.api.apiworld import PASSWORD
from tests.web.webworld import PHONE, WebWorld, assert_accessible, screenshot


def test_a_wrong_password_is_said_in_chinese_and_the_user_name_is_kept(web: WebWorld,
                                                                        new_page: Callable[..., Page]) -> None:
    page = new_page(viewport=PHONE)
    page.goto(web.at("/sign-in"))
    expect(page.locator("h1")).to_have_text("登录")
    page.locator("#field-username").fill(web.usernames["volunteer"])
    page.locator("#field-password").fill("not the password")
    page.locator("form.form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_contain_text("用户名或密码不对")
    expect(page.locator("#field-username")).to_have_value(web.usernames["volunteer"])
    expect(page.locator("#field-password")).to_have_value("")
    assert_accessible(page)


def test_an_empty_form_names_each_field_in_english(web: WebWorld, new_page: Callable[..., Page]) -> None:
    page = new_page()
    page.goto(web.at("/sign-in?lang=en"))
    page.locator("form.form button[type=submit]").click()
    expect(page.locator("#error-username")).to_contain_text("Please fill this in.")
    expect(page.locator("#error-password")).to_contain_text("Please enter your password.")
    expect(page.locator("#field-username")).to_have_attribute("aria-invalid", "true")
    # the choice of English is remembered on the next page
    page.goto(web.at("/sign-in"))
    expect(page.locator("h1")).to_have_text("Sign in")


def test_signing_in_goes_to_where_the_user_was_headed_and_signing_out_ends_it(
        web: WebWorld, new_page: Callable[..., Page]) -> None:
    page = new_page(viewport=PHONE)
    page.goto(web.at("/account"))
    assert "/sign-in?next=/account" in page.url
    web.sign_in(page, "school", then="/account")
    expect(page.locator("[data-role]")).to_have_attribute("data-role", "school")
    session_cookie = next(c for c in page.context.cookies() if c["name"] == "timebank_session")
    assert session_cookie["httpOnly"] and session_cookie["sameSite"] == "Lax"
    assert_accessible(page)
    screenshot(page, "account")
    page.get_by_role("button", name="退出登录").click()
    expect(page.locator(".notice--ok")).to_contain_text("您已退出登录")
    page.goto(web.at("/account"))
    assert "/sign-in" in page.url


def test_a_next_address_on_another_site_is_ignored(web: WebWorld, new_page: Callable[..., Page]) -> None:
    page = new_page()
    page.goto(web.at("/sign-in?next=//evil.example/x"))
    page.locator("#field-username").fill(web.usernames["school"])
    page.locator("#field-password").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.startswith(web.url)


def test_a_form_without_its_token_is_refused_and_nobody_is_signed_in(web: WebWorld) -> None:
    body = f"username={web.usernames['school']}&password=x".encode()
    request = urllib.request.Request(web.at("/sign-in"), data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    status, headers = _fetch(request)
    assert status == 400
    assert "text/html" in headers["Content-Type"]


def test_every_page_carries_the_security_headers(web: WebWorld) -> None:
    for path in ("/sign-in", "/", "/no-such-page"):
        _status, headers = _fetch(web.at(path))
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"


def _fetch(request: urllib.request.Request | str) -> tuple[int, dict[str, str]]:
    """Status and headers of a request, 4xx and 5xx included."""
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers)
