"""Staff place an order for a customer: form, quote to confirm, one order however often posted."""

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.services import customer_set_level
from customers.tests.factories import LevelFactory, StaffFactory
from orders.admin.orders import ALREADY_PLACED
from orders.exceptions import PRICE_CHANGED, QUANTITY_NOT_AN_INTEGER
from orders.forms import CUSTOMER_NOT_FOUND, SERVICE_CHOICE_INVALID, SHOWN_AMOUNT_INVALID
from orders.models import Order
from orders.tests.conftest import funded_customer, grant
from orders.tests.factories import ServiceFactory
from wallet.models import Entry
from wallet.selectors import balance_of
from wallet.tests.test_amount_corpus import CORPUS
from wallet.tests.test_properties import person_reads

pytestmark = pytest.mark.django_db

PLACE = reverse("admin:orders_order_place")


@pytest.fixture
def customer(db):
    return funded_customer(percent=85, balance="100.00", username="carol", mobile="13700001111")


def _form(client, **fields):
    """The form as the GET shows it, with ``fields`` filled in."""
    page = client.get(PLACE)
    assert page.status_code == 200
    key = page.context["form"]["idempotency_key"].value()
    return {"idempotency_key": key, "memo": "", **fields}


def _confirmation(client, data) -> dict:
    """Show the price for ``data`` and return what the page's confirm button posts back."""
    page = client.post(PLACE, data)
    assert page.context["confirm"] is True, page.context["form"].errors
    hidden = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.content.decode())
    return {**{name: html.unescape(value) for name, value in hidden}, "_confirm": "1"}


def test_quote_then_confirm_charges_the_exact_discounted_amount(client, admin_user, customer):
    client.force_login(admin_user)
    service = ServiceFactory(tiers=[(1, "1.00"), (1000, "800.00")])
    data = _form(
        client, customer="carol", service=service.pk, target="https://v.cn/1", quantity="1500"
    )

    quote = client.post(PLACE, data)
    assert quote.status_code == 200
    assert quote.context["confirm"] is True
    # 1500 × 0.80 = 1200.00 list; 85 % → 1020.00 > 100.00: shown as insufficient, nothing placed
    assert quote.context["quote"].amount == Decimal("1020.00")
    assert Order.objects.count() == 0

    data["quantity"] = "101"  # 101 × 1.00 = 101.00 list; 85 % = 85.85
    quote = client.post(PLACE, data)
    html = quote.content.decode()
    assert quote.context["quote"].list_price == Decimal("101.00")
    assert quote.context["quote"].discount == Decimal("15.15")
    assert quote.context["balance_after"] == Decimal("14.15")
    assert "85.85" in html and "14.15" in html
    assert Order.objects.count() == 0

    confirmed = _confirmation(client, data)
    assert confirmed["shown_amount"] == "85.85"
    placed = client.post(PLACE, confirmed)
    assert placed.status_code == 302
    order = Order.objects.get()
    assert placed["Location"] == reverse("admin:orders_order_change", args=[order.pk])
    assert (order.amount, order.created_by, order.customer) == (
        Decimal("85.85"),
        admin_user,
        customer,
    )
    assert balance_of(customer_id=customer.pk) == Decimal("14.15")

    # the confirm button pressed twice (or the page reloaded) places nothing more
    again = client.post(PLACE, confirmed, follow=True)
    replayed = ALREADY_PLACED % {"number": order.number, "customer": customer, "balance": "14.15"}
    assert str(replayed) in [str(m) for m in again.context["messages"]]
    assert Order.objects.count() == 1
    assert Entry.objects.filter(kind=Entry.Kind.ORDER_DEBIT).count() == 1
    assert balance_of(customer_id=customer.pk) == Decimal("14.15")


def test_customer_found_by_mobile_or_id(client, admin_user, customer):
    client.force_login(admin_user)
    service = ServiceFactory()
    for ref in ("137 0000 1111", "+8613700001111", str(customer.pk)):
        data = _form(client, customer=ref, service=service.pk, target="https://a.cn", quantity="3")
        assert client.post(PLACE, data).context["form"].cleaned_data["customer"] == customer


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"customer": "nobody"}, "customer", CUSTOMER_NOT_FOUND),
        ({"service": "999999"}, "service", SERVICE_CHOICE_INVALID),
        ({"target": "not a url"}, "target", "http"),
        ({"quantity": "2.5"}, "quantity", QUANTITY_NOT_AN_INTEGER),
        ({"quantity": "-1"}, "quantity", QUANTITY_NOT_AN_INTEGER),
        ({"quantity": "100001"}, "quantity", "100000"),
    ],
)
def test_bad_input_is_a_form_error_and_nothing_is_written(
    client, admin_user, customer, change, field, message
):
    client.force_login(admin_user)
    service = ServiceFactory()
    data = _form(client, customer="carol", service=service.pk, target="https://a.cn", quantity="3")
    data.update(change)
    response = client.post(PLACE, {**data, "_confirm": "1"})
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert any(str(message) in e for e in errors), errors
    assert Order.objects.count() == 0
    assert balance_of(customer_id=customer.pk) == Decimal("100.00")


def test_inactive_service_is_not_offered(client, admin_user, customer):
    client.force_login(admin_user)
    service = ServiceFactory(is_active=False)
    data = _form(client, customer="carol", service=service.pk, target="https://a.cn", quantity="3")
    response = client.post(PLACE, {**data, "_confirm": "1"})
    assert SERVICE_CHOICE_INVALID in response.context["form"].errors["service"]
    assert Order.objects.count() == 0


def test_insufficient_funds_at_confirm_is_a_message_and_nothing_is_written(
    client, admin_user, customer
):
    client.force_login(admin_user)
    service = ServiceFactory(tiers=[(1, "1.00")])
    data = _form(
        client, customer="carol", service=service.pk, target="https://a.cn", quantity="200"
    )
    response = client.post(PLACE, _confirmation(client, data))
    assert response.status_code == 200
    assert "100.00" in " ".join(response.context["form"].non_field_errors())
    assert Order.objects.count() == 0
    assert balance_of(customer_id=customer.pk) == Decimal("100.00")


def test_placing_needs_the_permission_and_a_visible_customer(client, roles, customer):
    nobody = grant(StaffFactory(), "orders.view_order")
    client.force_login(nobody)
    assert client.get(PLACE).status_code == 403
    assert "place/" not in client.get(reverse("admin:orders_order_changelist")).content.decode()

    manager = grant(StaffFactory(role="客户经理"), "orders.view_order", "orders.place_order")
    client.force_login(manager)
    service = ServiceFactory()
    data = _form(client, customer="carol", service=service.pk, target="https://a.cn", quantity="3")
    response = client.post(PLACE, {**data, "_confirm": "1"})
    assert CUSTOMER_NOT_FOUND in response.context["form"].errors["customer"]
    assert Order.objects.count() == 0


REFUSED_QUANTITIES = [*CORPUS, "-1", "2.5", "1.0", "12 000"]


@pytest.mark.parametrize("typed", REFUSED_QUANTITIES)
@pytest.mark.parametrize("button", [{}, {"_confirm": "1"}])
def test_the_corpus_as_a_quantity_is_refused_and_writes_nothing(
    client, admin_user, customer, typed, button
):
    client.force_login(admin_user)
    service = ServiceFactory(tiers=[(1, "1.00")])
    data = _form(
        client, customer="carol", service=service.pk, target="https://a.cn", quantity=typed
    )
    entries = Entry.objects.count()
    response = client.post(PLACE, {**data, **button})
    assert response.status_code == 200 and response.context["confirm"] is False
    assert str(QUANTITY_NOT_AN_INTEGER) in response.context["form"].errors["quantity"]
    assert Order.objects.count() == 0 and Entry.objects.count() == entries


def test_a_quantity_with_spaces_around_is_the_number_a_person_reads(client, admin_user, customer):
    client.force_login(admin_user)
    service = ServiceFactory(tiers=[(1, "1.00")])
    data = _form(
        client, customer="carol", service=service.pk, target="https://a.cn", quantity=" 12 "
    )
    client.post(PLACE, _confirmation(client, data))
    assert Order.objects.get().quantity == 12


@pytest.mark.parametrize("typed", [*CORPUS, "", "10.20"])
def test_a_malformed_or_other_shown_amount_is_a_message_and_writes_nothing(
    client, admin_user, customer, typed
):
    client.force_login(admin_user)
    service = ServiceFactory(tiers=[(1, "1.00")])
    data = _form(client, customer="carol", service=service.pk, target="https://a.cn", quantity="12")
    confirmed = _confirmation(client, data)  # 12 × 1.00 × 85 % = 10.20
    assert confirmed["shown_amount"] == "10.20"
    entries = Entry.objects.count()
    response = client.post(PLACE, {**confirmed, "shown_amount": typed})
    if typed == "10.20":
        assert response.status_code == 302
        assert Order.objects.get().amount == Decimal("10.20")
        return
    assert response.status_code == 200 and response.context["confirm"] is True
    wellformed = person_reads(typed) is not None
    notice = response.context["notice"]
    assert notice == (
        str(PRICE_CHANGED % {"amount": "10.20"}) if wellformed else SHOWN_AMOUNT_INVALID
    )
    assert str(notice) in response.content.decode()
    assert Order.objects.count() == 0 and Entry.objects.count() == entries


@pytest.mark.parametrize("change", ["tier price", "level"])
def test_a_price_change_after_the_quote_is_refused_and_the_new_price_shown(
    client, admin_user, customer, change
):
    client.force_login(admin_user)
    service = ServiceFactory(tiers=[(1, "1.00")])
    data = _form(client, customer="carol", service=service.pk, target="https://a.cn", quantity="20")
    confirmed = _confirmation(client, data)  # 20 × 1.00 × 85 % = 17.00
    assert confirmed["shown_amount"] == "17.00"
    if change == "tier price":
        service.tiers.update(price=Decimal("2.00"))  # 20 × 2.00 × 85 % = 34.00
        new_amount = "34.00"
    else:
        customer_set_level(customer=customer, level=LevelFactory(discount_percent=100))
        new_amount = "20.00"
    entries = Entry.objects.count()

    response = client.post(PLACE, confirmed)
    assert response.status_code == 200 and response.context["confirm"] is True
    assert response.context["notice"] == str(PRICE_CHANGED % {"amount": new_amount})
    assert response.context["quote"].amount == Decimal(new_amount)
    assert f'id="quote-amount">{new_amount}<' in response.content.decode()
    assert Order.objects.count() == 0 and Entry.objects.count() == entries
    assert balance_of(customer_id=customer.pk) == Decimal("100.00")

    # The page now shows (and posts back) the new price; confirming it places at that price.
    again = _confirmation(client, data)
    assert again["shown_amount"] == new_amount
    assert client.post(PLACE, again).status_code == 302
    assert Order.objects.get().amount == Decimal(new_amount)
    assert balance_of(customer_id=customer.pk) == Decimal("100.00") - Decimal(new_amount)
