"""Dashboard, live quote, placing (confirm, double submit, errors), listing, detail, cancel."""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Level
from customers.services import customer_set_level
from orders.models import Order
from orders.services import order_place
from portal.views.orders import ORDER_ALREADY_PLACED, PRICE_CHANGED
from wallet.models import Entry
from wallet.selectors import balance_of

pytestmark = pytest.mark.django_db

NEW = reverse("portal:order_new")
CONFIRM = reverse("portal:order_confirm")
LIST = reverse("portal:order_list")


def order_data(chosen, **overrides):
    data = {
        "service": chosen.pk,
        "target": "https://example.com/page",
        "quantity": "100",
        "idempotency_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def place(customer, service, quantity=10, target="https://example.com/x"):
    return order_place(customer=customer, service=service, target=target, quantity=quantity)


def test_dashboard(portal_client, customer, service):
    place(customer, service, quantity=100)  # 100 × 1.00 × 90% = 90.00
    response = portal_client.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "¥910.00" in body
    assert "黄金" in body
    assert response.context["status_counts"][0] == {
        "status": "pending",
        "label": response.context["status_counts"][0]["label"],
        "colour": "secondary",
        "count": 1,
    }
    assert len(response.context["recent_orders"]) == 1


def test_quote_json(portal_client, service):
    response = portal_client.get(
        reverse("portal:quote"), {"service": service.pk, "quantity": "1000"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "service": service.pk,
        "quantity": 1000,
        "unit_name": "次",
        "tier_quantity": 1000,
        "tier_price": "800.00",
        "unit_price": "0.800000",
        "list_price": "800.00",
        "level_percent": 90,
        "discount": "80.00",
        "amount": "720.00",
        "balance": "1000.00",
        "balance_after": "280.00",
        "sufficient": True,
    }


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"service": "", "quantity": "5"}, "service"),
        ({"service": "999999", "quantity": "5"}, "service"),
        ({"service": "x", "quantity": "5"}, "service"),
        ({"quantity": "abc"}, "whole number"),
        ({"quantity": "0"}, "between"),
        ({"quantity": "100001"}, "between"),
    ],
)
def test_quote_errors(portal_client, service, params, fragment):
    params = {"service": service.pk, **params}
    portal_client.cookies["django_language"] = "en"
    response = portal_client.get(reverse("portal:quote"), params)
    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert fragment in response.json()["error"]


def test_quote_insufficient_balance_is_flagged(portal_client, service):
    data = portal_client.get(
        reverse("portal:quote"), {"service": service.pk, "quantity": "2000"}
    ).json()
    assert data["amount"] == "1440.00"
    assert data["balance_after"] == "-440.00"
    assert data["sufficient"] is False


def test_quote_needs_login(client, service):
    response = client.get(reverse("portal:quote"), {"service": service.pk, "quantity": "1"})
    assert response.status_code == 302


def test_new_order_form(portal_client, service):
    response = portal_client.get(NEW)
    assert response.status_code == 200
    form = response.context["form"]
    uuid.UUID(str(form.initial["idempotency_key"]))
    assert 'name="idempotency_key"' in response.content.decode()
    assert service.name in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"service": ""}, "service"),
        ({"service": "999999"}, "service"),
        ({"target": ""}, "target"),
        ({"target": "not a url"}, "target"),
        ({"quantity": ""}, "quantity"),
        ({"quantity": "1.5"}, "quantity"),
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "100001"}, "quantity"),
    ],
)
def test_new_order_errors_are_shown_on_the_form(portal_client, customer, service, overrides, field):
    response = portal_client.post(NEW, order_data(service, **overrides))
    assert response.status_code == 200
    assert response.templates[0].name == "portal/order_form.html"
    assert field in response.context["form"].errors
    assert "is-invalid" in response.content.decode()
    assert not Order.objects.exists()


def test_inactive_service_cannot_be_ordered(portal_client, service):
    service.is_active = False
    service.save()
    response = portal_client.post(NEW, order_data(service))
    assert "service" in response.context["form"].errors


def test_insufficient_funds_on_the_form(portal_client, customer, service):
    response = portal_client.post(NEW, order_data(service, quantity="2000"))
    assert response.templates[0].name == "portal/order_form.html"
    errors = response.context["form"].non_field_errors()
    assert errors and "1440.00" in errors[0]
    assert not Order.objects.exists()


def confirm_page(client, service, **overrides):
    data = order_data(service, **overrides)
    response = client.post(NEW, data)
    assert response.templates[0].name == "portal/order_confirm.html", response.context[
        "form"
    ].errors
    return data, response


def confirm_post_data(response) -> dict:
    form = response.context["form"]
    return {name: form[name].value() for name in form.fields}


def test_confirmation_shows_exactly_what_will_be_charged(portal_client, customer, service):
    _, response = confirm_page(portal_client, service, quantity="100")
    body = response.content.decode()
    assert "¥100.00" in body  # list price
    assert "¥90.00" in body  # to pay
    assert "¥910.00" in body  # balance after
    assert not Order.objects.exists()  # nothing is placed before the confirmation


def test_confirm_places_one_order_and_charges_the_shown_amount(portal_client, customer, service):
    _, page = confirm_page(portal_client, service, quantity="100")
    post = confirm_post_data(page)
    response = portal_client.post(CONFIRM, post)
    order = Order.objects.get()
    assert response["Location"] == reverse("portal:order_detail", args=[order.number])
    assert order.amount == Decimal("90.00")
    assert order.created_by == customer.user
    assert balance_of(customer_id=customer.pk) == Decimal("910.00")
    # A double submit (same confirmation posted again) finds the same order.
    again = portal_client.post(CONFIRM, post, follow=True)
    assert Order.objects.count() == 1
    assert balance_of(customer_id=customer.pk) == Decimal("910.00")
    assert str(ORDER_ALREADY_PLACED % {"number": order.number}) in [
        str(m) for m in again.context["messages"]
    ]


def test_changed_order_with_the_same_form_key_is_a_new_order(portal_client, customer, service):
    data, page = confirm_page(portal_client, service, quantity="100")
    portal_client.post(CONFIRM, confirm_post_data(page))
    # Back, change the quantity, confirm again: a second, different order.
    _, page = confirm_page(
        portal_client, service, quantity="50", idempotency_key=data["idempotency_key"]
    )
    portal_client.post(CONFIRM, confirm_post_data(page))
    assert sorted(Order.objects.values_list("quantity", flat=True)) == [50, 100]


@pytest.mark.parametrize("change", ["level", "tier price"])
def test_price_change_between_review_and_confirm_asks_again(
    portal_client, customer, service, change
):
    _, page = confirm_page(portal_client, service, quantity="100")  # 90.00 shown
    if change == "level":
        customer_set_level(
            customer=customer, level=Level.objects.create(name="普通", discount_percent=100)
        )
        new_amount = Decimal("100.00")
    else:
        service.tiers.filter(quantity=1).update(price=Decimal("1.50"))
        new_amount = Decimal("135.00")  # 100 × 1.50 × 90 %
    entries = Entry.objects.count()
    response = portal_client.post(CONFIRM, confirm_post_data(page))
    assert response.templates[0].name == "portal/order_confirm.html"
    assert response.context["notice"] == PRICE_CHANGED
    assert response.context["quote"].amount == new_amount
    assert f"¥{new_amount}" in response.content.decode()
    assert not Order.objects.exists() and Entry.objects.count() == entries
    assert balance_of(customer_id=customer.pk) == Decimal("1000.00")
    portal_client.post(CONFIRM, confirm_post_data(response))
    assert Order.objects.get().amount == new_amount


def test_insufficient_funds_at_confirm_is_a_form_error(portal_client, customer, service):
    _, page = confirm_page(portal_client, service, quantity="1000")  # 720.00
    place(customer, service, quantity=500)  # 450.00 spent elsewhere meanwhile
    response = portal_client.post(CONFIRM, confirm_post_data(page))
    assert response.templates[0].name == "portal/order_form.html"
    assert "720.00" in response.context["form"].non_field_errors()[0]
    assert Order.objects.count() == 1


def test_tampered_confirmation_is_a_form_error(portal_client, service):
    _, page = confirm_page(portal_client, service)
    post = confirm_post_data(page) | {"quantity": "0"}
    response = portal_client.post(CONFIRM, post)
    assert "quantity" in response.context["form"].errors
    assert not Order.objects.exists()


def test_change_button_returns_to_the_filled_form(portal_client, service):
    _, page = confirm_page(portal_client, service, quantity="77")
    response = portal_client.post(NEW, confirm_post_data(page) | {"edit": "1"})
    assert response.templates[0].name == "portal/order_form.html"
    assert response.context["form"]["quantity"].value() == "77"
    assert not response.context["form"].errors


def test_order_list_search_filters_and_pagination(portal_client, customer, service, settings):
    settings.PORTAL_PAGE_SIZE = 2
    from orders.tests.factories import ServiceFactory

    other_service = ServiceFactory(name="其他服务")
    orders = [place(customer, service, target=f"https://shop.example/{n}") for n in range(5)]
    odd = place(customer, other_service, target="https://odd.example/")
    response = portal_client.get(LIST)
    assert response.context["page"].paginator.count == 6
    assert [o.number for o in portal_client.get(LIST, {"q": orders[2].number}).context["page"]] == [
        orders[2].number
    ]
    assert [o.pk for o in portal_client.get(LIST, {"q": "odd.example"}).context["page"]] == [odd.pk]
    by_service = portal_client.get(LIST, {"service": service.pk, "page": 2})
    assert by_service.context["page"].paginator.count == 5
    body = by_service.content.decode()
    assert f"service={service.pk}&amp;page=3" in body  # next link keeps the filter
    assert f"service={service.pk}&amp;page=1" in body
    assert portal_client.get(LIST, {"status": "completed"}).context["page"].paginator.count == 0
    assert portal_client.get(LIST, {"status": "pending"}).context["page"].paginator.count == 6


def test_order_list_date_filters(portal_client, customer, service):
    from datetime import timedelta

    from django.utils import timezone

    old = place(customer, service)
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    new = place(customer, service)
    today = timezone.localdate()
    response = portal_client.get(LIST, {"date_from": today.isoformat()})
    assert [o.pk for o in response.context["page"]] == [new.pk]
    response = portal_client.get(LIST, {"date_to": (today - timedelta(days=5)).isoformat()})
    assert [o.pk for o in response.context["page"]] == [old.pk]


def test_order_list_bad_filters_are_form_errors(portal_client, customer, service):
    place(customer, service)
    response = portal_client.get(LIST, {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert "date_to" in response.context["form"].errors
    response = portal_client.get(LIST, {"status": "bogus", "date_from": "yesterday"})
    assert {"status", "date_from"} <= response.context["form"].errors.keys()
    assert response.context["page"].paginator.count == 0


def test_order_detail_shows_timeline_and_money(portal_client, customer, service):
    order = place(customer, service, quantity=100)
    response = portal_client.get(reverse("portal:order_detail", args=[order.number]))
    assert response.status_code == 200
    assert [e.to_status for e in response.context["events"]] == ["pending"]
    assert [e.kind for e in response.context["entries"]] == [Entry.Kind.ORDER_DEBIT]
    assert response.context["can_cancel"] is True


def test_cancel_confirm_then_post_refunds(portal_client, customer, service):
    order = place(customer, service, quantity=100)
    url = reverse("portal:order_cancel", args=[order.number])
    page = portal_client.get(url)
    assert page.status_code == 200
    assert page.context["balance_after"] == Decimal("1000.00")
    order.refresh_from_db()
    assert order.status == "pending"  # the GET changed nothing
    response = portal_client.post(url)
    assert response["Location"] == reverse("portal:order_detail", args=[order.number])
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert balance_of(customer_id=customer.pk) == Decimal("1000.00")
    detail = portal_client.get(response["Location"])
    assert [e.to_status for e in detail.context["events"]] == ["pending", "cancelled"]
    assert detail.context["can_cancel"] is False


def test_cancel_of_a_non_pending_order_is_refused(portal_client, customer, service):
    order = place(customer, service)
    Order.objects.filter(pk=order.pk).update(status="running")
    url = reverse("portal:order_cancel", args=[order.number])
    assert portal_client.get(url)["Location"] == reverse("portal:order_detail", args=[order.number])
    response = portal_client.post(url, follow=True)
    assert any(
        "cannot" in str(m) or "不能" in str(m) or "no longer" in str(m)
        for m in response.context["messages"]
    )
    order.refresh_from_db()
    assert order.status == "running"
    assert balance_of(customer_id=customer.pk) == Decimal("1000.00") - order.amount


def test_order_list_offers_cancel_only_on_pending_orders(portal_client, customer, service):
    pending = place(customer, service)
    running = place(customer, service)
    Order.objects.filter(pk=running.pk).update(status="running")
    body = portal_client.get(LIST).content.decode()
    assert reverse("portal:order_cancel", args=[pending.number]) in body
    assert reverse("portal:order_cancel", args=[running.number]) not in body
