"""The order, service and agent lists in Debian's chromium, used with the page's own controls.

A person types into the search box and presses Enter, picks filters from their dropdowns,
types an amount range, clicks a date preset, and pages on; each step checks the rows the page
then shows. Nothing here builds a URL by hand.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from core.testing import (
    choose_filter,
    click_preset,
    fill_range,
    list_rows,
    login_as,
    new_page,
    next_page,
    screenshot,
    search_list,
    submit_filters,
)
from customers.tests.factories import StaffFactory
from orders.admin.agents import AgentAdmin
from orders.admin.orders import OrderAdmin
from orders.admin.services import ServiceAdmin
from orders.models import Agent, Order, Service
from orders.services import order_fail, order_place, order_start
from orders.tests.conftest import funded_customer
from orders.tests.factories import ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NUMBER = re.compile(r"\b\d{18,24}\b")
LIST = "/admin/orders/order/"


def _numbers(page) -> set[str]:
    return {m for row in list_rows(page) for m in NUMBER.findall(row)}


def _fail(order: Order) -> Order:
    order_start(order=order, agent="t", lease_until=timezone.now() + timedelta(minutes=5))
    return order_fail(order=Order.objects.get(pk=order.pk), agent="t", message="supplier said no")


def _age(order: Order, days: int) -> None:
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=days))


@pytest.fixture
def book(roles):
    """Two managers with a customer each; failed, pending and old orders on two services."""
    m1 = StaffFactory(username="mgr1", role="客户经理")
    m2 = StaffFactory(username="mgr2", role="客户经理")
    alpha = funded_customer(username="alpha", name="阿尔法", account_manager=m1)
    beta = funded_customer(username="beta", name="贝塔", account_manager=m2)
    video = ServiceFactory(name="视频播放量")
    likes = ServiceFactory(name="点赞")

    def place(customer, service, quantity, key):
        return order_place(
            customer=customer, service=service, target=f"https://v.cn/{key}", quantity=quantity
        )

    orders = {
        "a_fail_new": _fail(place(alpha, video, 10, "a1")),
        "a_fail_old": _fail(place(alpha, video, 12, "a2")),
        "a_pending": place(alpha, likes, 15, "a3"),
        "a_pending2": place(alpha, likes, 30, "a4"),
        "b_fail_new": _fail(place(beta, video, 11, "b1")),
        "b_pending": place(beta, likes, 25, "b2"),
    }
    _age(orders["a_fail_old"], 10)
    _age(orders["a_pending2"], 3)
    return {"m1": m1, "m2": m2, "alpha": alpha, "beta": beta, **orders}


def _labels():
    field = Order._meta.get_field
    return {
        "status": str(field("status").verbose_name),
        "service": str(field("service").verbose_name),
        "amount": str(field("amount").verbose_name),
        "created": str(field("created_at").verbose_name),
        "failed": str(Order.Status.FAILED.label),
        "pending": str(Order.Status.PENDING.label),
    }


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_order_control_works_and_survives_paging(
    browser, live_server, book, monkeypatch, language
):
    monkeypatch.setattr(OrderAdmin, "list_per_page", 2)
    admin = StaffFactory(username="root", is_superuser=True)
    page = new_page(browser, live_server, locale="en-US" if language == "en" else "zh-CN")
    login_as(page, live_server, admin)
    with translation.override(language):
        label = _labels()
        presets = {"week": translation.gettext("Last 7 days")}
    number = {key: order.number for key, order in book.items() if isinstance(order, Order)}
    page.goto(f"{live_server.url}{LIST}")
    assert page.evaluate("document.querySelector('#searchbar').form.id") == "changelist-search"
    screenshot(page, f"orders-list-{language}")

    # Search: type a username and press Enter.
    search_list(page, "alpha")
    assert _numbers(page) <= {number[k] for k in number if k.startswith("a_")}
    assert page.locator("#searchbar").input_value() == "alpha"

    # Clicking 搜索 works too: the customer's mobile, typed.
    search_list(page, book["beta"].mobile, press_enter=False)
    assert _numbers(page) == {number["b_fail_new"], number["b_pending"]}

    # Each filter from its control: status, then service, then the amount range.
    search_list(page, "")
    choose_filter(page, label["status"], label["failed"])
    submit_filters(page)
    assert _numbers(page) | set() <= {
        number["a_fail_new"],
        number["a_fail_old"],
        number["b_fail_new"],
    }
    assert all(label["failed"] in row for row in list_rows(page))

    page.goto(f"{live_server.url}{LIST}")
    choose_filter(page, label["service"], "点赞")
    submit_filters(page)
    assert _numbers(page) <= {number["a_pending"], number["a_pending2"], number["b_pending"]}

    page.goto(f"{live_server.url}{LIST}")
    fill_range(page, label["amount"], "11.00", "12.00")
    submit_filters(page)
    assert _numbers(page) == {number["a_fail_old"], number["b_fail_new"]}
    assert page.get_by_role("group", name=label["amount"]).locator("input").nth(
        0
    ).input_value() in (
        "11.00",
        "11",
    )

    # A date preset, then typing a date range.
    page.goto(f"{live_server.url}{LIST}")
    click_preset(page, label["created"], presets["week"])
    shown = _numbers(page)
    page_two = set()
    if page.locator(".pagination .next a.page-link").count():
        next_page(page)
        page_two = _numbers(page)
    assert number["a_fail_old"] not in shown | page_two
    today = timezone.localdate()
    page.goto(f"{live_server.url}{LIST}")
    old = (today - timedelta(days=10)).isoformat()
    fill_range(page, label["created"], old, old)
    submit_filters(page)
    assert _numbers(page) == {number["a_fail_old"]}

    # Sorted by amount, then two filters and a preset combined; the next page keeps them all.
    page.goto(f"{live_server.url}{LIST}")
    choose_filter(page, label["status"], label["failed"])
    click_preset(page, label["created"], presets["week"])
    assert _numbers(page) == {number["a_fail_new"], number["b_fail_new"]}
    page.goto(f"{live_server.url}{LIST}")
    with page.expect_navigation():
        page.locator("#result_list thead th a", has_text=label["amount"]).first.click()
    choose_filter(page, label["status"], label["pending"])
    fill_range(page, label["amount"], "10", "100")
    click_preset(page, label["created"], presets["week"])
    first = _numbers(page)
    assert len(first) == 2
    next_page(page)
    url = page.url
    for part in ("status__exact=pending", "amount__range__gte=10", "created_at__range__gte=", "o="):
        assert part in url, (part, url)
    second = _numbers(page)
    assert first | second == {number["a_pending"], number["a_pending2"], number["b_pending"]}
    assert not first & second
    amounts = [book[k].amount for k in ("a_pending", "a_pending2", "b_pending")]
    assert max(amounts) > min(amounts)
    # The controls still show what is applied.
    assert label["pending"] in page.locator(".core-select-filter").first.inner_text()
    screenshot(page, f"orders-list-filtered-{language}")


def test_an_account_manager_finds_a_customers_recent_failed_orders(browser, live_server, book):
    page = new_page(browser, live_server)
    login_as(page, live_server, book["m1"])
    label = _labels()
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="订单", exact=True).first.click()
    page.wait_for_load_state()
    assert "贝塔" not in page.locator("#result_list").inner_text()
    choose_filter(page, label["status"], label["failed"])
    click_preset(page, label["created"], "最近 7 天")
    assert _numbers(page) == {book["a_fail_new"].number}
    assert "阿尔法" in page.locator("#result_list").inner_text()
    assert "贝塔" not in page.content()
    # Searching for the other manager's customer by name finds nothing.
    search_list(page, "贝塔")
    assert _numbers(page) == set()
    screenshot(page, "orders-manager-failed-7-days")


def test_support_finds_an_order_by_the_start_of_its_number_and_opens_it(browser, live_server, book):
    support = StaffFactory(username="helpdesk", role="客服")
    page = new_page(browser, live_server)
    login_as(page, live_server, support)
    page.goto(f"{live_server.url}{LIST}")
    wanted = book["b_pending"].number
    others = {o.number for o in Order.objects.exclude(pk=book["b_pending"].pk)}
    prefix = next(
        wanted[:n]
        for n in range(8, len(wanted))
        if not any(o.startswith(wanted[:n]) for o in others)
    )
    search_list(page, prefix)
    assert _numbers(page) == {wanted}
    page.get_by_role("link", name=wanted).click()
    page.wait_for_load_state()
    assert f"/admin/orders/order/{book['b_pending'].pk}/change/" in page.url
    assert wanted in page.locator("main").inner_text()
    screenshot(page, "orders-support-opened")


def test_service_and_agent_lists_search_filter_and_page(browser, live_server, roles, monkeypatch):
    monkeypatch.setattr(ServiceAdmin, "list_per_page", 2)
    monkeypatch.setattr(AgentAdmin, "list_per_page", 1)
    for n in range(3):
        ServiceFactory(name=f"播放{n}", is_active=n != 1)
    ServiceFactory(name="粉丝", is_active=True)
    now = timezone.now()
    for n, host in enumerate(["web1", "web1", "web2"]):
        Agent.objects.create(name=f"agent-{n}", hostname=host, pid=100 + n, last_heartbeat_at=now)
    admin = StaffFactory(username="root", is_superuser=True)
    page = new_page(browser, live_server)
    login_as(page, live_server, admin)

    page.goto(f"{live_server.url}/admin/orders/service/")
    search_list(page, "播放")
    assert len(list_rows(page)) == 2 and all("播放" in r for r in list_rows(page))
    next_page(page)
    assert "q=" in page.url and len(list_rows(page)) == 1
    active = str(Service._meta.get_field("is_active").verbose_name)
    choose_filter(page, active, "是")
    submit_filters(page)
    rows = list_rows(page)
    assert rows and all("播放1" not in r for r in rows)
    assert "is_active__exact=1" in page.url and "q=%E6%92%AD%E6%94%BE" in page.url
    screenshot(page, "orders-services")

    page.goto(f"{live_server.url}/admin/orders/agent/")
    search_list(page, "agent")
    choose_filter(page, str(Agent._meta.get_field("hostname").verbose_name), "web1")
    submit_filters(page)
    assert len(list_rows(page)) == 1
    next_page(page)
    assert len(list_rows(page)) == 1 and "hostname=web1" in page.url and "q=agent" in page.url
    assert all("web2" not in r for r in list_rows(page))
    screenshot(page, "orders-agents")
