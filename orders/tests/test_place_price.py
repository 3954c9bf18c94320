"""order_place charges the amount the person confirmed, or nothing (issue 11, item 2).

The amount is compared under the account lock, after the customer, level, service and tiers are
read there; a repeated idempotency key is found under the same lock, before the price.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.services import customer_set_level
from customers.tests.factories import LevelFactory
from orders.exceptions import PRICE_CHANGED, PriceChanged
from orders.models import Order, OrderEvent
from orders.services import order_place, order_quote
from orders.tests.conftest import funded_customer
from orders.tests.factories import ServiceFactory
from wallet.models import Entry
from wallet.selectors import balance_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return funded_customer(percent=90, balance="100.00")


@pytest.fixture
def service():
    return ServiceFactory(tiers=[(1, "1.00"), (100, "80.00")])


def _place(customer, service, **kwargs):
    return order_place(
        customer=customer, service=service, target="https://a.cn", quantity=10, **kwargs
    )


def _nothing_written(customer):
    assert not Order.objects.exists() and not OrderEvent.objects.exists()
    assert not Entry.objects.exclude(kind=Entry.Kind.RECHARGE).exists()
    assert balance_of(customer_id=customer.pk) == Decimal("100.00")


def test_the_confirmed_amount_is_charged(customer, service):
    order = _place(customer, service, expected_amount=Decimal("9.00"))  # 10 × 1.00 × 90 %
    assert order.amount == Decimal("9.00") and order.replayed is False
    assert balance_of(customer_id=customer.pk) == Decimal("91.00")


@pytest.mark.parametrize(
    ("change", "new_amount"),
    [
        (lambda c, s: s.tiers.filter(quantity=1).update(price=Decimal("1.20")), "10.80"),
        (lambda c, s: s.tiers.create(quantity=10, price=Decimal("5.00")), "4.50"),  # cheaper too
        (
            lambda c, s: customer_set_level(customer=c, level=LevelFactory(discount_percent=100)),
            "10.00",
        ),
        (
            lambda c, s: c.level.__class__.objects.filter(pk=c.level_id).update(
                discount_percent=50
            ),
            "5.00",
        ),
    ],
    ids=["tier price", "new tier", "level", "level percent"],
)
def test_a_changed_price_is_refused_with_the_new_one_and_nothing_written(
    customer, service, change, new_amount
):
    confirmed = order_quote(customer=customer, service=service, quantity=10).amount
    assert confirmed == Decimal("9.00")
    change(customer, service)
    with pytest.raises(PriceChanged) as refused:
        _place(customer, service, expected_amount=confirmed)
    assert refused.value.amount == Decimal(new_amount) == refused.value.quote.amount
    assert str(refused.value) == str(PRICE_CHANGED) % {"amount": new_amount}
    _nothing_written(customer)


def test_without_an_expected_amount_the_current_price_is_charged(customer, service):
    """Code that prices and places at once (the agent's tests, the demo) passes no amount."""
    service.tiers.filter(quantity=1).update(price=Decimal("2.00"))
    assert _place(customer, service).amount == Decimal("18.00")


def test_a_repeated_key_finds_the_first_order_even_after_a_price_change(customer, service):
    first = _place(customer, service, expected_amount=Decimal("9.00"), idempotency_key="form-1")
    service.tiers.filter(quantity=1).update(price=Decimal("3.00"))
    again = _place(customer, service, expected_amount=Decimal("9.00"), idempotency_key="form-1")
    assert (again.pk, again.replayed, again.amount) == (first.pk, True, Decimal("9.00"))
    assert Entry.objects.filter(kind=Entry.Kind.ORDER_DEBIT).count() == 1
    assert balance_of(customer_id=customer.pk) == Decimal("91.00")


# Statements of one order_place (issue 16), every one the backend logs, BEGIN and COMMIT included:
# BEGIN, the account lock with the customer's active flag and level (scalar subqueries), the
# service joined with its tiers, the order, the balance, the entry, the event, COMMIT = 8; a key
# adds its look-up under the lock. PostgreSQL reads the customer in its own statement after the
# lock (its snapshot predates the lock wait): one more. Never raise these numbers.
STATEMENTS_WITHOUT_KEY = 8
STATEMENTS_WITH_KEY = 9


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("key", "budget"), [(None, STATEMENTS_WITHOUT_KEY), ("k", STATEMENTS_WITH_KEY)]
)
def test_statements_of_one_order_place(customer, service, key, budget):
    _place(customer, service, idempotency_key="warm-up")  # first-use work (account, caches)
    with CaptureQueriesContext(connection) as captured:
        order = _place(customer, service, expected_amount=Decimal("9.00"), idempotency_key=key)
    statements = [q["sql"] for q in captured.captured_queries]
    if connection.vendor == "postgresql":
        budget += 1
    assert len(statements) == budget, "\n".join(statements)
    assert statements[0].startswith("BEGIN") and statements[-1] == "COMMIT", statements
    assert not [sql for sql in statements if "SAVEPOINT" in sql]
    if connection.features.has_select_for_update:  # SQLite: BEGIN IMMEDIATE is the lock
        assert sum(" FOR UPDATE" in sql for sql in statements) == 1  # the account, once
    assert not [sql for sql in statements if "wallet_entry" in sql and sql.startswith("SELECT")]
    assert (order.amount, order.replayed) == (Decimal("9.00"), False)
    assert balance_of(customer_id=customer.pk) == Decimal("82.00")


def test_balance_changed_is_sent_once_from_the_debit_inside_the_transaction(customer, service):
    from django.db import transaction

    from wallet.signals import balance_changed

    sent = []

    def receiver(sender, account, before, after, entry, **kwargs):
        sent.append(
            (before, after, entry.order_number, transaction.get_connection().in_atomic_block)
        )

    balance_changed.connect(receiver)
    try:
        order = _place(customer, service, expected_amount=Decimal("9.00"))
    finally:
        balance_changed.disconnect(receiver)
    assert sent == [(Decimal("100.00"), Decimal("91.00"), order.number, True)]
