"""The list range filters (core/filters.py) on the order list: inclusive end dates in the
user's time zone, exact decimals, and bad input told, ignored, never a 500."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Order
from orders.services import order_place
from orders.tests.conftest import funded_customer
from orders.tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

LIST = reverse("admin:orders_order_changelist")


@pytest.fixture
def orders(admin_user, client):
    client.force_login(admin_user)
    customer = funded_customer(username="kay")
    service = ServiceFactory(name="播放")
    made = [
        order_place(customer=customer, service=service, target=f"https://v.cn/{n}", quantity=q)
        for n, q in enumerate((10, 20, 30))
    ]
    # Late on 1 December and early on 2 December 2025, Shanghai time, and a week before.
    tz = timezone.get_current_timezone()
    when = [datetime(2025, 12, 1, 23, 59, 30), datetime(2025, 12, 2, 0, 0, 10)]
    when.append(datetime(2025, 11, 24, 12, 0))
    for order, moment in zip(made, when, strict=True):
        Order.objects.filter(pk=order.pk).update(created_at=timezone.make_aware(moment, tz))
    return made


def _numbers(response) -> set[str]:
    assert response.status_code == 200
    return {o.number for o in response.context["cl"].result_list}


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_end_date_is_inclusive_in_the_users_time_zone(client, orders):
    day = {"created_at__range__gte": "2025-12-01", "created_at__range__lte": "2025-12-01"}
    assert _numbers(client.get(LIST, day)) == {orders[0].number}
    day = {"created_at__range__gte": "2025-12-02", "created_at__range__lte": "2025-12-02"}
    assert _numbers(client.get(LIST, day)) == {orders[1].number}


def test_amounts_are_exact_decimals(client, orders):
    amounts = sorted(o.amount for o in orders)
    low = {"amount__range__gte": str(amounts[1]), "amount__range__lte": str(amounts[1])}
    assert _numbers(client.get(LIST, low)) == {o.number for o in orders if o.amount == amounts[1]}
    assert amounts[0] < amounts[1] < amounts[2] and isinstance(amounts[0], Decimal)


@pytest.mark.parametrize(
    "params",
    [
        {"created_at__range__gte": "yesterday"},
        {"created_at__range__lte": "2026-13-45"},
        {"amount__range__gte": "-5"},
        {"amount__range__lte": "1.234"},
        {"amount__range__gte": "abc"},
    ],
)
def test_a_bad_bound_is_reported_and_ignored(client, orders, params):
    response = client.get(LIST, params)
    assert _numbers(response) == {o.number for o in orders}
    (message,) = [m for m in _messages(response) if "无效" in m]
    assert next(iter(params.values())) in message


def test_a_reversed_range_says_so(client, orders):
    today = timezone.localdate()
    params = {
        "created_at__range__gte": today.isoformat(),
        "created_at__range__lte": (today - timedelta(days=3)).isoformat(),
    }
    response = client.get(LIST, params)
    assert _numbers(response) == set()
    assert any("开始晚于结束" in m for m in _messages(response))


def test_the_presets_are_links_that_keep_the_other_filters(client, orders):
    html = client.get(LIST, {"status__exact": "pending", "q": "kay"}).content.decode()
    today = timezone.localdate()
    week = f"created_at__range__gte={(today - timedelta(days=6)).isoformat()}"
    assert week in html and "status__exact=pending" in html
    for label in ("今天", "最近 7 天", "最近 30 天", "本月"):
        assert label in html
    assert "<form" not in html.split('id="changelist-search"')[1].split("</form>")[0]
