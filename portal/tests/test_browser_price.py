"""In chromium: the customer types a full-width quantity (refused), confirms a price, the price
changes before they press pay: nothing is charged and the new price is shown to confirm.
"""

import re
from decimal import Decimal

import pytest
from django.utils import translation

from core.testing import logged_in_page, screenshot
from customers.tests.factories import LevelFactory, make_customer
from orders.exceptions import QUANTITY_NOT_AN_INTEGER
from orders.models import Order
from orders.tests.factories import ServiceFactory
from portal.tests.conftest import recharge
from portal.views.orders import PRICE_CHANGED
from wallet.models import Entry
from wallet.selectors import balance_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def money(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.]", "", text))


@pytest.mark.parametrize(
    ("size", "language"), [("desktop", "zh-hans"), ("phone", "zh-hans"), ("desktop", "en")]
)
def test_a_price_change_before_pay_shows_the_new_price_and_charges_nothing(
    browser, live_server, size, language
):
    customer = make_customer(level=LevelFactory(name="黄金", discount_percent=90))
    recharge(customer, "1000.00")
    service = ServiceFactory(name="网站访问", tiers=[(1, "1.00"), (1000, "800.00")])
    page = logged_in_page(browser, live_server, customer.user, size, language)

    page.goto(f"{live_server.url}/portal/orders/new/?service={service.pk}")
    page.fill("#id_target", "https://shop.example/item/1")
    page.fill("#id_quantity", "１００")  # full-width digits from a Chinese input method
    page.click("#review-button")
    page.wait_for_selector("#id_quantity.is-invalid")
    with translation.override(language):
        assert str(QUANTITY_NOT_AN_INTEGER) in page.inner_text("#order-form")
    page.fill("#id_quantity", "100")
    page.click("#review-button")
    page.wait_for_selector("#confirm-summary")
    assert money(page.inner_text("#confirm-amount")) == Decimal("90.00")

    service.tiers.filter(quantity=1).update(price=Decimal("1.50"))  # staff reprice meanwhile
    page.click("#confirm-button")
    page.wait_for_selector("#price-changed")
    screenshot(page, f"portal-price-changed-{size}-{language}")
    with translation.override(language):
        assert page.inner_text("#price-changed") == str(PRICE_CHANGED)
    assert money(page.inner_text("#confirm-amount")) == Decimal("135.00")
    assert "135.00" in page.inner_text("#confirm-button")
    assert not Order.objects.exists() and Entry.objects.count() == 1
    assert balance_of(customer_id=customer.pk) == Decimal("1000.00")

    page.click("#confirm-button")
    page.wait_for_selector("#timeline")
    assert Order.objects.get().amount == Decimal("135.00")
    assert balance_of(customer_id=customer.pk) == Decimal("865.00")
