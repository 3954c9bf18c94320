"""The demo loader is idempotent and prints the credentials."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings


@pytest.mark.django_db
def test_load_demo_twice_changes_nothing_and_prints_credentials(capsys, settings):
    with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, "demo"]):
        call_command("load_demo")
        counts = {m.__name__: m.objects.count() for m in _models()}
        call_command("load_demo")
        assert counts == {m.__name__: m.objects.count() for m in _models()}
    out = capsys.readouterr().out
    assert "admin-demo-2026" in out
    assert get_user_model().objects.get(username="admin").is_superuser


def _models():
    from django.apps import apps

    return [
        m
        for m in apps.get_models()
        if m._meta.app_label in {"auth", "customers", "wallet", "orders"}
    ]
