"""The demo loader for orders: two services with tiers, sample orders, idempotent."""

from decimal import Decimal
from io import StringIO
from types import SimpleNamespace

import pytest

from demo import orders as demo_orders
from orders.models import Order, Service
from orders.pricing import price
from orders.tests.conftest import funded_customer
from wallet.selectors import balance_of

pytestmark = pytest.mark.django_db


def _command():
    return SimpleNamespace(stdout=StringIO(), stderr=StringIO())


def test_demo_services_and_orders_load_once():
    rich = funded_customer(balance="500.00", percent=90)
    poor = funded_customer(balance="1.00")
    demo_orders.load(_command())
    demo_orders.load(_command())

    video = Service.objects.get(name="视频播放量")
    assert video.backend == "simulated" and video.target_kind == "url"
    assert [(t.quantity, t.price) for t in video.tiers.order_by("quantity")] == [
        (1000, Decimal("8.00")),
        (10_000, Decimal("70.00")),
        (100_000, Decimal("600.00")),
    ]
    assert price(service=video, quantity=10_000, level_percent=90).amount == Decimal("63.00")
    assert Service.objects.get(name="账号粉丝").target_kind == "pattern"

    assert Order.objects.filter(customer=rich).count() == 2  # once, however often loaded
    assert not Order.objects.filter(customer=poor).exists()
    # 5000 plays at 0.008 = 40.00, 500 followers at 0.05 = 25.00; 90 % of 65.00 = 58.50
    assert balance_of(customer_id=rich.pk) == Decimal("441.50")
