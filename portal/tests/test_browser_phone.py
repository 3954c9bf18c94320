"""Phone first (issue 14): every portal page fits a 390 px phone and a 1440 px screen without
sideways scrolling; lists are cards on the phone and tables on a wide screen; the filters are a
sheet; tap targets are at least 44 px; status badges pass WCAG AA contrast, measured in the
page; the balance is always in the navigation bar; a stale quantity error goes away when the
quantity becomes valid; an order can be placed from the phone layout.
"""

import re
from decimal import Decimal

import pytest

from core.testing import logged_in_page, screenshot
from customers.tests.factories import LevelFactory, make_customer
from orders.models import Order
from orders.services import order_place
from orders.tests.factories import ServiceFactory
from portal.tests.conftest import recharge
from wallet.selectors import balance_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_TARGET = "https://shop.example/" + "a-very-long-path-segment/" * 12 + "item"

# Runs in the page: the WCAG contrast ratio of each status badge's text on its background.
BADGE_CONTRAST = """
() => {
  function channel(c) { c = c / 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); }
  function luminance(css) {
    const [r, g, b] = css.match(/[\\d.]+/g).map(Number);
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  }
  return [...document.querySelectorAll(".status-badge")].filter((el) => el.offsetParent).map((el) => {
    const style = getComputedStyle(el);
    const [a, b] = [luminance(style.color), luminance(style.backgroundColor)];
    return [el.textContent.trim(), (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  });
}
"""

# Runs in the page: visible controls a finger presses that are shorter or narrower than 44 px.
SMALL_TAP_TARGETS = """
() => [...document.querySelectorAll("a, button, select, input:not([type=hidden]), summary")]
  .filter((el) => el.offsetParent && !el.classList.contains("stretched-link"))
  .map((el) => [el.id || el.className || el.tagName, el.getBoundingClientRect()])
  .filter(([, box]) => box.height < 44 || box.width < 44)
  .map(([name, box]) => `${name} ${Math.round(box.width)}x${Math.round(box.height)}`)
"""


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def money(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.\-]", "", text))


def assert_fits(page, what: str) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{what}: the page is {width[0]} px wide in a {width[1]} px window"


@pytest.fixture
def shop():
    customer = make_customer(
        level=LevelFactory(name="黄金", discount_percent=90), name="一个名字相当长的演示客户"
    )
    recharge(customer, "12345.67")
    service = ServiceFactory(name="网站访问（长名字的服务）", tiers=[(1, "1.00"), (1000, "800.00")])
    orders = [
        order_place(customer=customer, service=service, target=LONG_TARGET, quantity=q)
        for q in (10, 20, 30, 40, 50, 60)
    ]
    statuses = ["running", "completed", "partial", "failed", "cancelled"]
    for order, status in zip(orders[1:], statuses, strict=True):
        Order.objects.filter(pk=order.pk).update(status=status)
    return customer, service, orders


PAGES = [
    "/portal/",
    "/portal/orders/",
    "/portal/orders/?status=pending",
    "/portal/orders/new/",
    "/portal/transactions/",
    "/portal/password/",
    "/portal/topups/",
    "/portal/account/",
]


@pytest.mark.parametrize(
    ("size", "language"),
    [("phone", "zh-hans"), ("phone", "en"), ("wide", "zh-hans"), ("wide", "en")],
)
def test_every_page_fits_and_badges_are_readable(browser, live_server, shop, size, language):
    customer, _service, orders = shop
    page = logged_in_page(browser, live_server, customer.user, size, language)
    phone = size == "phone"
    for path in [
        *PAGES,
        f"/portal/orders/{orders[0].number}/",
        f"/portal/orders/{orders[0].number}/cancel/",
    ]:
        page.goto(live_server.url + path)
        assert_fits(page, path)
        # The balance is in the navigation bar on every page, the menu folded or not.
        expect(page.locator("#nav-balance")).to_be_visible()
        assert money(page.inner_text("#nav-balance")) == balance_of(customer_id=customer.pk)
        if phone:
            assert page.evaluate(SMALL_TAP_TARGETS) == [], path
        for text, ratio in page.evaluate(BADGE_CONTRAST):
            assert ratio >= 4.5, f"{path}: badge {text!r} contrast {ratio:.2f}"
        name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-") or "portal"
        screenshot(page, f"phone-first-{name[:40]}-{size}-{language}")

    page.goto(live_server.url + "/portal/orders/")
    cards, table = page.locator("#order-cards"), page.locator("#order-table")
    if phone:
        expect(cards).to_be_visible()
        expect(table).to_be_hidden()
        expect(cards.locator(".order-card")).to_have_count(6)
        expect(cards).to_contain_text(orders[0].number)
        # The filter sheet is folded; a tap opens it, and filtering by status works.
        expect(page.locator("#filter-form")).to_be_hidden()
        page.click("#filters-toggle")
        expect(page.locator("#filter-form")).to_be_visible()
        assert_fits(page, "filters open")
    else:
        expect(table).to_be_visible()
        expect(cards).to_be_hidden()
        expect(page.locator("#filter-form")).to_be_visible()
    page.select_option("#filter-form select[name=status]", "completed")
    page.locator("#filter-form button[type=submit]").click()
    listed = cards if phone else table
    expect(listed).to_contain_text(orders[2].number)
    expect(listed).not_to_contain_text(orders[0].number)

    page.goto(live_server.url + "/portal/transactions/")
    entries = page.locator("#entry-cards .entry-card" if phone else "#entry-table tbody tr")
    expect(entries).to_have_count(7)  # the recharge and six order debits
    page.context.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_place_an_order_on_the_phone_and_stale_errors_go(browser, live_server, shop, language):
    customer, service, _orders = shop
    before = balance_of(customer_id=customer.pk)
    page = logged_in_page(browser, live_server, customer.user, "phone", language)
    page.goto(f"{live_server.url}/portal/orders/new/?service={service.pk}")
    # On the phone the price sits above the button.
    quote_box = page.locator("#quote-card").bounding_box()
    button_box = page.locator("#review-button").bounding_box()
    assert quote_box["y"] + quote_box["height"] <= button_box["y"]

    page.fill("#id_target", "https://shop.example/item/9")
    page.fill("#id_quantity", "0")
    page.click("#review-button")
    expect(page.locator("#id_quantity")).to_have_class(re.compile(r"\bis-invalid\b"))
    quantity_errors = page.locator("#id_quantity ~ .invalid-feedback")
    expect(quantity_errors).to_have_count(1)
    assert_fits(page, "order form with errors")
    screenshot(page, f"phone-first-order-error-{language}")

    page.fill("#id_quantity", "100")
    expect(page.locator("#quote-amount")).to_contain_text("90.00")
    expect(quantity_errors).to_have_count(0)
    expect(page.locator("#id_quantity")).not_to_have_class(re.compile(r"\bis-invalid\b"))
    screenshot(page, f"phone-first-order-fixed-{language}")

    page.click("#review-button")
    expect(page.locator("#confirm-amount")).to_contain_text("90.00")
    assert_fits(page, "confirm")
    page.click("#confirm-button")
    expect(page.locator("#order-status")).to_be_visible()
    assert_fits(page, "order placed")
    assert balance_of(customer_id=customer.pk) == before - Decimal("90.00")
    expect(page.locator("#nav-balance")).to_contain_text(f"{before - Decimal('90.00'):,.2f}")
    page.context.close()


def test_on_a_wide_screen_the_price_is_beside_the_form(browser, live_server, shop):
    customer, service, _orders = shop
    page = logged_in_page(browser, live_server, customer.user, "wide", "zh-hans")
    page.goto(f"{live_server.url}/portal/orders/new/?service={service.pk}")
    form_box = page.locator("#id_quantity").bounding_box()
    quote_box = page.locator("#quote-card").bounding_box()
    button_box = page.locator("#review-button").bounding_box()
    assert quote_box["x"] > form_box["x"] + form_box["width"]
    assert abs(button_box["x"] - quote_box["x"]) < 2  # the button is under the price
    page.context.close()
