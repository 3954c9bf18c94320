"""The quantity and amount corpus (issue 11) through the portal's order form and confirmation.

Quantities are whole ASCII numbers only; the confirmation's shown amount is read as strictly as
any amount, and a malformed one is a message on the confirmation, never a silent redisplay.
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.exceptions import QUANTITY_NOT_AN_INTEGER
from orders.forms import SHOWN_AMOUNT_INVALID
from orders.models import Order
from portal.tests.test_orders import confirm_page, confirm_post_data, order_data
from portal.views.orders import PRICE_CHANGED
from wallet.models import Entry
from wallet.selectors import balance_of
from wallet.tests.test_amount_corpus import CORPUS
from wallet.tests.test_properties import person_reads

pytestmark = pytest.mark.django_db

NEW = reverse("portal:order_new")
CONFIRM = reverse("portal:order_confirm")
QUOTE = reverse("portal:quote")
REFUSED_QUANTITIES = [*CORPUS, " 12 .5", "12 000", "-3", "1.0"]


def _written() -> tuple[int, int]:
    return Order.objects.count(), Entry.objects.count()


@pytest.mark.parametrize("typed", REFUSED_QUANTITIES)
def test_a_refused_quantity_is_a_field_error_on_the_form_and_writes_nothing(
    portal_client, service, typed
):
    before = _written()
    response = portal_client.post(NEW, order_data(service, quantity=typed))
    assert response.templates[0].name == "portal/order_form.html"
    assert str(QUANTITY_NOT_AN_INTEGER) in response.context["form"].errors["quantity"]
    quote = portal_client.get(QUOTE, {"service": service.pk, "quantity": typed}).json()
    assert quote["ok"] is False and quote["error"] == str(QUANTITY_NOT_AN_INTEGER)
    assert _written() == before


@pytest.mark.parametrize("typed", REFUSED_QUANTITIES)
def test_a_refused_quantity_posted_to_the_confirmation_writes_nothing(
    portal_client, service, typed
):
    _, page = confirm_page(portal_client, service, quantity="100")
    before = _written()
    response = portal_client.post(CONFIRM, confirm_post_data(page) | {"quantity": typed})
    assert response.templates[0].name == "portal/order_form.html"
    assert str(QUANTITY_NOT_AN_INTEGER) in response.context["form"].errors["quantity"]
    assert _written() == before


def test_a_quantity_with_spaces_around_is_the_number_a_person_reads(portal_client, service):
    _, page = confirm_page(portal_client, service, quantity=" 12 ")
    assert page.context["quote"].quantity == 12
    assert page.context["quote"].amount == Decimal("10.80")  # 12 × 1.00 × 90 %


@pytest.mark.parametrize("typed", list(CORPUS))
def test_the_amount_corpus_as_the_shown_amount_never_places_an_order(
    portal_client, customer, service, typed
):
    _, page = confirm_page(portal_client, service, quantity="100")  # 90.00
    before = _written()
    response = portal_client.post(CONFIRM, confirm_post_data(page) | {"shown_amount": typed})
    assert response.templates[0].name == "portal/order_confirm.html"
    # " 12.5 " (and forty nines) are well-formed amounts but not the price: the price changed.
    expected = PRICE_CHANGED if person_reads(typed) is not None else SHOWN_AMOUNT_INVALID
    assert response.context["notice"] == expected
    assert response.context["quote"].amount == Decimal("90.00")
    assert str(response.context["form"]["shown_amount"].value()) == "90.00"
    assert _written() == before
    assert balance_of(customer_id=customer.pk) == Decimal("1000.00")


@pytest.mark.parametrize("shown", ["", None])
def test_a_missing_shown_amount_is_a_message_not_a_silent_redisplay(portal_client, service, shown):
    _, page = confirm_page(portal_client, service, quantity="100")
    post = confirm_post_data(page)
    if shown is None:
        del post["shown_amount"]
    else:
        post["shown_amount"] = shown
    response = portal_client.post(CONFIRM, post)
    assert response.context["notice"] == SHOWN_AMOUNT_INVALID
    assert str(SHOWN_AMOUNT_INVALID) in response.content.decode()
    assert not Order.objects.exists()
    # Confirming the page shown then places the order at the amount on it.
    portal_client.post(CONFIRM, confirm_post_data(response))
    assert Order.objects.get().amount == Decimal("90.00")


@pytest.mark.parametrize("shown", ["90", " 90.00 ", "90.0", "0090.00"])
def test_the_shown_amount_in_any_strict_spelling_of_the_price_places(portal_client, service, shown):
    _, page = confirm_page(portal_client, service, quantity="100")
    response = portal_client.post(CONFIRM, confirm_post_data(page) | {"shown_amount": shown})
    assert response.status_code == 302
    assert Order.objects.get().amount == Decimal("90.00")
