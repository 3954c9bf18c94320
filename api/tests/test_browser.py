"""In chromium: a customer creates an API key in the portal, sees it once, copies it, uses it
(the key works), revokes it (the key stops); and the docs page renders Swagger UI from local
files under the CSP. Screenshots zh-hans and English, desktop and phone."""

import json
import re
import shutil
import subprocess

import pytest
import requests

from api.models import ApiKey
from api.services import api_key_create
from api.tests.conftest import recharge
from core.testing import logged_in_page, screenshot
from customers.tests.factories import make_customer
from orders.models import Order
from orders.tests.factories import ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "zh-hans": {"copied": "已复制", "revoked": "已吊销", "active": "有效", "docs": "API 文档"},
    "en": {
        "copied": "Copied",
        "revoked": "Revoked",
        "active": "Active",
        "docs": "API documentation",
    },
}


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_create_copy_use_and_revoke_a_key(browser, live_server, language, size, settings):
    settings.API_RATE_PER_SECOND = 0
    settings.API_RATE_PER_MINUTE = 0
    if not shutil.which("curl"):
        pytest.skip("curl is missing")
    customer = make_customer(username=f"reseller-{language}-{size}", name="分销商")
    recharge(customer, "1000.00")
    ServiceFactory(name="网站访问")
    text = TEXT[language]
    page = logged_in_page(browser, live_server, customer.user, size, language)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    errors = []  # console errors, CSP violations among them, on every page of the walk
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(live_server.url + "/portal/")
    if size == "phone":
        page.click(".navbar-toggler")
    page.click(".navbar .dropdown-toggle")
    page.click("#nav-api")
    expect(page.locator("#api-key-form")).to_be_visible()

    page.fill("#id_label", "网店 shop")
    page.fill("#id_allowed_ips", "127.0.0.1\n::1")
    page.click("#api-key-create")
    expect(page.locator("#new-key")).to_be_visible()
    token = page.locator("#new-key-value").inner_text()
    assert re.fullmatch(r"op_[0-9a-f]{8}_[A-Za-z0-9_-]{40,}", token)
    page.click("#copy-key")
    expect(page.locator("#copy-key")).to_have_text(text["copied"])
    assert page.evaluate("navigator.clipboard.readText()") == token
    card = page.locator(".api-key-card", has_text="网店 shop")
    expect(card.locator(".key-status")).to_have_text(text["active"])
    expect(card.locator(".key-ips")).to_have_text("127.0.0.1/32, ::1/128")
    screenshot(page, f"api-key-created-{language}-{size}")

    # The key works from this machine.
    url = f"{live_server.url}/api/v1/balance"
    assert (
        requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code
        == 200
    )

    # Shown once: after a reload only the prefix is left.
    page.goto(live_server.url + "/portal/api-keys/")
    expect(page.locator("#new-key")).to_have_count(0)
    assert token not in page.content()
    key = ApiKey.objects.get(customer=customer)
    expect(card.locator(".key-prefix")).to_have_text(f"op_{key.prefix}…")
    expect(card.locator(".key-last-used")).not_to_have_text(re.compile("从未|never"))

    page.once("dialog", lambda dialog: dialog.accept())
    card.locator(".key-revoke").click()
    expect(card.locator(".key-status")).to_have_text(text["revoked"])
    expect(page.locator("#messages .alert-success")).to_be_visible()
    screenshot(page, f"api-key-revoked-{language}-{size}")
    refused = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert refused.status_code == 401
    assert refused.headers["Content-Type"] == "application/problem+json"

    # The docs page, linked from the key page, renders the schema from local files only.
    page.click("#api-docs-link")
    expect(page.locator("h1")).to_have_text(text["docs"])
    expect(page.locator("#swagger-ui .opblock").first).to_be_visible()
    expect(page.locator("#swagger-ui", has_text="/api/v1/orders").first).to_be_visible()
    expect(page.locator("#curl-example")).to_contain_text("client_order_id")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    screenshot(page, f"api-docs-{language}-{size}")

    # As a new user would: the curl example from the docs page, run twice with a live key,
    # places one order and answers the same order both times.
    live_key = api_key_create(customer=customer, label="curl")[1]
    command = page.locator("#curl-example").inner_text()
    assert command.startswith("curl ") and live_server.url in command
    answers = [
        subprocess.run(  # noqa: S603 - the page's own example, run against the live server
            ["/bin/sh", "-c", command],
            env={"API_KEY": live_key, "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout
        for _ in range(2)
    ]  # fmt: skip
    first, second = (json.loads(answer) for answer in answers)
    assert first == second and first["client_order_id"] == "shop-10001"
    assert Order.objects.filter(customer=customer).count() == 1
