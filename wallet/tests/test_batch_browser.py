"""End to end in Debian's chromium: finance recharges customers from a file in the admin.

From the ledger's button to the upload page; a GBK file saved by Excel is refused with the
encoding named, then read once GBK is chosen; the preview shows the rows, the total and each
balance now and after; confirming shows the result and the new balances. Screenshots of the
three screens in zh-hans and English, desktop and phone.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from core.testing import admin_login, logged_in_page, new_page, screenshot
from customers.tests.factories import StaffFactory, make_customer
from wallet.models import Entry, RechargeBatch
from wallet.selectors import balance_of
from wallet.services import wallet_recharge

PASSWORD = "pw-staff-123"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _write(tmp_path, name: str, text: str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_finance_uploads_previews_and_confirms_a_batch(browser, live_server, roles, tmp_path):
    StaffFactory(username="cashier", role="财务", password=PASSWORD)
    alice = make_customer(username="alice", name="爱丽丝", mobile="13900000001")
    bob = make_customer(username="bob", name="鲍勃", mobile="13900000002")
    wallet_recharge(customer_id=alice.pk, amount="10", created_by=None, idempotency_key="seed")
    text = (
        "客户,金额,付款流水号,付款方式,备注\n"
        "alice,1000,2024 0101 0001,银行转账,三月货款\n"
        "13900000002,95.50,,现金,\n"
    )
    page = new_page(browser, live_server)
    admin_login(page, live_server, "cashier", PASSWORD)

    page.goto(f"{live_server.url}/admin/wallet/entry/")
    page.locator("#ledger-batch-recharge").click()
    expect(page.locator("#batch-upload-form")).to_be_visible()

    # Excel on Chinese Windows saves CSV as GBK: refused, saying so; nothing recorded.
    page.set_input_files("#id_file", _write(tmp_path, "转账.csv", text, "gbk"))
    page.locator("#batch-preview-button").click()
    expect(page.locator(".batch-file-error")).to_contain_text("GBK")
    assert RechargeBatch.objects.count() == 0
    # Choosing GBK reads it.
    page.set_input_files("#id_file", _write(tmp_path, "转账.csv", text, "gbk"))
    page.select_option("#id_encoding", "gbk")
    page.locator("#batch-preview-button").click()

    expect(page.locator("#batch-rows")).to_have_text("2")
    expect(page.locator("#batch-total")).to_have_text("¥1,095.50")
    expect(page.locator("#batch-error-count")).to_have_text("0")
    rows = page.locator("tr.batch-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("爱丽丝")
    expect(rows.nth(0).locator(".batch-balance")).to_have_text("¥10.00")
    expect(rows.nth(0).locator(".batch-after")).to_have_text("¥1,010.00")
    expect(rows.nth(1).locator(".batch-after")).to_have_text("¥95.50")
    assert Entry.objects.count() == 1  # the preview moved nothing

    page.locator("#batch-confirm").click()
    expect(page.locator("#batch-status")).to_have_text("已入账")
    expect(page.locator("#batch-result")).to_be_visible()
    expect(rows.nth(0).locator(".batch-after")).to_have_text("¥1,010.00")
    expect(rows.nth(0)).to_contain_text("#")  # the ledger entry's link
    assert balance_of(customer_id=alice.pk) == Decimal("1010.00")
    assert balance_of(customer_id=bob.pk) == Decimal("95.50")
    assert Entry.objects.get(payment_reference="202401010001").memo == "三月货款"
    expect(page.locator("#batch-confirm")).to_have_count(0)  # applied: nothing left to confirm


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_batch_screens(browser, live_server, roles, tmp_path, language, size):
    finance = StaffFactory(username="cashier", role="财务", password=PASSWORD)
    make_customer(username="alice", name="爱丽丝", mobile="13900000001")
    make_customer(username="bob", name="鲍勃", mobile="13900000002")
    page = logged_in_page(browser, live_server, finance, size=size, language=language)
    name = f"wallet-batch-{language}-{size}"

    page.goto(f"{live_server.url}/admin/wallet/rechargebatch/upload/")
    screenshot(page, f"{name}-1-upload")
    bad = "customer,amount,payment reference,method,memo\nalice,1.005,,cash,\nnobody,5,,paypal,\n"
    page.set_input_files("#id_file", _write(tmp_path, "bad.csv", bad))
    page.locator("#batch-preview-button").click()
    expect(page.locator("#batch-errors")).to_be_visible()
    screenshot(page, f"{name}-2-errors")

    page.goto(f"{live_server.url}/admin/wallet/rechargebatch/upload/")
    good = (
        "customer,amount,payment reference,method,memo\n"
        "alice,1000,TX-001,bank_transfer,March\n13900000002,95.50,,cash,\n"
    )
    page.set_input_files("#id_file", _write(tmp_path, "good.csv", good))
    page.locator("#batch-preview-button").click()
    expect(page.locator("#batch-confirm")).to_be_visible()
    # The balances are on screen whatever the width (beside the customer on a phone).
    shown = ".batch-balance-phone" if size == "phone" else ".batch-after"
    expect(page.locator(shown).first).to_contain_text("¥1,000.00")
    screenshot(page, f"{name}-3-preview")
    page.locator("#batch-confirm").click()
    expect(page.locator("#batch-result")).to_be_visible()
    screenshot(page, f"{name}-4-result")
    page.locator(".breadcrumb a").nth(1).click()
    expect(page.locator("#batch-upload-link")).to_be_visible()
    screenshot(page, f"{name}-5-list")
