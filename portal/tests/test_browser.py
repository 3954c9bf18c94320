"""End to end in Debian's chromium: SMS login, live quote, place, complete, cancel, screenshots.

Runs against pytest-django's live server; every request to another host is aborted, so nothing
leaves the machine. Skipped when /usr/bin/chromium is missing, unless REQUIRE_BROWSER=1.
"""

import re
import uuid
from decimal import Decimal

import pytest
import sms
from django.core.management import call_command, get_commands

from core.testing import new_page, screenshot
from customers.tests.factories import LevelFactory, make_customer
from orders.tests.factories import ServiceFactory
from portal.tests.conftest import recharge
from wallet.selectors import balance_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def shot(page, size: str, name: str) -> None:
    screenshot(page, f"portal-{name}-{size}")


def money(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.\-]", "", text))


NAVBAR_EXPANDS_AT = 992  # Bootstrap's lg breakpoint: the base template's navbar-expand-lg


def open_menu_if_collapsed(page) -> None:
    # Decided by the viewport, not by the toggler's visibility: before the stylesheet applies,
    # the toggler shows on every width and a loaded machine catches it there.
    if page.viewport_size["width"] < NAVBAR_EXPANDS_AT:
        page.locator(".navbar-toggler").click()
        page.locator("#portal-nav.show").wait_for()


def go(page, live_server, path: str) -> None:
    page.goto(live_server.url + path)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_customer_journey(browser, live_server, size):
    level = LevelFactory(name="黄金", discount_percent=90)
    mobile = "13800138000" if size == "desktop" else "13900139000"
    customer = make_customer(username=f"buyer-{size}", level=level, mobile=mobile, name="演示客户")
    recharge(customer, "1000.00")
    service = ServiceFactory(
        name=f"网站访问-{uuid.uuid4().hex[:4]}",
        backend="simulated",
        tiers=[(1, "1.00"), (1000, "800.00")],
    )
    page = new_page(browser, live_server, size)

    # --- SMS login ---------------------------------------------------------------------------
    go(page, live_server, "/")  # the site's address, as a customer types it
    assert "/portal/login/" in page.url
    shot(page, size, "login")
    page.click("#tab-sms")
    page.fill("#sms-login-form input[name=mobile]", mobile)
    page.click("#send-code-button")
    page.wait_for_selector("#messages .alert-success")
    expect(page.locator("#send-code-button")).to_be_disabled()  # the resend countdown runs
    code = re.search(r"\d{6}", sms.outbox[-1].body).group()
    shot(page, size, "login-code-sent")
    page.fill("#sms-login-form input[name=code]", code)
    page.click("#sms-login-button")
    page.wait_for_url(f"{live_server.url}/portal/")
    assert money(page.inner_text("#balance")) == Decimal("1000.00")
    assert "黄金" in page.inner_text("#level")
    shot(page, size, "dashboard")

    # --- place an order, watching the quote -------------------------------------------------
    open_menu_if_collapsed(page)
    page.click("a.nav-link[href='/portal/orders/new/']")
    page.select_option("#id_service", str(service.pk))
    page.fill("#id_target", "https://shop.example/item/1")
    page.locator("#id_quantity").press_sequentially("1000", delay=30)
    expect(page.locator("#quote-amount")).to_contain_text("720.00")
    assert money(page.inner_text("#quote-list-price")) == Decimal("800.00")
    assert money(page.inner_text("#quote-balance-after")) == Decimal("280.00")
    page.fill("#id_quantity", "0")
    page.wait_for_selector("#quote-error:not(.d-none)")
    page.fill("#id_quantity", "100")
    expect(page.locator("#quote-amount")).to_contain_text("90.00")
    shot(page, size, "order-form")
    page.click("#review-button")
    page.wait_for_selector("#confirm-summary")
    shown_amount = money(page.inner_text("#confirm-amount"))
    shown_after = money(page.inner_text("#confirm-balance-after"))
    assert (shown_amount, shown_after) == (Decimal("90.00"), Decimal("910.00"))
    shot(page, size, "order-confirm")
    page.click("#confirm-button")
    page.wait_for_selector("#timeline")
    first_number = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert page.inner_text("#order-status") == "待执行"
    assert balance_of(customer_id=customer.pk) == shown_after
    shot(page, size, "order-placed")

    # --- see it complete ----------------------------------------------------------------------
    if "run_agent" not in get_commands():
        pytest.skip("manage.py run_agent does not exist yet: cannot watch the order complete")
    call_command("run_agent", "--once", verbosity=0)
    page.reload()
    assert page.inner_text("#order-status") == "已完成"
    shot(page, size, "order-completed")

    # --- a second order, then cancel it and see the money come back ---------------------------
    go(page, live_server, f"/portal/orders/new/?service={service.pk}")
    page.fill("#id_target", "https://shop.example/item/2")
    page.fill("#id_quantity", "10")
    expect(page.locator("#quote-amount")).to_contain_text("9.00")
    page.click("#review-button")
    assert money(page.inner_text("#confirm-balance-after")) == Decimal("901.00")
    page.click("#confirm-button")
    page.wait_for_selector("#cancel-link")
    second_number = page.url.rstrip("/").rsplit("/", 1)[-1]
    page.click("#cancel-link")
    page.wait_for_selector("#confirm-cancel-button")
    assert money(page.inner_text("#cancel-balance-after")) == Decimal("910.00")
    shot(page, size, "order-cancel")
    page.click("#confirm-cancel-button")
    page.wait_for_selector("#messages .alert-success")
    assert page.inner_text("#order-status") == "已撤单"

    # --- the balance and the ledger agree with what was shown ---------------------------------
    go(page, live_server, "/portal/")
    assert money(page.inner_text("#balance")) == Decimal("910.00")
    go(page, live_server, "/portal/orders/")
    assert first_number in page.inner_text("#order-table")
    assert second_number in page.inner_text("#order-table")
    shot(page, size, "orders")
    go(page, live_server, "/portal/transactions/")
    rows = page.locator("#entry-table tbody tr")
    assert rows.count() == 4  # recharge, debit, debit, cancel refund
    assert money(rows.nth(0).locator("td").nth(3).inner_text()) == Decimal("910.00")
    assert money(page.inner_text("#balance")) == Decimal("910.00")
    shot(page, size, "transactions")
    go(page, live_server, "/portal/password/")
    shot(page, size, "password")

    # --- English, then log out ----------------------------------------------------------------
    open_menu_if_collapsed(page)
    page.select_option("#language-select", "en")
    page.wait_for_selector("html[lang=en]")
    assert "Change password" in page.content()
    open_menu_if_collapsed(page)
    page.click("a.dropdown-toggle")
    page.click("#logout-button")
    page.wait_for_url(re.compile(r".*/portal/login/.*"))
    page.context.close()
