"""Project-wide pytest fixtures and the service markers (mariadb, redis, browser, replica)."""

import os

import pytest
import sms
from django.conf import settings
from django.db import connection


def _require_services() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def _replica_tests() -> bool:
    """REPLICA_TESTS=1: DATABASE_REPLICA_URL is a real replica of DATABASE_URL (cluster.sh)."""
    return os.environ.get("REPLICA_TESTS") == "1"


# REQUIRE_DATABASE names the database a REQUIRE_SERVICES=1 run must be on (default mysql).
REQUIRED_VENDORS = {"mysql": "mysql", "mariadb": "mysql", "postgresql": "postgresql"}
CONCURRENT_VENDORS = {"mysql", "postgresql"}  # real servers with row locks, SKIP LOCKED, CHECKs


def pytest_sessionstart(session):
    """With REQUIRE_SERVICES=1, a missing or unreachable database/Redis fails the whole run."""
    if not _require_services():
        return
    problems = []
    wanted = os.environ.get("REQUIRE_DATABASE", "mysql").lower()
    vendor = REQUIRED_VENDORS.get(wanted)
    if vendor is None:
        problems.append(f"REQUIRE_DATABASE={wanted} is not one of {sorted(REQUIRED_VENDORS)}")
    elif connection.vendor != vendor:
        problems.append(f"DATABASE_URL is {connection.vendor}, not {wanted}")
    if not settings.REDIS_URL:
        problems.append("REDIS_URL is unset")
    else:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            problems.append(f"Redis at {settings.REDIS_URL} is unreachable: {exc}")
    if _replica_tests() and "replica" not in settings.DATABASES:
        problems.append("REPLICA_TESTS=1 but DATABASE_REPLICA_URL is unset")
    if problems:
        pytest.exit("REQUIRE_SERVICES=1 but " + "; ".join(problems), returncode=3)


def pytest_collection_modifyitems(config, items):
    """Skip tests whose server is not configured (REQUIRE_SERVICES=1 has checked they are)."""
    vendor = connection.vendor
    for item in items:
        if "mariadb" in item.keywords and vendor != "mysql":
            reason = f"needs MariaDB/MySQL (DATABASE_URL is {vendor})"
            item.add_marker(pytest.mark.skip(reason=reason))
        if "concurrent_db" in item.keywords and vendor not in CONCURRENT_VENDORS:
            reason = f"needs MariaDB/MySQL or PostgreSQL (DATABASE_URL is {vendor})"
            item.add_marker(pytest.mark.skip(reason=reason))
        if "redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(pytest.mark.skip(reason="needs Redis (REDIS_URL unset)"))
        if "replica" in item.keywords and not (
            _replica_tests() and "replica" in settings.DATABASES and vendor == "mysql"
        ):
            reason = "needs a real MariaDB replica (deploy/local/cluster.sh up, REPLICA_TESTS=1)"
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """On the replica leg, point the ``replica`` alias at the real replica once set up.

    The replica's TEST MIRROR keeps Django from creating a test database on it (a read_only
    server that must only replicate). The test database is created on the primary and reaches
    the replica through the binary log, under the same name; from here on the alias reads it
    there, over its own connection, with its own lag.
    """
    if _replica_tests() and "replica" in settings.DATABASES:
        from django.db import connections

        with django_db_blocker.unblock():
            test_name = connections["default"].settings_dict["NAME"]
            replica = connections["replica"]
            replica.close()
            replica.settings_dict = {**settings.DATABASES["replica"], "NAME": test_name}
    yield


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
