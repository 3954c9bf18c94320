"""Sessions live in the cache backed by the database (cached_db)."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches


@pytest.mark.redis
@pytest.mark.django_db
def test_a_session_survives_a_redis_flush(client):
    assert "django_redis" in settings.CACHES["sessions"]["BACKEND"]
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    assert client.get("/admin/").status_code == 200

    caches["sessions"].clear()  # FLUSHDB on the sessions' Redis database
    assert caches["sessions"].get(settings.SESSION_CACHE_ALIAS) is None

    response = client.get("/admin/")
    assert response.status_code == 200, "the session was lost with the cache"


@pytest.mark.django_db
def test_a_session_survives_a_cache_flush_on_any_cache(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    for alias in settings.CACHES:
        caches[alias].clear()
    assert client.get("/admin/").status_code == 200
