"""In Debian's chromium: staff open the dashboard, click its figures, and each list shows
exactly the rows (or the total) the figure said — for the superuser and an account manager."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from backoffice.tests.conftest import PASSWORD
from backoffice.tests.figures import ledger_figure, parse_totals
from core.testing import admin_login, new_page, screenshot
from orders.models import Agent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUPERUSER_FIGURES = [
    "placed-today",
    "completed-today",
    "partial-today",
    "failed-today",
    "cancelled-today",
    "placed_amount-today",
    "refunds-today",
    "net_sales-today",
    "recharges-today",
    "deductions-today",
    "net_sales-month",
    "balance_held",
    "pending",
    "running",
    "agents_alive",
    "finished_last_hour",
    "failed_24h",
    "attempted_24h",
    "low_balance",
    "top-1",
    "top-2",
]


def business(staff, book, activity):
    """The day so far: orders placed, cancelled, completed and failed, and a recharge."""
    alice, amy, bob = book["alice"], book["amy"], book["bob"]
    orders = [activity.place(c) for c in (alice, alice, alice, amy, bob, bob)]
    activity.cancel(orders[0], by=staff["support"])
    activity.complete(orders[1])
    activity.complete(orders[4])
    activity.fail(orders[3])
    activity.partial(activity.place(bob, quantity=10_000))
    activity.start(activity.place(amy))
    activity.recharge(bob, "1500.50", by=staff["finance"])
    activity.deduct(alice, "950.00", by=staff["finance"])  # alice drops below ¥100
    # An agent alive for the whole test (a real one beats every few seconds).
    soon = timezone.now() + timedelta(minutes=30)
    Agent.objects.create(name="agent-1", hostname="worker-1", pid=4242, last_heartbeat_at=soon)


def login(browser, live_server, username: str, size: str = "desktop"):
    page = new_page(browser, live_server, size)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    admin_login(page, live_server, username, PASSWORD)
    return page, errors


def what_the_list_shows(page, name: str):
    """The count of rows, or for the ledger the figure its totals stand for."""
    if "/admin/wallet/entry/" in page.url:
        credit, debit, net = parse_totals(page.locator(".ledger-totals").inner_text())
        return ledger_figure(name, credit, debit, net)
    return page.locator("#result_list tbody tr").count()


def click_each_figure(page, live_server, names: list[str]) -> dict[str, str]:
    """Click each figure on the dashboard; the list it opens must show that figure."""
    seen = {}
    for name in names:
        figure = page.locator(f'[data-figure="{name}"]')
        raw = figure.get_attribute("data-value")
        figure.click()
        page.wait_for_load_state()
        assert "/admin/" in page.url and page.url != f"{live_server.url}/admin/"
        shown = what_the_list_shows(page, name)
        expected = Decimal(raw) if isinstance(shown, Decimal) else int(raw)
        assert shown == expected, (name, page.url, shown, raw)
        seen[name] = raw
        page.go_back()
        page.locator("#dashboard").wait_for()
    return seen


def test_each_figure_equals_the_list_it_opens(browser, live_server, staff, book, activity):
    business(staff, book, activity)

    # The superuser: every kind of figure, clicked.
    page, errors = login(browser, live_server, "root")
    assert page.locator("#dashboard").is_visible()
    for chart in ("dashboard-chart-orders", "dashboard-chart-money"):
        assert page.evaluate(f"() => !!Chart.getChart(document.getElementById('{chart}'))")
    screenshot(page, "dashboard-superuser-zh-hans")
    seen = click_each_figure(page, live_server, SUPERUSER_FIGURES)
    assert seen["placed-today"] == "8" and seen["cancelled-today"] == "1"
    assert seen["completed-today"] == "2" and seen["recharges-today"] == "4500.50"
    assert seen["low_balance"] == "1" and seen["agents_alive"] == "1"
    assert "¥4,500.50" in page.locator('[data-figure="recharges-today"]').inner_text()
    # The oldest pending order opens that order.
    page.locator('[data-figure="oldest_pending"]').click()
    page.wait_for_url("**/admin/orders/order/*/change/")
    assert errors == []

    # The same dashboard in English, and on a phone.
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/admin/")
    assert "Orders placed" in page.locator("#dashboard").inner_text()
    screenshot(page, "dashboard-superuser-en")
    phone, phone_errors = login(browser, live_server, "root", size="phone")
    phone.locator("#dashboard").wait_for()
    screenshot(phone, "dashboard-superuser-phone")
    assert phone_errors == []

    # An account manager: only alice's and amy's orders, no money, every figure clicked.
    page, errors = login(browser, live_server, "manager1")
    text = page.locator("#dashboard").inner_text()
    assert "¥" not in text and page.locator("#dashboard-chart-money").count() == 0
    screenshot(page, "dashboard-manager-zh-hans")
    names = [
        n
        for n in page.locator("#dashboard [data-figure]").evaluate_all(
            "els => els.map(e => e.dataset.figure)"
        )
        if n != "oldest_pending"
    ]
    seen = click_each_figure(page, live_server, names)
    assert seen["placed-today"] == "5"  # alice ×3, amy ×2 — bob's three are not counted
    page.locator('[data-figure="placed-today"]').click()
    page.wait_for_load_state()
    assert "Bob" not in page.locator("#result_list").inner_text()
    assert errors == []
