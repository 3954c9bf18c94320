"""Project-wide pytest fixtures and the service markers (mariadb, redis, browser)."""

import os

import pytest
import sms
from django.conf import settings
from django.db import connection


def _require_services() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_sessionstart(session):
    """With REQUIRE_SERVICES=1, a missing or unreachable MariaDB/Redis fails the whole run."""
    if not _require_services():
        return
    problems = []
    if connection.vendor != "mysql":
        problems.append(f"DATABASE_URL is {connection.vendor}, not MySQL/MariaDB")
    if not settings.REDIS_URL:
        problems.append("REDIS_URL is unset")
    else:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            problems.append(f"Redis at {settings.REDIS_URL} is unreachable: {exc}")
    if problems:
        pytest.exit("REQUIRE_SERVICES=1 but " + "; ".join(problems), returncode=3)


def pytest_collection_modifyitems(config, items):
    """Skip tests whose server is not configured (REQUIRE_SERVICES=1 has checked they are)."""
    vendor = connection.vendor
    for item in items:
        if "mariadb" in item.keywords and vendor != "mysql":
            reason = f"needs MariaDB/MySQL (DATABASE_URL is {vendor})"
            item.add_marker(pytest.mark.skip(reason=reason))
        if "redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(pytest.mark.skip(reason="needs Redis (REDIS_URL unset)"))


@pytest.fixture(autouse=True)
def _reset_sms_outbox():
    """django-sms never empties sms.outbox between tests; start each test with an empty one."""
    sms.outbox = []
    yield
    sms.outbox = []


@pytest.fixture(autouse=True)
def _clear_caches():
    """Each test starts with empty caches (rate limits, wake-ups, sessions)."""
    from django.core.cache import caches

    for alias in settings.CACHES:
        caches[alias].clear()
    yield


@pytest.fixture
def browser(monkeypatch):
    """Debian's chromium driven by Playwright (skipped without it unless REQUIRE_BROWSER=1)."""
    from core.testing import CHROMIUM, CHROMIUM_ARGS, require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls a test makes
    # between page actions are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def roles(db):
    """The four staff groups (管理员, 财务, 客户经理, 客服) with their permissions."""
    from django.core.management import call_command

    call_command("sync_roles", verbosity=0)
