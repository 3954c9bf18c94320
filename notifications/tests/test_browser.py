"""In chromium, as a customer does: set the callback URL, read and renew the secret, set the
low-balance threshold, watch a delivery arrive, and send it again — phone and desktop."""

import re

import pytest
from django.core.management import call_command

from core.testing import logged_in_page, screenshot
from notifications.delivery import deliver_due
from notifications.models import WebhookEndpoint
from orders.tests.test_agent_support import funded_customer, place

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_customer_sets_up_webhooks_and_sends_a_delivery_again(
    browser, live_server, receiver, language
):
    customer = funded_customer(balance="100.00")
    phone = logged_in_page(browser, live_server, customer.user, "phone", language)
    phone.goto(live_server.url + "/portal/")
    phone.click(".navbar-toggler")
    # The menu has finished opening (Bootstrap's collapse ends with "show"), then the
    # customer's own menu, where the page sits beside "My account".
    expect(phone.locator("#portal-nav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    phone.click("#portal-nav .dropdown-toggle")
    expect(phone.locator("#nav-notifications")).to_be_visible()
    phone.click("#nav-notifications")
    expect(phone.locator("#endpoint-form")).to_be_visible()
    expect(phone.locator("#webhook-secret")).to_have_count(0)  # no secret before a URL

    # A private address is refused in production; here (tests) the local receiver is allowed.
    phone.fill("#id_url", receiver.url)
    phone.click("#endpoint-submit")
    expect(phone.locator("#messages .alert-success")).to_be_visible()
    secret = WebhookEndpoint.objects.get(customer=customer).secret
    expect(phone.locator("#webhook-secret")).to_have_value(secret)
    phone.click("#regenerate-secret")
    expect(phone.locator("#messages .alert-success")).to_be_visible()
    renewed = WebhookEndpoint.objects.get(customer=customer).secret
    assert renewed != secret
    expect(phone.locator("#webhook-secret")).to_have_value(renewed)

    phone.fill("#id_threshold", "abc")
    phone.press("#id_threshold", "Enter")
    expect(phone.locator("#threshold-form .invalid-feedback")).to_be_visible()
    phone.fill("#id_threshold", "50")
    phone.press("#id_threshold", "Enter")
    expect(phone.locator("#alert-state")).to_contain_text("50.00")

    # An order finishes; the agent's side task delivers the event.
    order = place(customer, quantity=10)
    call_command("run_agent", "--once", "--name", "t1", verbosity=0)
    assert deliver_due() == 1
    phone.reload()
    card = phone.locator(".delivery-card").first
    expect(card).to_contain_text(order.number)
    expect(card.locator(".delivery-status")).to_have_text(re.compile("已送达|Delivered"))
    expect(card.locator(".delivery-code")).to_have_text("204")
    assert fits(phone)
    screenshot(phone, f"portal-notifications-phone-{language}")

    card.locator(".resend-button").click()
    expect(phone.locator("#messages .alert-success")).to_be_visible()
    card = phone.locator(".delivery-card").first
    expect(card.locator(".delivery-status")).to_have_text(re.compile("待发送|Pending"))
    assert deliver_due() == 1
    ids = [r["headers"]["webhook-id"] for r in receiver.received]
    assert len(ids) == 2 and len(set(ids)) == 1  # the same event, the same id
    phone.reload()
    expect(phone.locator(".delivery-card").first.locator(".delivery-attempts")).to_have_text("2")

    desk = logged_in_page(browser, live_server, customer.user, "desktop", language)
    desk.goto(live_server.url + "/portal/notifications/")
    expect(desk.locator(".delivery-card")).to_have_count(1)
    screenshot(desk, f"portal-notifications-desktop-{language}")
