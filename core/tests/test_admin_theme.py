"""The admin login page is jazzmin-themed, Chinese by default, English when asked."""

import pytest


@pytest.mark.django_db
def test_admin_login_renders_with_jazzmin_in_chinese(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "jazzmin" in html  # jazzmin's static assets
    assert "订单平台" in html
    assert "登录" in html  # Django's own "Log in", translated
    assert 'lang="zh-hans"' in html


@pytest.mark.django_db
def test_admin_login_in_english_when_asked(client):
    response = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Log in" in html
    assert 'lang="en"' in html


@pytest.mark.django_db
def test_language_switch_posts_to_set_language(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/admin/login/"})
    assert response.status_code == 302
    assert client.get("/admin/login/").content.decode().count("Log in") >= 1
