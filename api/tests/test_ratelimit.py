"""Per-key rate limits: 429 with Retry-After past the per-second or per-minute count."""

from unittest import mock

import pytest

from api.tests.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_per_second_limit(settings, token, other_token):
    settings.API_RATE_PER_SECOND = 3
    api = ApiClient(token)
    with mock.patch("api.ratelimit.time.time", return_value=1_000_000.25):
        codes = [api.get("/balance").status_code for _ in range(5)]
        refused = api.get("/balance")
        # Another key has its own count.
        assert ApiClient(other_token).get("/balance").status_code == 200
    assert codes == [200, 200, 200, 429, 429]
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert refused["Retry-After"] == "1"
    assert refused.json()["code"] == "rate_limited"
    with mock.patch("api.ratelimit.time.time", return_value=1_000_001.3):
        assert api.get("/balance").status_code == 200  # the next second


def test_per_minute_limit_says_how_long_to_wait(settings, token):
    settings.API_RATE_PER_MINUTE = 2
    api = ApiClient(token, **{"Accept-Language": "en"})
    with mock.patch("api.ratelimit.time.time", return_value=60 * 1000 + 15.5):
        assert [api.get("/balance").status_code for _ in range(2)] == [200, 200]
        refused = api.get("/balance")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "45"
    assert refused.json()["detail"] == (
        "Too many requests with this API key; try again in 45 seconds."
    )


def test_cache_outage_lets_requests_through(settings, token):
    settings.API_RATE_PER_SECOND = 1
    with mock.patch("api.ratelimit.cache.add", side_effect=ConnectionError("down")):
        assert ApiClient(token).get("/balance").status_code == 200


@pytest.mark.redis
def test_counts_in_redis_when_configured(settings, token):
    """With REDIS_URL the counters live in Redis (shared by every web process)."""
    from django.core.cache import caches

    settings.API_RATE_PER_SECOND = 1
    api = ApiClient(token)
    with mock.patch("api.ratelimit.time.time", return_value=2_000_000.1):
        assert api.get("/balance").status_code == 200
        assert api.get("/balance").status_code == 429
    assert "Redis" in type(caches["default"]).__name__
    assert any(b"api:rate:" in k for k in caches["default"].client.get_client().keys("*"))
