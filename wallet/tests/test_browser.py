"""End to end in Debian's chromium: finance moves money from the admin; support cannot.

The issue's "done when": a finance user recharges three customers at once from the list,
deducts from one with a memo, sees every movement in the ledger with its balance after,
exports it, and wallet_audit reconciles. A support user finds no way to move money.
"""

import csv
import os
from decimal import Decimal
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from customers.tests.factories import StaffFactory, make_customer
from wallet.models import Entry
from wallet.selectors import balance_of

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
PASSWORD = "pw-staff-123"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(monkeypatch):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def _login(browser, live_server, username: str):
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    host = urlsplit(live_server.url).netloc
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if urlsplit(route.request.url).netloc == host else route.abort()
        ),
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(f"{live_server.url}/admin/")
    return page


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"wallet-{name}.png"), full_page=True)


def test_finance_moves_money_and_support_cannot(browser, live_server, roles):
    finance = StaffFactory(username="cashier", role="财务", password=PASSWORD)
    StaffFactory(username="helpdesk", role="客服", password=PASSWORD)
    customers = [make_customer(username=f"c{i}", name=f"客户{i}") for i in range(3)]
    page = _login(browser, live_server, "cashier")

    # Recharge three customers at once from the list.
    page.goto(f"{live_server.url}/admin/customers/customer/")
    for customer in customers:
        page.check(f"input[name=_selected_action][value='{customer.pk}']")
    page.select_option("select[name=action]", "recharge_selected")
    page.locator("#changelist-form button[type=submit]").first.click()
    page.locator("input[name=amount]").wait_for()
    _shot(page, "recharge-form")
    page.fill("input[name=amount]", "1.005")  # a typo is a form error, nothing moves
    page.click("form button.btn-primary")
    page.locator(".errorlist").wait_for()
    assert Entry.objects.count() == 0
    page.fill("input[name=amount]", "300")
    page.fill("input[name=memo]", "月初充值")
    page.click("form button.btn-primary")
    page.wait_for_url(f"{live_server.url}/admin/customers/customer/")
    _shot(page, "recharged")
    assert all(balance_of(customer_id=c.pk) == Decimal("300.00") for c in customers)
    assert page.locator(".alert-success").count() == 3

    # Deduct from one with a memo, from its page.
    first = customers[0]
    page.goto(f"{live_server.url}/admin/customers/customer/{first.pk}/change/")
    page.click(f"a[href$='/{first.pk}/deduct/']")
    page.fill("input[name=amount]", "45.50")
    page.fill("input[name=memo]", "退货扣回")
    page.click("form button.btn-primary")
    page.wait_for_url(f"{live_server.url}/admin/customers/customer/{first.pk}/change/")
    assert "¥254.50" in page.content()
    assert balance_of(customer_id=first.pk) == Decimal("254.50")

    # Every movement in the ledger with its balance after; export it.
    page.goto(f"{live_server.url}/admin/wallet/entry/")
    _shot(page, "ledger")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 4
    assert "254.50" in rows.first.inner_text()
    with page.expect_download() as download:
        page.click("a.ledger-export[href*='/csv/']")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    exported = list(csv.reader(StringIO(text)))[1:]
    assert {row[6] for row in exported} == {"254.50", "300.00"}
    assert len(exported) == 4

    out = StringIO()
    with translation.override("en"):
        call_command("wallet_audit", stdout=out, stderr=StringIO())
    assert "all 3 accounts reconcile" in out.getvalue()

    # Support: no action, no button, and the page itself is forbidden.
    page = _login(browser, live_server, "helpdesk")
    page.goto(f"{live_server.url}/admin/customers/customer/")
    options = page.locator("select[name=action] option").all_inner_texts()
    assert not {"充值", "扣款", "Recharge selected customers"} & {o.strip() for o in options}
    page.goto(f"{live_server.url}/admin/customers/customer/{first.pk}/change/")
    assert page.locator(f"a[href$='/{first.pk}/deduct/']").count() == 0
    response = page.goto(f"{live_server.url}/admin/customers/customer/{first.pk}/recharge/")
    assert response.status == 403
    _shot(page, "support-forbidden")
    assert Entry.objects.count() == 4
    assert finance.pk  # finance did everything above
