"""Choosing a role's permissions in Debian's chromium: the group page names every permission in
the page's language (Django stores them in English), and what the person picks is saved."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import translation

from backoffice.admin import permission_label
from core.testing import logged_in_page, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

User = get_user_model()


@pytest.fixture
def root(db):
    return User.objects.create_user("root", is_staff=True, is_superuser=True)


def test_labels_in_each_language():
    export = Permission.objects.select_related("content_type").get(codename="export_entry")
    add = Permission.objects.select_related("content_type").get(codename="add_customer")
    with translation.override("zh-hans"):
        assert permission_label(export) == "钱包 | 流水 | 可以导出流水"
        assert permission_label(add) == "客户 | 客户 | 可以添加客户"
    with translation.override("en"):
        assert permission_label(export) == "Wallet | ledger entry | Can export the ledger"
        assert permission_label(add) == "Customers | customer | Can add customer"


@pytest.mark.browser
@pytest.mark.parametrize(
    ("language", "size", "term", "label"),
    [
        ("zh-hans", "desktop", "导出流水", "可以导出流水"),
        ("en", "desktop", "export the ledger", "Can export the ledger"),
        ("zh-hans", "phone", "导出流水", "可以导出流水"),
    ],
)
def test_an_administrator_picks_a_permission_by_its_name(
    browser, live_server, root, language, size, term, label
):
    page = logged_in_page(browser, live_server, root, size, language=language)
    page.goto(f"{live_server.url}/admin/auth/group/add/")
    page.fill("#id_name", "对账")
    available = page.locator("#id_permissions_from option")
    texts = available.all_inner_texts()
    assert len(texts) == Permission.objects.count()
    if language == "zh-hans":  # Django's stored names are English; none shows through
        assert not [t for t in texts if "Can " in t and "object permission" not in t]
    box = page.locator("#id_permissions_input")  # the widget's own filter box
    box.type(term)
    # Django's filter runs on keyup; Chinese typed through an IME ends with a key (the one that
    # commits the characters), which Playwright's text insertion does not send.
    box.press("End")
    visible = page.locator("#id_permissions_from option")
    assert visible.count() == 1 and label in visible.inner_text()
    visible.first.click()
    page.locator("#id_permissions_add").click()
    assert label in page.locator("#id_permissions_to").inner_text()
    # No false "select an item" error from AdminLTE when the picker checks its lists.
    assert page.locator(".field-permissions .invalid-feedback").count() == 0
    assert page.locator(".field-permissions .is-invalid").count() == 0
    screenshot(page, f"group-permissions-{language}-{size}")
    page.locator("input[name=_save]").click()
    page.wait_for_url(f"{live_server.url}/admin/auth/group/")
    group = Group.objects.get(name="对账")
    assert list(group.permissions.values_list("codename", flat=True)) == ["export_entry"]
