"""In Debian's chromium: finance finds a customer, recharges with a payment reference, sees
the new balance on the customer page; the same reference again is refused with the message.
And the customer page and the 充值 form, looked at in zh-hans and English, desktop and phone.
"""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from core.testing import admin_login, new_page, screenshot
from customers.tests.factories import StaffFactory
from orders.services import order_place
from orders.tests.conftest import funded_customer
from orders.tests.factories import ServiceFactory
from wallet.models import Entry
from wallet.selectors import balance_of

PASSWORD = "pw-staff-123"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(roles):
    """Finance, an account manager, and three customers; 艾克米 has orders and ¥1,000."""
    StaffFactory(username="cashier", role="财务", password=PASSWORD)
    manager = StaffFactory(username="am1", role="客户经理", password=PASSWORD)
    acme = funded_customer(
        username="acme",
        name="艾克米",
        mobile="13912345678",
        balance="1000",
        account_manager=manager,
    )
    for n in range(3):
        funded_customer(username=f"other{n}", name=f"其他{n}", mobile=f"1350000000{n}")
    service = ServiceFactory(name="视频播放量")
    for n in range(3):
        order_place(customer=acme, service=service, target=f"https://v.cn/{n}", quantity=1)
    return {"acme": acme}


def _login(browser, live_server, size="desktop", language="zh-hans", user="cashier"):
    page = new_page(browser, live_server, size)
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    admin_login(page, live_server, user, PASSWORD)
    return page


def _count_loads(page) -> list[str]:
    loads: list[str] = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and loads.append(frame.url))
    return loads


def _recharge(page, amount: str, reference: str) -> None:
    """Fill the 充值 form as a person does and submit it."""
    page.fill("#id_amount", amount)
    page.select_option("#id_payment_method", "bank_transfer")
    page.fill("#id_payment_reference", reference)
    page.click("form button.btn-primary")


def test_finance_recharges_from_the_list_row_and_a_reference_is_entered_once(
    browser, live_server, shop
):
    acme = shop["acme"]  # ¥1,000 − 3 orders × ¥1.00
    page = _login(browser, live_server)
    page.goto(f"{live_server.url}/admin/customers/customer/")
    loads = _count_loads(page)

    row = page.locator("#result_list tbody tr", has_text="艾克米")
    row.get_by_role("link", name="充值").click()
    page.locator("#id_amount").wait_for()
    after = page.locator(".balance-after")
    assert page.locator(".balance-now").inner_text() == "¥997.00"
    assert after.inner_text() == "—"
    # The balance after follows the typing (its script may start just after the field shows:
    # expect() waits for the text instead of reading it once).
    page.type("#id_amount", "100")
    expect(after).to_have_text("¥1,097.00")
    page.fill("#id_amount", "12,5")
    expect(after).to_have_text("—")  # not a number the server would take
    _recharge(page, "100", "HX 2026 1202 0001")
    page.wait_for_url(re.compile(rf"/admin/customers/customer/{acme.pk}/change/$"))
    assert len(loads) == 2  # the form, then the customer's page: quick
    balance = page.locator(".customer-fact-balance dd")
    assert balance.inner_text() == "¥1,097.00"
    assert "¥997.00 → ¥1,097.00" in page.locator(".alert-success").inner_text()
    assert balance_of(customer_id=acme.pk) == Decimal("1097.00")
    # The latest entry is in the page's ledger panel, with its reference.
    assert "HX202612020001" in page.locator(".customer-panel-ledger").inner_text()

    # Again with the same reference (typed another way): refused, naming the earlier entry.
    page.locator(".customer-tool-recharge").click()
    _recharge(page, "100", "hx202612020001")
    error = page.locator(".errorlist").first
    error.wait_for()
    text = error.inner_text()
    assert "HX202612020001" in text and "艾克米" in text
    screenshot(page, "recharge-duplicate-refused-zh-hans-desktop")
    assert Entry.objects.filter(payment_reference="HX202612020001").count() == 1
    assert balance_of(customer_id=acme.pk) == Decimal("1097.00")


def test_finance_finds_a_customer_by_part_of_the_mobile_and_recharges(browser, live_server, shop):
    acme = shop["acme"]
    page = _login(browser, live_server)
    page.goto(f"{live_server.url}/admin/customers/customer/")
    page.locator("#searchbar").fill("1391234")
    page.locator("#searchbar").press("Enter")
    page.wait_for_url(re.compile(r"q=1391234"), timeout=5000)
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    rows.first.get_by_role("link", name="艾克米").click()
    page.locator(".customer-tool-recharge").click()
    _recharge(page, "100", "SEARCH-0001")
    page.wait_for_url(re.compile(rf"/admin/customers/customer/{acme.pk}/change/$"))
    assert page.locator(".customer-fact-balance dd").inner_text() == "¥1,097.00"

    page.locator(".customer-tool-recharge").click()
    _recharge(page, "100", "SEARCH-0001")
    assert "SEARCH-0001" in page.locator(".errorlist").first.inner_text()
    assert balance_of(customer_id=acme.pk) == Decimal("1097.00")


def test_the_manager_sees_orders_and_a_place_button_but_no_money_buttons(
    browser, live_server, shop
):
    acme = shop["acme"]
    page = _login(browser, live_server, user="am1")
    page.goto(f"{live_server.url}/admin/customers/customer/{acme.pk}/change/")
    assert page.locator(".customer-tool-recharge").count() == 0
    assert page.locator(".customer-panel-ledger").count() == 0
    assert page.locator(".customer-panel-orders tbody tr").count() == 3
    page.locator(".customer-tool-place_order").click()
    assert page.locator("input[name=customer]").input_value() == "acme"


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_screenshots_of_the_customer_page_and_the_recharge_form(
    browser, live_server, shop, size, language
):
    acme = shop["acme"]
    page = _login(browser, live_server, size=size, language=language)
    page.goto(f"{live_server.url}/admin/customers/customer/{acme.pk}/change/")
    assert page.locator(".customer-fact-balance dd").inner_text() == "¥997.00"
    assert page.locator(".customer-panel-orders tbody tr").count() == 3
    label = "充值" if language == "zh-hans" else "Recharge"
    assert page.locator(".customer-tool-recharge").inner_text().strip() == label
    screenshot(page, f"customer-page-{language}-{size}")
    page.locator(".customer-tool-recharge").click()
    page.fill("#id_amount", "100")
    page.fill("#id_payment_reference", "HX-0001")
    expect(page.locator(".balance-after")).to_have_text("¥1,097.00")
    screenshot(page, f"recharge-form-{language}-{size}")
    for name, url in [
        ("customer-list", "/admin/customers/customer/"),
        ("order-list", "/admin/orders/order/"),
        ("ledger-list", "/admin/wallet/entry/"),
    ]:
        page.goto(f"{live_server.url}{url}")
        screenshot(page, f"{name}-{language}-{size}")
