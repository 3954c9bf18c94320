"""Production static files: whitenoise's manifest storage serves jazzmin with DEBUG=False."""

import pytest
from django.core.management import call_command
from django.test import override_settings

PRODUCTION_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.storage.StaticStorage"},
}


@pytest.mark.django_db
def test_admin_login_renders_from_collected_manifest_static_files(client, tmp_path):
    """The known trap: jazzmin's {% static 'vendor/bootswatch' %} has no manifest entry."""
    with override_settings(
        STORAGES=PRODUCTION_STORAGES,
        STATIC_ROOT=tmp_path,
        DEBUG=False,
        WHITENOISE_AUTOREFRESH=False,
        WHITENOISE_USE_FINDERS=False,
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
        assert (tmp_path / "staticfiles.json").exists()
        response = client.get("/admin/login/")
    assert response.status_code == 200
    html = response.content.decode()
    # Hashed names prove the manifest is in use, not the raw paths.
    assert "/static/vendor/adminlte/css/adminlte.min." in html
    assert "adminlte.min.css" not in html
