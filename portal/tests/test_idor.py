"""A customer can never see or touch another customer's orders or money."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Order, OrderEvent
from orders.services import order_place
from wallet.models import Entry
from wallet.selectors import balance_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def bobs_order(other_customer, service):
    return order_place(
        customer=other_customer, service=service, target="https://bob.example/", quantity=10
    )


def snapshot():
    return (
        list(Order.objects.values_list("pk", "status", "amount")),
        OrderEvent.objects.count(),
        Entry.objects.count(),
    )


@pytest.mark.parametrize("key", ["number", "pk"])
def test_other_customers_order_page_is_404(portal_client, bobs_order, key):
    ident = str(getattr(bobs_order, key))
    assert portal_client.get(reverse("portal:order_detail", args=[ident])).status_code == 404


@pytest.mark.parametrize("key", ["number", "pk"])
def test_other_customers_cancel_is_404_and_changes_nothing(
    portal_client, bobs_order, other_customer, key
):
    before = snapshot()
    url = reverse("portal:order_cancel", args=[str(getattr(bobs_order, key))])
    assert portal_client.get(url).status_code == 404
    assert portal_client.post(url).status_code == 404
    assert snapshot() == before
    assert balance_of(customer_id=other_customer.pk) == Decimal("491.00")


def test_other_customers_order_in_ledger_filter_or_export_is_404(portal_client, bobs_order):
    for name in ("portal:transaction_list", "portal:transaction_export"):
        response = portal_client.get(reverse(name), {"order": bobs_order.number})
        assert response.status_code == 404


def test_exports_never_contain_another_customers_rows(portal_client, customer, bobs_order):
    for name, param in (
        ("portal:order_export", {"q": bobs_order.number}),
        ("portal:order_export", {"customer": bobs_order.customer_id}),
        ("portal:transaction_export", {"customer": bobs_order.customer_id}),
        ("portal:transaction_export", {"account": bobs_order.customer_id}),
    ):
        response = portal_client.get(reverse(name), param)
        text = b"".join(response.streaming_content).decode()
        assert bobs_order.number not in text
        assert "bob.example" not in text
        assert "491.00" not in text


def test_lists_and_search_only_show_own_orders(portal_client, bobs_order):
    response = portal_client.get(reverse("portal:order_list"), {"q": bobs_order.number})
    assert response.context["page"].paginator.count == 0
    response = portal_client.get(reverse("portal:order_list"), {"q": "bob.example"})
    assert response.context["page"].paginator.count == 0
    dashboard = portal_client.get(reverse("portal:dashboard"))
    assert all(row["count"] == 0 for row in dashboard.context["status_counts"])


def test_quote_uses_the_logged_in_customers_level(portal_client, customer, other_customer, service):
    from customers.models import Level
    from customers.services import customer_set_level

    customer_set_level(
        customer=other_customer, level=Level.objects.create(name="钻石", discount_percent=50)
    )
    data = portal_client.get(
        reverse("portal:quote"),
        {"service": service.pk, "quantity": "100", "customer": other_customer.pk},
    ).json()
    assert data["level_percent"] == 90
    assert data["balance"] == "1000.00"
