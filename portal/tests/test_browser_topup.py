"""In chromium: a customer on the phone layout asks for a top-up with a screenshot of the
transfer; finance approves it in the admin; the customer's balance and ledger show it; pressing
approve again (from a stale page) changes nothing.
"""

import io
import re
from decimal import Decimal

import pytest
from PIL import Image

from core.testing import logged_in_page, screenshot
from customers.tests.factories import StaffFactory, make_customer
from wallet.models import Entry, TopUpRequest
from wallet.selectors import balance_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_top_up_request_from_the_phone_approved_by_finance(browser, live_server, roles, language):
    customer = make_customer(username="topup-buyer", mobile="13700137000", name="演示客户")
    cashier = StaffFactory(username="cashier-b", role="财务")
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (20, 120, 200)).save(buffer, format="PNG")

    # --- the customer, on a phone ---------------------------------------------------------------
    phone = logged_in_page(browser, live_server, customer.user, "phone", language)
    phone.goto(live_server.url + "/portal/")
    phone.click(".navbar-toggler")
    phone.click("#nav-topups")
    expect(phone.locator("#topup-form")).to_be_visible()
    phone.fill("#id_amount", "250.00")
    phone.select_option("#id_method", "alipay")
    phone.fill("#id_payer", "zhang@example.com")
    phone.fill("#id_reference", "2026120222001400001")
    phone.set_input_files(
        "#id_proof", {"name": "转账截图.png", "mimeType": "image/png", "buffer": buffer.getvalue()}
    )
    phone.click("#topup-submit")
    expect(phone.locator("#messages .alert-success")).to_be_visible()
    card = phone.locator(".topup-card", has_text="2026120222001400001")
    expect(card.locator(".topup-status")).to_have_text(re.compile("待审核|Pending review"))
    assert fits(phone)
    screenshot(phone, f"portal-topup-pending-phone-{language}")
    request = TopUpRequest.objects.get()
    assert request.proof

    # --- finance, in the admin ----------------------------------------------------------------
    desk = logged_in_page(browser, live_server, cashier, "desktop", language)
    desk.goto(f"{live_server.url}/admin/wallet/topuprequest/")
    desk.click(f"a[href$='/admin/wallet/topuprequest/{request.pk}/change/']")
    expect(desk.locator("#topup-proof")).to_be_visible()
    # The proof image loads (through the finance-only view): its real width, once decoded.
    expect(desk.locator("#topup-proof")).to_have_js_property("naturalWidth", 40)
    screenshot(desk, f"admin-topup-request-{language}")
    desk.click("#topup-approve")
    expect(desk.locator(".alert-success, .messagelist .success").first).to_be_visible()
    assert balance_of(customer_id=customer.pk) == Decimal("250.00")

    # Approving again from the stale page: refused, nothing changes.
    desk.go_back()
    desk.reload()
    expect(desk.locator("#topup-approve")).to_have_count(0)
    desk.evaluate(
        "(url) => { const f = document.createElement('form'); f.method = 'post'; f.action = url;"
        " const t = document.createElement('input'); t.name = 'csrfmiddlewaretoken';"
        " t.value = document.querySelector('[name=csrfmiddlewaretoken]').value; f.append(t);"
        " document.body.append(f); f.submit(); }",
        f"/admin/wallet/topuprequest/{request.pk}/approve/",
    )
    expect(desk.locator(".alert-danger, .alert-error, .messagelist .error").first).to_be_visible()
    assert balance_of(customer_id=customer.pk) == Decimal("250.00")
    assert Entry.objects.filter(kind="recharge").count() == 1

    # --- the customer sees it ---------------------------------------------------------------
    phone.reload()
    expect(card.locator(".topup-status")).to_have_text(re.compile("已通过|Approved"))
    expect(phone.locator("#nav-balance")).to_contain_text("250.00")
    phone.goto(live_server.url + "/portal/transactions/")
    expect(phone.locator("#entry-cards .entry-card")).to_have_count(1)
    expect(phone.locator("#entry-cards")).to_contain_text("2026120222001400001")
    assert fits(phone)
    screenshot(phone, f"portal-topup-ledger-phone-{language}")
    phone.context.close()
    desk.context.close()
