"""The amount corpus (issue 11) through the real 充值/扣款 forms: each page and each bulk action.

Refused input shows the form again with the amount's message and writes nothing; the one
well-formed entry moves exactly the amount a person reads.
"""

from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from customers.tests.factories import make_customer
from wallet.exceptions import AMOUNT_NOT_A_NUMBER, AMOUNT_TOO_LARGE, AMOUNT_TOO_PRECISE
from wallet.models import Entry
from wallet.selectors import balance_of
from wallet.services import wallet_recharge

pytestmark = pytest.mark.django_db

LIST = reverse("admin:customers_customer_changelist")

# What was typed → what a person reads (None: refused). Shared with the order forms' tests.
CORPUS = {
    "1,5": None,  # decimal comma: never fifteen (nor one and a half)
    "10,5": None,
    "1_000": None,
    "1e3": None,
    "1E5": None,
    "１００": None,  # full-width digits
    " 12.5 ": Decimal("12.50"),
    ".5": None,  # refused by choice: type 0.5
    "5.": None,  # refused by choice: type 5 or 5.50
    "+5": None,
    "0x10": None,
    "NaN": None,
    "Infinity": None,
    "9" * 40: None,
    "1.005": None,
    "1.000": None,
    "¥100": None,
    "100元": None,
    "\u3000100": None,  # an ideographic space is not an ASCII space
    "1 000": None,
}


def amount_messages() -> set[str]:
    """Every message the amount parser shows for refused text (in the active language)."""
    too_large = str(AMOUNT_TOO_LARGE) % {"limit": settings.WALLET_MAX_SINGLE_AMOUNT}
    return {str(AMOUNT_NOT_A_NUMBER), str(AMOUNT_TOO_PRECISE), too_large}


def _shows_amount_error(response) -> bool:
    errors = set(response.context["form"].errors.get("amount", []))
    return response.status_code == 200 and bool(errors & amount_messages())


def _funded():
    customer = make_customer()
    wallet_recharge(
        customer_id=customer.pk, amount="100.00", created_by=None, idempotency_key=f"f{customer.pk}"
    )
    return customer


def _single_page(client, operation, customer, amount):
    url = reverse(f"admin:customers_customer_{operation}", args=[customer.pk])
    key = client.get(url).context["form"]["request_key"].value()
    data = {"amount": amount, "memo": "备注", "request_key": key, "payment_method": "bank_transfer"}
    return client.post(url, data)


def _bulk_action(client, operation, customers, amount):
    selection = {"action": f"{operation}_selected", ACTION_CHECKBOX_NAME: [c.pk for c in customers]}
    key = client.post(LIST, selection).context["form"]["request_key"].value()
    data = {**selection, "apply": "1", "amount": amount, "memo": "备注", "request_key": key}
    data["payment_method"] = "bank_transfer"
    return client.post(LIST, data)


@pytest.mark.parametrize("typed", list(CORPUS))
@pytest.mark.parametrize("operation", ["recharge", "deduct"])
@pytest.mark.parametrize("way", ["page", "bulk"])
def test_the_corpus_through_the_money_forms(client, finance, typed, operation, way):
    customers = [_funded(), _funded()] if way == "bulk" else [_funded()]
    client.force_login(finance)
    entries_before = Entry.objects.count()

    if way == "page":
        response = _single_page(client, operation, customers[0], typed)
    else:
        response = _bulk_action(client, operation, customers, typed)

    expected = CORPUS[typed]
    if expected is None:
        assert _shows_amount_error(response), response.context["form"].errors
        assert Entry.objects.count() == entries_before
        assert all(balance_of(customer_id=c.pk) == Decimal("100.00") for c in customers)
        return
    assert response.status_code == 302
    assert Entry.objects.count() == entries_before + len(customers)
    sign = 1 if operation == "recharge" else -1
    for customer in customers:
        assert balance_of(customer_id=customer.pk) == Decimal("100.00") + sign * expected
