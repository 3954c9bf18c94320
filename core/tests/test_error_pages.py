"""Branded error pages: the area's look, the user's language, a way back, never a DEBUG hint."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.utils import translation

from core import error_views
from core.testing import new_page, screenshot

User = get_user_model()

BARE_DJANGO = ("DEBUG", "Django", "CSRF verification failed", "Forbidden (403)")


def _assert_branded(html: str) -> None:
    assert "订单平台" in html
    for marker in BARE_DJANGO:
        assert marker not in html, marker


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "title", "home"),
    [
        ("zh-hans", "页面没有找到", "返回客户门户首页"),
        ("en", "Page not found", "Back to the portal home"),
    ],
)
def test_a_missing_portal_page_is_the_portals_404(client, language, title, home):
    response = client.get("/portal/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    html = response.content.decode()
    _assert_branded(html)
    assert title in html and home in html
    assert 'href="/portal/"' in html
    assert "portal/portal.css" in html  # the portal's own look


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "title", "home"),
    [
        ("zh-hans", "页面没有找到", "返回管理后台首页"),
        ("en", "Page not found", "Back to the admin home"),
    ],
)
def test_a_missing_admin_page_is_the_admins_404(client, language, title, home):
    client.force_login(User.objects.create_user("root", is_staff=True, is_superuser=True))
    response = client.get("/admin/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    html = response.content.decode()
    _assert_branded(html)
    assert title in html and home in html and 'href="/admin/"' in html


@pytest.mark.django_db
def test_a_refused_post_is_the_branded_csrf_page():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/portal/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    html = response.content.decode()
    _assert_branded(html)
    assert "表单已过期" in html
    response = client.post("/admin/login/", {"username": "x"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


@pytest.mark.django_db
def test_a_page_back_to_where_the_user_came_from_only_on_this_site(client):
    came_from = "http://testserver/portal/orders/"
    html = client.get("/portal/nope/", HTTP_REFERER=came_from).content.decode()
    assert f'href="{came_from}"' in html and "返回上一页" in html
    html = client.get("/portal/nope/", HTTP_REFERER="https://evil.example/").content.decode()
    assert "evil.example" not in html and "返回上一页" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("view", "status", "title"),
    [
        (error_views.bad_request, 400, "请求有误"),
        (error_views.permission_denied, 403, "没有权限"),
        (error_views.server_error, 500, "服务器错误"),
    ],
)
def test_400_403_and_500_are_branded_in_each_area(view, status, title, django_assert_num_queries):
    for path in ("/admin/x/", "/portal/x/", "/elsewhere/"):
        request = RequestFactory().get(path)
        with translation.override("zh-hans"), django_assert_num_queries(0):
            response = view(request) if view is error_views.server_error else view(request, None)
        assert response.status_code == status
        html = response.content.decode()
        _assert_branded(html)
        assert title in html


def test_the_area_is_chosen_by_the_first_path_segment_only():
    assert error_views.error_templates("/portal/a/b") == [
        "errors/portal.html",
        "errors/default.html",
    ]
    assert error_views.error_templates("/admin/") == ["errors/admin.html", "errors/default.html"]
    assert error_views.error_templates("/../etc/") == ["errors/default.html"]
    assert error_views.error_templates("/") == ["errors/default.html"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("locale", "not_found", "expired"),
    [("zh-CN", "页面没有找到", "表单已过期"), ("en-US", "Page not found", "This form has expired")],
)
def test_a_person_meets_the_branded_404_and_csrf_pages(
    browser, live_server, locale, not_found, expired
):
    page = new_page(browser, live_server, locale=locale)
    response = page.goto(f"{live_server.url}/portal/orders/nope/nope/")
    assert response.status == 404
    assert not_found in page.locator("h1").inner_text()
    screenshot(page, f"error-404-portal-{locale}")
    page.locator("#error-home").click()
    page.wait_for_load_state()
    assert "/portal/login/" in page.url  # the way back (home asks an anonymous visitor to log in)

    # The CSRF cookie is gone (cleared, expired) when the person sends the login form.
    for area, login in (("portal", "identifier"), ("admin", "username")):
        page.goto(f"{live_server.url}/{area}/login/")
        page.context.clear_cookies()
        page.locator(f"input[name={login}]").first.fill("someone")
        page.locator("input[name=password]").first.fill("secret")
        with page.expect_navigation():
            page.locator("form button[type=submit]").first.click()
        assert expired in page.locator("h1").inner_text()
        assert "DEBUG" not in page.content()
        screenshot(page, f"error-csrf-{area}-{locale}")


@pytest.mark.django_db
def test_an_error_page_that_cannot_be_drawn_still_answers_with_its_status_and_words(tmp_path):
    """Before collectstatic every {% static %} fails: a 404 stays a 404, in the user's words."""
    from django.test import override_settings

    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "config.storage.StaticStorage"},
    }
    with override_settings(STORAGES=storages, STATIC_ROOT=tmp_path):
        response = Client(raise_request_exception=False).get("/portal/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面没有找到" in html
    for marker in BARE_DJANGO:
        assert marker not in html, marker
