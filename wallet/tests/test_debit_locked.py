"""wallet_debit_order_locked: the debit on an account its caller has locked (order_place)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from customers.tests.factories import make_customer
from wallet.exceptions import InsufficientFunds
from wallet.models import Account, Entry
from wallet.selectors import balance_of
from wallet.services import (
    account_lock,
    wallet_debit_order,
    wallet_debit_order_locked,
    wallet_recharge,
)
from wallet.signals import balance_changed

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    customer = make_customer()
    wallet_recharge(customer_id=customer.pk, amount="10", created_by=None, idempotency_key="r")
    return customer


def test_debits_the_locked_account_and_sends_balance_changed(customer):
    sent = []

    def receiver(sender, account, before, after, entry, **kwargs):
        sent.append((account.pk, before, after, entry.pk))

    balance_changed.connect(receiver)
    try:
        with transaction.atomic():
            account = account_lock(customer_id=customer.pk)
            entry = wallet_debit_order_locked(account=account, amount="2.50", order_number="N1")
    finally:
        balance_changed.disconnect(receiver)
    assert (entry.kind, entry.amount, entry.balance_after) == (
        Entry.Kind.ORDER_DEBIT,
        Decimal("-2.50"),
        Decimal("7.50"),
    )
    assert entry.idempotency_key == "debit:N1" and entry.replayed is False
    assert sent == [(account.pk, Decimal("10.00"), Decimal("7.50"), entry.pk)]
    assert account.balance == Decimal("7.50") == balance_of(customer_id=customer.pk)


def test_its_entry_replays_like_the_ordinary_debit(customer):
    """Same fingerprint as wallet_debit_order: a later ordinary call with the key replays."""
    with transaction.atomic():
        account = account_lock(customer_id=customer.pk)
        first = wallet_debit_order_locked(account=account, amount="2.50", order_number="N1")
    again = wallet_debit_order(customer_id=customer.pk, amount="2.50", order_number="N1")
    assert (again.pk, again.replayed) == (first.pk, True)
    assert balance_of(customer_id=customer.pk) == Decimal("7.50")


def test_a_repeated_key_is_refused_by_the_unique_index_and_nothing_is_written(customer):
    wallet_debit_order(customer_id=customer.pk, amount="1.00", order_number="N1")
    with pytest.raises(IntegrityError), transaction.atomic():
        account = account_lock(customer_id=customer.pk)
        wallet_debit_order_locked(account=account, amount="1.00", order_number="N1")
    assert Entry.objects.filter(kind=Entry.Kind.ORDER_DEBIT).count() == 1
    assert balance_of(customer_id=customer.pk) == Decimal("9.00")


def test_insufficient_funds_is_refused(customer):
    with pytest.raises(InsufficientFunds), transaction.atomic():
        account = account_lock(customer_id=customer.pk)
        wallet_debit_order_locked(account=account, amount="10.01", order_number="N1")
    assert balance_of(customer_id=customer.pk) == Decimal("10.00")
    assert not Entry.objects.filter(kind=Entry.Kind.ORDER_DEBIT).exists()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_refuses(customer):
    account = Account.objects.get(customer=customer)  # autocommit: nothing holds a lock
    with pytest.raises(transaction.TransactionManagementError):
        wallet_debit_order_locked(account=account, amount="1", order_number="N2")
    assert balance_of(customer_id=customer.pk) == Decimal("10.00")
