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
from jobs.testing import running_jobs

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


def test_an_administrator_imports_10000_rows_watching_the_progress_and_a_broken_file_changes_nothing(
    browser, live_server, tmp_path, settings
):
    demo_customers.load(None)
    good = tmp_path / "customers.csv"
    lines = ["username,name,mobile,level,account_manager,active"]
    lines.append("demo,演示客户（改）,13800138000,黄金,manager1,1")
    lines += [f"imp{i},导入客户{i},137{i:08d},白银,manager2,1" for i in range(10_000)]
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

    with running_jobs(settings):
        page.goto(f"{live_server.url}/admin/customers/customer/import/")
        page.set_input_files("input[type=file]", str(bad))
        page.get_by_role("button", name="上传并检查").click()
        expect(page.locator("#job-bar")).to_have_text("100 %", timeout=30_000)
        expect(page.locator("#job-errors tbody tr")).to_have_count(3)
        text = page.locator("#job-errors").inner_text()
        assert "钻石" in text and "13700009001" in text
        expect(page.locator("#job-confirm")).to_be_hidden()  # nothing to confirm
        _shot(page, "import-refused")
        assert Customer.objects.count() == before

        page.goto(f"{live_server.url}/admin/customers/customer/import/")
        page.set_input_files("input[type=file]", str(good))
        page.get_by_role("button", name="上传并检查").click()
        page.wait_for_url("**/admin/jobs/job/*/")
        expect(page.locator("#job-bar")).to_have_text("100 %", timeout=60_000)
        summary = page.locator("#job-summary")
        expect(summary).to_contain_text("10001")
        expect(summary).to_contain_text("10000")
        _shot(page, "import-checked")
        assert Customer.objects.count() == before
        page.get_by_role("button", name="确认导入").click()
        page.wait_for_url("**/admin/jobs/job/*/")
        expect(page.locator("#job-state")).to_have_text("已完成", timeout=60_000)
        expect(page.locator("#job-bar")).to_have_text("100 %")
        _shot(page, "import-done")
    assert Customer.objects.count() == before + 10_000
    assert Customer.objects.get(user__username="demo").name == "演示客户（改）"


def test_a_finance_user_downloads_an_export_and_it_opens_cleanly(browser, live_server, tmp_path):
    import csv
    import io

    import openpyxl

    demo_customers.load(None)
    page = _login(browser, live_server, "finance", "finance-demo-2026")
    page.goto(f"{live_server.url}/admin/customers/customer/export/")
    with page.expect_download() as caught:
        page.locator(".jobs-export-csv").click()
    raw = caught.value.path().read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["用户名", "名称", "手机号"]
    demo = next(row for row in rows if row[0] == "demo")
    assert demo[2] == "\t13800138000"  # text in Excel, not 1.38E+10
    _shot(page, "export-choice")
    with page.expect_download() as caught:
        page.locator(".jobs-export-xlsx").click()
    sheet = openpyxl.load_workbook(io.BytesIO(caught.value.path().read_bytes())).active
    values = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["demo"][2] == "13800138000" and values["demo"][5] == 1
