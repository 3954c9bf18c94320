"""Chinese by default, English on request; the language switch is in the navbar."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_chinese_by_default(portal_client, service):
    body = portal_client.get(reverse("portal:dashboard")).content.decode()
    assert '<html lang="zh-hans">' in body
    assert "余额" in body
    assert "待执行" in body
    assert 'action="/i18n/setlang/"' in body


def test_english_after_switching(portal_client):
    response = portal_client.post(
        "/i18n/setlang/", {"language": "en", "next": reverse("portal:dashboard")}
    )
    assert response["Location"] == reverse("portal:dashboard")
    body = portal_client.get(reverse("portal:dashboard")).content.decode()
    assert '<html lang="en">' in body
    assert "Balance" in body
    assert "Pending" in body


def test_login_page_in_both_languages(client):
    assert "短信验证码" in client.get(reverse("portal:login")).content.decode()
    client.cookies["django_language"] = "en"
    assert "SMS code" in client.get(reverse("portal:login")).content.decode()
