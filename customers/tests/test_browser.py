"""End to end in Debian's chromium: the issue's "done when" for customers.

Each demo staff role logs in through the login form and sees only its menu and its customers;
an administrator imports a 1,000-row CSV through the preview, and a broken file is refused
with readable errors and changes nothing.
"""

import pytest
from playwright.sync_api import expect

from core.testing import admin_login, new_page, screenshot
from customers.models import Customer
from demo import customers as demo_customers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# username → (password, changelist links the side menu must show, and must not show).
MENU = {
    "admin_mgr": ("admin-mgr-demo-2026", ["customers/customer/import/", "auth/user/"], []),
    "finance": ("finance-demo-2026", ["wallet/entry/"], ["customers/customer/import/"]),
    "manager1": ("manager1-demo-2026", ["customers/customer/add/"], ["wallet/entry/"]),
    "support": ("support-demo-2026", ["orders/order/"], ["customers/customer/add/"]),
}


def _login(browser, live_server, username: str, password: str):
    page = new_page(browser, live_server, timeout_ms=20_000)
    admin_login(page, live_server, username, password)
    return page


def _shot(page, name: str) -> None:
    screenshot(page, f"customers-{name}")


def _menu_links(page) -> str:
    return " ".join(page.locator("nav.mt-2 a, aside a").evaluate_all("els => els.map(e => e.href)"))


def test_each_role_sees_its_menu_and_customers(browser, live_server):
    demo_customers.load(None)
    for username, (password, shown, hidden) in MENU.items():
        page = _login(browser, live_server, username, password)
        links = _menu_links(page)
        for fragment in shown:
            assert fragment in links, (username, fragment)
        for fragment in hidden:
            assert fragment not in links, (username, fragment)
        page.goto(f"{live_server.url}/admin/customers/customer/")
        rows = page.locator("#result_list tbody tr").count()
        assert rows == (5 if username == "manager1" else 10), username
        _shot(page, f"list-{username}")
        page.context.close()


def test_an_administrator_imports_1000_rows_and_a_broken_file_changes_nothing(
    browser, live_server, tmp_path
):
    demo_customers.load(None)
    good = tmp_path / "customers.csv"
    lines = ["username,name,mobile,level,account_manager,active"]
    lines.append("demo,演示客户（改）,13800138000,黄金,manager1,1")
    lines += [f"imp{i},导入客户{i},1370000{i:04d},白银,manager2,1" for i in range(1000)]
    good.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad = tmp_path / "broken.csv"
    bad.write_text(
        "username,name,mobile,level,account_manager,active\n"
        "ok1,好,13700009001,黄金,,1\n"
        "bad1,等级错,13700009002,钻石,,1\n"
        "bad2,手机错,12345,黄金,,1\n"
        "bad3,手机重复,13700009001,黄金,,1\n",
        encoding="utf-8",
    )
    page = _login(browser, live_server, "admin_mgr", "admin-mgr-demo-2026")
    before = Customer.objects.count()

    page.goto(f"{live_server.url}/admin/customers/customer/import/")
    page.set_input_files("input[type=file]", str(bad))
    page.select_option("select[name=format]", value="0")
    page.locator("form[enctype] [type=submit]").first.click()
    errors = page.locator(".customers-import-errors li")
    errors.first.wait_for()
    assert errors.count() == 3
    text = page.locator(".customers-import-refused").inner_text()
    assert "钻石" in text and "13700009001" in text
    assert page.locator("form[action$='process_import/']").count() == 0  # nothing to confirm
    _shot(page, "import-refused")
    assert Customer.objects.count() == before

    page.goto(f"{live_server.url}/admin/customers/customer/import/")
    page.set_input_files("input[type=file]", str(good))
    page.select_option("select[name=format]", value="0")
    page.locator("form[enctype] [type=submit]").first.click()
    page.locator(".customers-import-summary").wait_for()
    # The summary comes before the table: wait for the whole page, not only its top.
    page.wait_for_load_state("load")
    # 1,001 rows: the table shows the first 1,000, the summary counts them all.
    expect(page.locator("tr.new")).to_have_count(999, timeout=60_000)
    assert page.locator("tr.update").count() == 1
    summary = page.locator(".customers-import-summary").inner_text()
    assert "1001" in summary and "1000" in summary
    _shot(page, "import-preview")
    assert Customer.objects.count() == before
    page.locator("form[action$='process_import/'] [name=confirm]").click()
    page.wait_for_url(f"{live_server.url}/admin/customers/customer/")
    assert Customer.objects.count() == before + 1000
    assert Customer.objects.get(user__username="demo").name == "演示客户（改）"
