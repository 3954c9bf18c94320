"""WCAG AA contrast on the main admin pages, light and dark, measured in Debian's chromium.

Every visible piece of text — status badges of every colour included — is checked against the
background it is drawn on (core/tests/js/contrast.js).
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.testing import contrast_failures, login_as, new_page, screenshot
from customers.tests.factories import StaffFactory
from orders.models import Order
from orders.services import (
    order_cancel,
    order_complete,
    order_fail,
    order_partial,
    order_place,
    order_start,
)
from orders.tests.conftest import funded_customer
from orders.tests.factories import ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _orders_in_every_status(admin):
    customer = funded_customer(username="alice", name="爱丽丝")
    service = ServiceFactory(name="视频播放量")
    made = [
        order_place(customer=customer, service=service, target=f"https://v.cn/{n}", quantity=10)
        for n in range(6)
    ]
    lease = timezone.now() + timedelta(minutes=5)
    for order in made[1:5]:
        order_start(order=order, agent="t", lease_until=lease)
    order_complete(order=Order.objects.get(pk=made[2].pk), agent="t")
    order_partial(order=Order.objects.get(pk=made[3].pk), delivered=5, agent="t")
    order_fail(order=Order.objects.get(pk=made[4].pk), agent="t")
    order_cancel(order=made[5], actor=admin)
    return customer, made


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_main_admin_pages_meet_wcag_aa_contrast(browser, live_server, roles, scheme):
    admin = StaffFactory(username="root", is_superuser=True)
    customer, orders = _orders_in_every_status(admin)
    assert len({o.status for o in Order.objects.all()}) == 6
    page = new_page(browser, live_server, color_scheme=scheme)
    page.goto(f"{live_server.url}/admin/login/")
    failures = {"login": contrast_failures(page)}
    login_as(page, live_server, admin)
    pages = {
        "index": "/admin/",
        "customers": "/admin/customers/customer/",
        "customer": f"/admin/customers/customer/{customer.pk}/change/",
        "orders": "/admin/orders/order/",
        "order": f"/admin/orders/order/{orders[3].pk}/change/",
        "ledger": "/admin/wallet/entry/",
        "services": "/admin/orders/service/",
        "not-found": "/admin/no-such-page/",
    }
    for name, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        failures[name] = contrast_failures(page)
        if name == "orders":
            assert page.locator("#result_list .badge:not(.customer-link)").count() == 6
            screenshot(page, f"a11y-orders-{scheme}")
    bad = {name: found for name, found in failures.items() if found}
    assert bad == {}


LISTS = [
    "customers/customer",
    "customers/level",
    "orders/order",
    "orders/service",
    "orders/agent",
    "wallet/entry",
    "auth/user",
    "auth/group",
    "axes/accessattempt",
    "axes/accesslog",
    "axes/accessfailurelog",
]


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_every_list_renders_labelled_filters_in_one_form(browser, live_server, roles, locale):
    """A screenshot of each list; on each, every filter control and the search box belong to
    the one filter form, and every filter has a visible label."""
    admin = StaffFactory(username="root", is_superuser=True)
    _orders_in_every_status(admin)
    page = new_page(browser, live_server, locale=locale)
    login_as(page, live_server, admin)
    for path in LISTS:
        response = page.goto(f"{live_server.url}/admin/{path}/")
        assert response.status == 200, path
        outside = page.evaluate(
            "[...document.querySelectorAll('#change-list-filters input, #change-list-filters select')]"
            ".filter(e => e.form === null).map(e => e.name || e.id)"
        )
        assert outside == [], (path, outside)
        labels = page.locator("#changelist-search .core-filter-label")
        assert all(text.strip() for text in labels.all_inner_texts()), path
        assert page.locator("#changelist-search form").count() == 0, path
        screenshot(page, f"list-{path.replace('/', '-')}-{locale}")
