"""Browser-test helpers shared by every app's Playwright tests (fixture ``browser`` is in the
root conftest.py). Every page they open can reach the live test server only: any request to
another host (jazzmin's fonts, a CDN, anything) is aborted, so nothing leaves the machine.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "wide": {"viewport": {"width": 1440, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}


def require_chromium() -> None:
    """Skip when Debian's chromium is missing; with REQUIRE_BROWSER=1, fail instead."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")


def new_page(browser, live_server, size: str = "desktop", *, timeout_ms: int = 15_000, **context):
    """A page in a fresh zh-CN context that may only talk to the live server."""
    context = browser.new_context(locale="zh-CN", **VIEWPORTS[size], **context)
    live_host = urlsplit(live_server.url).netloc

    def only_the_live_server(route):
        if urlsplit(route.request.url).netloc == live_host:
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_the_live_server)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    return page


def admin_login(page, live_server, username: str, password: str) -> None:
    """Log in through the admin's (jazzmin's) login form and land on the index."""
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(f"{live_server.url}/admin/")


def screenshot(page, name: str) -> None:
    """Save a full-page PNG under the git-ignored artifacts/screenshots/.

    A long page (a 1,000-row import preview is ~40,000 px) takes chromium well over the usual
    action timeout to capture on a busy machine; a screenshot is an artifact, so it may wait.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, timeout=90_000)
