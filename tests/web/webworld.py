"""The web journeys' deployment: the API tests' small network (tests/api/apiworld.py, with a user
for every role) served over real HTTP on 127.0.0.1, and what the journeys do in Chromium: sign in,
check accessibility with axe-core, save a screenshot of the last step."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from axe_playwright_python.sync_playwright import Axe

from tests.api.apiworld import PASSWORD, ApiWorld

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Screenshots of each journey's last step (test artifacts; README's come from here).
SHOTS = Path(os.environ.get("TIMEBANK_SCREENSHOTS", Path(__file__).resolve().parents[2] / "build" / "screenshots"))
PHONE = {"width": 390, "height": 844}  # a common phone, in CSS pixels
SERIOUS = ("serious", "critical")
_axe = Axe()


class WebWorld:
    """An ApiWorld served at `url`."""

    def __init__(self, world: ApiWorld, url: str) -> None:
        self.world, self.url = world, url
        self.ids, self.usernames = world.ids, world.usernames

    def at(self, path: str) -> str:
        return self.url + path

    def sign_in(self, page: Page, name: str, *, then: str | None = None) -> None:
        """Sign `page` in through the sign-in form as the world's user `name` (e.g. "volunteer")."""
        page.goto(self.at("/sign-in" + (f"?next={then}" if then else "")))
        page.locator("#field-username").fill(self.usernames[name])
        page.locator("#field-password").fill(PASSWORD)
        page.locator("form.form button[type=submit]").click()
        page.wait_for_load_state()
        assert "/sign-in" not in page.url, page.locator("main").inner_text()


def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    results = _axe.run(page, options={"resultTypes": ["violations"],
                                      "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a",
                                                                              "wcag21aa", "best-practice"]}})
    bad = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    assert not bad, f"{page.url}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in bad)


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as build/screenshots/<name>.png (a test artifact)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
