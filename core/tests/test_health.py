"""GET /healthz."""

import pytest
from django.test import override_settings

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        # A closed port on this machine: the connection is refused at once.
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    },
    "sessions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}


@pytest.mark.django_db
def test_healthz_is_200_and_names_each_dependency(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database:default"] == "ok"
    assert body["checks"]["cache:default"] == "ok"
    assert body["checks"]["cache:sessions"] == "ok"
    assert body["failing"] == []


@pytest.mark.django_db
def test_healthz_is_503_naming_the_cache_when_it_is_unreachable(client):
    with override_settings(CACHES=UNREACHABLE_REDIS):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["failing"] == ["cache:default"]
    assert body["checks"]["cache:default"].startswith("error:")
    assert body["checks"]["database:default"] == "ok"


@pytest.mark.django_db
def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405


PRODUCTION_STATIC = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.storage.StaticStorage"},
}


@pytest.mark.django_db
def test_healthz_is_503_before_collectstatic_and_200_after(tmp_path):
    """Production's static storage before collectstatic: every page fails, and healthz says so."""
    from django.core.management import call_command
    from django.test import Client

    client = Client(raise_request_exception=False)

    with override_settings(STORAGES=PRODUCTION_STATIC, STATIC_ROOT=tmp_path):
        page = client.get("/portal/login/")
        before = client.get("/healthz")
        call_command("collectstatic", interactive=False, verbosity=0)
        after = client.get("/healthz")
        page_after = client.get("/portal/login/")
    assert page.status_code == 500
    assert before.status_code == 503
    body = before.json()
    assert body["failing"] == ["page:admin:login", "page:portal:login", "static"]
    assert body["checks"]["static"] == (
        f"error: static manifest staticfiles.json missing from {tmp_path}: run collectstatic"
    )
    assert "could not be found" in body["checks"]["page:admin:login"]
    assert after.status_code == 200, after.json()
    assert page_after.status_code == 200


@pytest.mark.django_db
def test_healthz_names_the_pages_a_broken_template_setting_takes_down(client, settings):
    """A context processor that cannot be imported fails every page; the database is fine."""
    broken = [{**settings.TEMPLATES[0]}]
    broken[0]["OPTIONS"] = {
        **broken[0]["OPTIONS"],
        "context_processors": [*broken[0]["OPTIONS"]["context_processors"], "core.nowhere.x"],
    }
    with override_settings(TEMPLATES=broken):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["page:admin:login", "page:portal:login"]
    assert body["checks"]["page:portal:login"].startswith("error: ModuleNotFoundError")
    assert body["checks"]["static"] == "ok"


@pytest.mark.django_db
def test_healthz_pages_render_without_touching_the_session_store(client):
    from django.contrib.sessions.models import Session

    assert client.get("/healthz").status_code == 200
    assert not Session.objects.exists()


def test_deploy_check_names_the_missing_manifest(tmp_path):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    with override_settings(STORAGES=PRODUCTION_STATIC, STATIC_ROOT=tmp_path):
        call_command("check")  # the ordinary start-up checks pass: migrate runs first
        with pytest.raises(SystemCheckError, match=r"core\.E001.*run collectstatic"):
            call_command("check", deploy=True, fail_level="ERROR")


@pytest.mark.django_db
def test_healthz_static_is_ok_under_debug_without_a_manifest(client, tmp_path):
    """With DEBUG the manifest storage serves unhashed names: pages work, and healthz agrees."""
    with override_settings(STORAGES=PRODUCTION_STATIC, STATIC_ROOT=tmp_path, DEBUG=True):
        body = client.get("/healthz").json()
        page = client.get("/portal/login/")
    assert page.status_code == 200
    assert body["checks"]["static"] == "ok"
