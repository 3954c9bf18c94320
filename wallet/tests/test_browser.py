"""End to end in Debian's chromium: finance moves money from the admin; support cannot.

The issue's "done when": a finance user recharges three customers at once from the list,
deducts from one with a memo, sees every movement in the ledger with its balance after,
exports it, and wallet_audit reconciles. A support user finds no way to move money.
"""

import csv
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from core.testing import admin_login, new_page, screenshot
from customers.tests.factories import StaffFactory, make_customer
from wallet.models import Entry
from wallet.selectors import balance_of

PASSWORD = "pw-staff-123"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(browser, live_server, username: str):
    page = new_page(browser, live_server, accept_downloads=True)
    admin_login(page, live_server, username, PASSWORD)
    return page


def _shot(page, name: str) -> None:
    screenshot(page, f"wallet-{name}")


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
