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
    """A page in a fresh context (zh-CN unless ``locale=`` says otherwise) that may only talk
    to the live server."""
    context = browser.new_context(**{"locale": "zh-CN", **VIEWPORTS[size], **context})
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


def login_as(page, live_server, user, *, language: str | None = None) -> None:
    """Give the page a logged-in session for ``user`` (for tests where login is not the point),
    and with ``language`` the language cookie too."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
    if language:
        cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page.context.add_cookies(
        [{"name": name, "value": value, "url": live_server.url} for name, value in cookies.items()]
    )


def logged_in_page(browser, live_server, user, size: str = "desktop", language: str = "zh-hans"):
    """A new page (``size`` of VIEWPORTS) already logged in as ``user``, in ``language``."""
    page = new_page(browser, live_server, size)
    login_as(page, live_server, user, language=language)
    return page


# -- driving an admin change list as a person does -------------------------------------------


def search_list(page, term: str, *, press_enter: bool = True) -> None:
    """Type into the list's search box, then press Enter (or click the 搜索 button)."""
    box = page.locator("#searchbar")
    box.fill(term)
    with page.expect_navigation():
        if press_enter:
            box.press("Enter")
        else:
            page.locator("#changelist-search-submit").click()


def choose_filter(page, label: str, option: str) -> None:
    """Pick ``option`` in the select filter labelled ``label`` (jazzmin's select2 widget)."""
    select_id = page.locator("label.core-filter-label", has_text=label).first.get_attribute("for")
    page.locator(f"#{select_id} + .select2 .select2-selection").click()
    page.locator(".select2-results__option", has_text=option).first.click()


def fill_range(page, label: str, low: str = "", high: str = "") -> None:
    """Type the two bounds of the range filter titled ``label`` (dates as YYYY-MM-DD)."""
    group = page.get_by_role("group", name=label)
    inputs = group.locator("input.core-range-input")
    inputs.nth(0).fill(low)
    inputs.nth(1).fill(high)


def click_preset(page, label: str, preset: str) -> None:
    """Click a quick date choice (今天, 最近 7 天, …) under the range filter ``label``."""
    with page.expect_navigation():
        page.get_by_role("group", name=label).get_by_role("link", name=preset).click()


def submit_filters(page) -> None:
    """Click the list's 搜索 button."""
    with page.expect_navigation():
        page.locator("#changelist-search-submit").click()


def list_rows(page) -> list[str]:
    """The text of each row of the result table."""
    return page.locator("#result_list tbody tr").all_inner_texts()


def next_page(page) -> None:
    """Follow the pagination's "next" link."""
    with page.expect_navigation():
        page.locator(".pagination .next a.page-link").click()


CONTRAST_JS = Path(__file__).resolve().parent / "tests" / "js" / "contrast.js"


def contrast_failures(page) -> list[dict]:
    """Text on the page below WCAG AA contrast (4.5:1; 3:1 when large), as the browser drew it."""
    return page.evaluate(CONTRAST_JS.read_text())
