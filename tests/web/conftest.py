"""Web fixtures: the real app served over HTTP on 127.0.0.1, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from api import pages
from api.app import create_app
from api.settings import Settings
from ledger.database import create_engine, leaves
from ledger.keys import Keyring
from ledger.writer import Writer
from tests.conftest import Databases, need_tool
from ledger_fill import load_demo
from tests.api import apiworld
from tests.web.webworld import WebWorld

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Route

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-gpu",
]
ORIGIN_HOST = "timebank.test"
PAGE_4XX = "Failed to load resource: the server responded with a status of 4"
NOW = datetime(2026, 11, 25, 9, 30, 0, tzinfo=timezone.utc)
DEMO_ENTRIES, DEMO_BATCH = 30, 5


@dataclass
class Site:
    """A served app: its base URL, its key folder, and the app itself."""

    url: str
    key_dir: Path
    app: Flask

    def origin_of(self, log_id: str) -> str:
        return f"{ORIGIN_HOST}/{log_id}"


@dataclass
class Guard:
    """Every URL the browser asked for (anything not on 127.0.0.1 is aborted and kept in `outside`),
    and every error the pages logged or threw (a CSP violation, say)."""

    seen: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _tamper(database_url: str, log_id: str, size: int) -> None:
    """Slip in a leaf that no signed checkpoint covers, as someone with database access might."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.insert(leaves).values(log_id=log_id, seq=size, data=b'{"type":"forged"}'))
    engine.dispose()


def _closed_before_sent(app: Flask) -> Callable[..., Iterable[bytes]]:
    """`app`, each response read whole and closed before the server writes it. werkzeug's test
    server skips closing a response (a static file left open, a ResourceWarning) when the browser
    drops the connection mid-page, as a test's next click does: its clean-up reads the socket first."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return wsgi


@contextmanager
def _serve(app: Flask) -> Iterator[str]:
    """Serve `app` on a free port of 127.0.0.1 in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, _closed_before_sent(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="web-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        app.extensions["timebank.engine"].dispose()


def _build(databases: Databases, tmp: Path, *, entries: int, batch: int, tamper: str | None) -> tuple[Flask, Path]:
    """A migrated database with the demo banks (none when `entries` is 0), and the app on it."""
    key_dir = tmp / "keys"
    settings = Settings(database_url=databases.new_url(), instance_path=tmp, key_dir=key_dir, secret_key="test")
    if entries:
        engine = create_engine(settings.database_url)
        with Session(engine) as session:
            load_demo(
                session, Writer(Keyring(key_dir)), origin_host=ORIGIN_HOST, now=NOW, entries_per_bank=entries, batch=batch
            )
            session.commit()
        engine.dispose()
    if tamper:
        _tamper(settings.database_url, tamper, entries)
    app = create_app(settings)
    if "pages" not in app.blueprints:  # until api/app.py registers it
        app.register_blueprint(pages.bp)
    return app, key_dir


SiteFactory = Callable[..., Site]


@pytest.fixture(scope="module")
def make_site(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiteFactory]:
    """Serve a new deployment: `make_site(entries=30, batch=5, tamper=None)`; all stop after the module."""
    with ExitStack() as servers:

        def make(*, entries: int = DEMO_ENTRIES, batch: int = DEMO_BATCH, tamper: str | None = None) -> Site:
            tmp = tmp_path_factory.mktemp("site")
            app, key_dir = _build(databases, tmp, entries=entries, batch=batch, tamper=tamper)
            return Site(servers.enter_context(_serve(app)), key_dir, app)

        yield make


@pytest.fixture(scope="module")
def demo_site(make_site: SiteFactory) -> Site:
    """The two demo banks, 30 entries each in batches of 5: 7 signed checkpoints a log."""
    return make_site()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, with its own background traffic turned off."""
    need_tool(CHROMIUM.exists(), f"{CHROMIUM} is needed for the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def guard() -> Guard:
    return Guard()


@pytest.fixture
def new_page(browser: Browser, guard: Guard) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh browser contexts (`new_page(viewport=..., locale=...)`, default locale
    zh-CN), every request routed through `guard`: only 127.0.0.1 is let through, and no page may
    log an error."""
    contexts: list[BrowserContext] = []

    def route(route: Route) -> None:
        url = route.request.url
        guard.seen.append(url)
        if urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            guard.outside.append(url)
            route.abort()

    def make(**options: object) -> Page:
        if "Accept-Language" not in options.get("extra_http_headers", {}):  # type: ignore[operator]
            options.setdefault("locale", "zh-CN")  # a Chinese reader's browser; Chromium's default is en-US
        context = browser.new_context(**options)  # type: ignore[arg-type]
        context.route("**/*", route)
        contexts.append(context)
        page = context.new_page()
        # A page answering 4xx (a form shown again with its errors, a 404 page) is expected and
        # checked by the tests; any other resource failing (a script, a stylesheet) is an error.
        page.on("console", lambda message: guard.errors.append(message.text)
                if message.type == "error" and not message.text.startswith(PAGE_4XX) else None)
        page.on("response", lambda response: guard.errors.append(f"{response.status} {response.url}")
                if response.status >= 400 and response.request.resource_type != "document" else None)
        page.on("pageerror", lambda error: guard.errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not guard.outside, f"requests left 127.0.0.1: {guard.outside}"
    assert not guard.errors, f"the pages logged errors: {guard.errors}"


@pytest.fixture(scope="module")
def web(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    """The API tests' network with a user for every role, served on 127.0.0.1 for the browser."""
    world = apiworld.build(databases.new_url(), tmp_path_factory.mktemp("web"))
    with _serve(world.app) as url:
        yield WebWorld(world, url)
