"""Details people notice in the admin: one site name in the title, no theme version, a
favicon, the navbar search, dark mode by the system, third-party strings in Chinese."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.utils import translation

User = get_user_model()


@pytest.fixture
def staff_client(client, db):
    client.force_login(User.objects.create_user("root", is_staff=True, is_superuser=True))
    return client


def test_the_index_title_names_the_site_once_and_no_theme_version(staff_client):
    html = staff_client.get("/admin/").content.decode()
    assert "<title>仪表盘 | 订单平台</title>" in html
    assert "订单平台 | 订单平台" not in html
    assert "Jazzmin" not in html and "jazzmin 版本" not in html.lower()
    assert "版权" in html


def test_favicon_for_the_admin_and_for_pages_that_name_none(staff_client):
    html = staff_client.get("/admin/").content.decode()
    assert 'rel="icon" href="/static/core/favicon.png"' in html
    response = staff_client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == "/static/core/favicon.ico"
    assert finders.find("core/favicon.ico") and finders.find("core/favicon.png")


def test_navbar_searches_customers_and_orders_and_dark_mode_follows_the_system(staff_client):
    html = staff_client.get("/admin/").content.decode()
    assert 'action="/admin/customers/customer/"' in html
    assert 'action="/admin/orders/order/"' in html
    assert "|| 'auto'" in html  # jazzmin's default mode: the system's prefers-color-scheme
    assert "/static/core/admin.css" in html


def test_third_party_admin_strings_are_chinese():
    with translation.override("zh-hans"):
        # django-import-export's own catalogue garbles this one ("某些行验数据证失败").
        assert translation.gettext("Some rows failed to validate") == "部分行未通过数据校验"
        assert translation.gettext("Confirm Import") == "确认导入"
        assert translation.gettext("Resource") == "资源"
        assert translation.gettext("access attempts") == "登录尝试"


def test_the_import_and_export_pages_are_chinese(staff_client):
    html = staff_client.get("/admin/customers/customer/export/").content.decode()
    assert "导出" in html and ">Export<" not in html.replace(" ", "").replace("\n", "")
    html = staff_client.get("/admin/customers/customer/import/").content.decode()
    assert "<title>导入客户 | 订单平台</title>" in html and "上传并检查" in html
    assert "Resource" not in html and "Upload" not in html


def test_login_security_is_the_superusers_alone(client, roles):
    from django.contrib.auth.models import Group, Permission

    boss = User.objects.create_user("boss", is_staff=True)
    boss.groups.add(Group.objects.get(name="管理员"))
    boss.user_permissions.add(*Permission.objects.filter(content_type__app_label="axes"))
    client.force_login(boss)
    assert "登录安全" not in client.get("/admin/").content.decode()
    assert client.get("/admin/axes/accesslog/").status_code == 403
