"""Redis down (the hammer restarts it): the pages that use the cache as a shortcut — the admin
menu's pending top-ups, the agents warning, the dashboard figures, the portal's service
catalogue, the low-balance "no alert" memo — answer from the database, never 500."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from core.tests.test_health import UNREACHABLE_REDIS
from orders.models import Order
from orders.services import order_place

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client):
    user = get_user_model().objects.create_user("root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_admin_pages_answer_with_the_cache_down(root, customer, service):
    with override_settings(CACHES=UNREACHABLE_REDIS):
        for url in (
            "/admin/",
            f"/admin/customers/customer/{customer.pk}/recharge/",
            f"/admin/customers/customer/{customer.pk}/deduct/",
            "/admin/orders/order/",
            "/admin/wallet/topuprequest/",
        ):
            response = root.get(url)
            assert response.status_code == 200, url


def test_the_portal_orders_and_money_moves_with_the_cache_down(portal_client, customer, service):
    with override_settings(CACHES=UNREACHABLE_REDIS):
        assert portal_client.get("/portal/orders/new/").status_code == 200
        order = order_place(
            customer=customer,
            service=service,
            target="https://example.cn/p/1",
            quantity=10,
        )
    assert Order.objects.get(pk=order.pk).amount == Decimal("9.00")
