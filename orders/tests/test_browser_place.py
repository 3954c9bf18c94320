"""In chromium: staff place an order for a customer; a quantity typed with a comma is refused;
the customer's level changes after the quote: nothing is charged and the new price is shown.
"""

from decimal import Decimal

import pytest

from core.testing import admin_login, new_page, screenshot
from customers.services import customer_set_level
from customers.tests.factories import LevelFactory, StaffFactory
from orders.exceptions import QUANTITY_NOT_AN_INTEGER
from orders.models import Order
from orders.tests.conftest import funded_customer
from orders.tests.factories import ServiceFactory
from wallet.models import Entry
from wallet.selectors import balance_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-staff-123"


def test_staff_see_the_new_price_when_the_level_changed_after_the_quote(browser, live_server):
    StaffFactory(username="root", is_superuser=True, password=PASSWORD)
    customer = funded_customer(percent=85, balance="100.00", username="carol")
    service = ServiceFactory(name="粉丝", tiers=[(1, "1.00")])
    page = new_page(browser, live_server)
    admin_login(page, live_server, "root", PASSWORD)

    page.goto(f"{live_server.url}/admin/orders/order/place/?customer=carol")
    page.select_option("select[name=service]", str(service.pk))
    page.fill("input[name=target]", "https://a.cn/1")
    page.fill("input[name=quantity]", "1,000")
    page.click("#place-order-form button[type=submit]")
    page.wait_for_selector("#place-order-form .text-danger")
    assert str(QUANTITY_NOT_AN_INTEGER) in page.inner_text("#place-order-form")
    page.fill("input[name=quantity]", "20")
    page.click("#place-order-form button[type=submit]")
    page.wait_for_selector("#order-quote")
    assert page.inner_text("#quote-amount") == "17.00"  # 20 × 1.00 × 85 %

    customer_set_level(customer=customer, level=LevelFactory(discount_percent=100))
    page.click("button[name=_confirm]")
    page.wait_for_selector("#price-notice")
    screenshot(page, "admin-place-price-changed")
    assert "20.00" in page.inner_text("#price-notice")
    assert page.inner_text("#quote-amount") == "20.00"
    assert not Order.objects.exists() and Entry.objects.count() == 1
    assert balance_of(customer_id=customer.pk) == Decimal("100.00")

    page.click("button[name=_confirm]")
    page.wait_for_url(f"{live_server.url}/admin/orders/order/*/change/")
    assert Order.objects.get().amount == Decimal("20.00")
    assert balance_of(customer_id=customer.pk) == Decimal("80.00")
