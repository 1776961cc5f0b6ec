"""/api/v1 served for real: gunicorn with two worker processes on a loopback port, spoken to over
HTTP with a cookie jar, as a browser or a school's system would."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from apiworld import NOW, PASSWORD, build
from gunicorn_served import Http, gunicorn


@pytest.fixture(scope="module")
def served(databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    root = tmp_path_factory.mktemp("gunicorn")
    url = databases.new_url()
    world = build(url, root)
    world.app.extensions["timebank.engine"].dispose()
    with gunicorn(url, root) as base:
        yield base, world


def test_a_browser_signs_in_and_its_session_holds_on_both_workers(served: tuple[str, Any]) -> None:
    base, world = served
    browser = Http(base)
    status, headers, body = browser.call("POST", "/api/v1/auth/sign-in",
                                         {"username": world.usernames["coordinator"], "password": PASSWORD})
    assert status == 200 and body["user"]["role"] == "coordinator"
    assert "HttpOnly" in headers["Set-Cookie"]
    for _ in range(8):  # two workers share nothing but the database and the signed cookie
        status, _, again = browser.call("GET", "/api/v1/auth/session")
        assert status == 200 and again["user"]["username"] == world.usernames["coordinator"]


def test_a_school_system_uses_a_bearer_token_and_a_revoked_token_stops_working(served: tuple[str, Any]) -> None:
    base, world = served
    browser = Http(base)
    _, _, signed = browser.call("POST", "/api/v1/auth/sign-in",
                                {"username": world.usernames["school"], "password": PASSWORD})
    csrf = {"X-CSRF-Token": signed["csrf_token"]}
    status, _, made = browser.call("POST", "/api/v1/auth/tokens", {
        "name": "教务系统", "scopes": ["read"], "expires_at": (NOW + timedelta(days=30)).isoformat()}, csrf)
    assert status == 201
    system = Http(base)
    bearer = {"Authorization": f"Bearer {made['token']}"}
    assert system.call("GET", "/api/v1/auth/session", headers=bearer)[2]["user"]["role"] == "school"
    assert browser.call("DELETE", f"/api/v1/auth/tokens/{made['id']}", headers=csrf)[0] == 204
    status, headers, body = system.call("GET", "/api/v1/auth/session", headers=bearer)
    assert status == 401 and body["code"] == "unauthenticated" and "Bearer" in headers["WWW-Authenticate"]


def test_a_retried_post_with_the_same_idempotency_key_gets_the_same_answer_once(served: tuple[str, Any]) -> None:
    base, world = served
    browser = Http(base)
    _, _, signed = browser.call("POST", "/api/v1/auth/sign-in",
                                {"username": world.usernames["auditor"], "password": PASSWORD})
    headers = {"X-CSRF-Token": signed["csrf_token"], "Idempotency-Key": "token-once-7f3a"}
    body = {"name": "ci", "scopes": ["read"], "expires_at": (NOW + timedelta(days=3)).isoformat()}
    first = browser.call("POST", "/api/v1/auth/tokens", body, headers)
    second = browser.call("POST", "/api/v1/auth/tokens", body, headers)
    assert first[0] == second[0] == 201 and first[2] == second[2]
    assert second[1]["Idempotent-Replayed"] == "true"
    assert len(browser.call("GET", "/api/v1/auth/tokens")[2]) == 1
    other = browser.call("POST", "/api/v1/auth/tokens", {**body, "name": "another"}, headers)
    assert other[0] == 409 and "Idempotency-Key" in other[2]["message"]


def test_the_openapi_document_and_its_page_are_served(served: tuple[str, Any]) -> None:
    base, _ = served
    status, _, document = Http(base).call("GET", "/api/v1/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.") and "/api/v1/auth/sign-in" in document["paths"]
    with urllib.request.urlopen(base + "/api/v1/docs/", timeout=10) as page:
        html = page.read().decode()
        assert "swagger-ui" in html and "script-src 'self'" in page.headers["Content-Security-Policy"]
