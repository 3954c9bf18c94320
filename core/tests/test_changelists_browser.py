"""The users, groups and login-security (axes) lists in Debian's chromium, used with the page's
own controls; the axes tables are the superuser's alone. (The business apps' lists are tested
in each app's ``tests/test_changelist_browser.py``.)"""

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission
from django.utils import timezone, translation

from core.testing import (
    choose_filter,
    list_rows,
    login_as,
    new_page,
    next_page,
    screenshot,
    search_list,
    submit_filters,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

User = get_user_model()


def _first_words(page) -> set[str]:
    return {row.split()[0] for row in list_rows(page) if row.strip()}


@pytest.fixture
def root(db):
    return User.objects.create_user("root", is_staff=True, is_superuser=True)


def test_the_user_list_searches_filters_and_pages(browser, live_server, root, monkeypatch):
    monkeypatch.setattr(UserAdmin, "list_per_page", 1)
    desk = Group.objects.create(name="前台")
    for name, staff in (("zhao1", True), ("zhao2", True), ("zhao3", False), ("qian", True)):
        user = User.objects.create_user(name, is_staff=staff)
        if name != "zhao2":
            user.groups.add(desk)
    page = new_page(browser, live_server)
    login_as(page, live_server, root)
    page.goto(f"{live_server.url}/admin/auth/user/")
    assert page.evaluate("document.querySelector('#searchbar').form.id") == "changelist-search"
    screenshot(page, "core-users")

    search_list(page, "zhao")
    with translation.override("zh-hans"):
        staff = str(User._meta.get_field("is_staff").verbose_name)
        groups = str(User._meta.get_field("groups").verbose_name)
    choose_filter(page, staff, "是")
    choose_filter(page, groups, "前台")
    submit_filters(page)
    assert _first_words(page) == {"zhao1"}
    for part in ("q=zhao", "is_staff__exact=1", "groups__id__exact="):
        assert part in page.url, (part, page.url)

    page.goto(f"{live_server.url}/admin/auth/user/")
    search_list(page, "zhao", press_enter=False)
    shown = _first_words(page)
    for _ in range(2):
        next_page(page)
        assert "q=zhao" in page.url
        shown |= _first_words(page)
    assert shown == {"zhao1", "zhao2", "zhao3"}


def test_the_group_list_searches_and_pages(browser, live_server, root, monkeypatch):
    monkeypatch.setattr(GroupAdmin, "list_per_page", 1)
    for name in ("销售一组", "销售二组", "仓库"):
        Group.objects.create(name=name)
    page = new_page(browser, live_server)
    login_as(page, live_server, root)
    page.goto(f"{live_server.url}/admin/auth/group/")
    # The words AdminLTE's script writes in English are in Chinese too (core/static/core/admin.js).
    page.wait_for_function("document.querySelector('a.skip-link')?.textContent === '跳到主要内容'")
    assert page.locator('a[title="选择语言"]').count() == 1
    search_list(page, "销售")
    first = _first_words(page)
    next_page(page)
    assert "q=" in page.url
    assert first | _first_words(page) == {"销售一组", "销售二组"}
    screenshot(page, "core-groups")


def test_login_security_lists_are_the_superusers_alone(browser, live_server, root, roles):
    now = timezone.now()
    for n, ip in enumerate(["10.0.0.1", "10.0.0.2"]):
        AccessAttempt.objects.create(
            username=f"guess{n}",
            ip_address=ip,
            user_agent="ua",
            attempt_time=now,
            get_data="",
            post_data="",
            failures_since_start=3,
            path_info="/admin/login/",
        )
        AccessLog.objects.create(
            username=f"guess{n}",
            ip_address=ip,
            user_agent="ua",
            attempt_time=now,
            path_info="/admin/login/",
        )
    page = new_page(browser, live_server)
    login_as(page, live_server, root)
    page.goto(f"{live_server.url}/admin/")
    menu = page.locator("#jazzy-sidebar").inner_text()
    assert "登录安全" in menu and "登录尝试" in menu and "Axes" not in menu
    page.get_by_role("link", name="登录尝试").first.click()
    page.wait_for_load_state()
    search_list(page, "guess1")
    assert len(list_rows(page)) == 1 and "10.0.0.2" in list_rows(page)[0]
    screenshot(page, "core-axes-attempts")

    # An administrator (every business permission), even given axes' own permissions, sees none.
    boss = User.objects.create_user("boss", is_staff=True)
    boss.groups.add(Group.objects.get(name="管理员"))
    boss.user_permissions.add(*Permission.objects.filter(content_type__app_label="axes"))
    page = new_page(browser, live_server)
    login_as(page, live_server, boss)
    page.goto(f"{live_server.url}/admin/")
    assert "登录安全" not in page.locator("#jazzy-sidebar").inner_text()
    response = page.goto(f"{live_server.url}/admin/axes/accessattempt/")
    assert response.status == 403
    assert "没有权限" in page.locator("h1").inner_text()
