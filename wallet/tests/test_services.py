"""Wallet services: every movement writes one entry with the balance it left."""

from decimal import Decimal

import pytest

from customers.tests.factories import make_customer
from wallet.exceptions import (
    EntryImmutable,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    MemoRequired,
)
from wallet.models import Entry
from wallet.selectors import balance_of
from wallet.services import wallet_debit_order, wallet_deduct, wallet_recharge, wallet_refund_order

pytestmark = pytest.mark.django_db


def test_recharge_and_deduct_write_entries_with_balance_after():
    customer = make_customer()
    wallet_recharge(customer_id=customer.pk, amount="100.50", created_by=None, idempotency_key="k1")
    entry = wallet_deduct(
        customer_id=customer.pk, amount="0.50", created_by=None, idempotency_key="k2", memo="fix"
    )
    assert entry.amount == Decimal("-0.50")
    assert entry.balance_after == Decimal("100.00")
    assert balance_of(customer_id=customer.pk) == Decimal("100.00")
    assert customer.account.entries.count() == 2


def test_deduct_below_zero_is_refused_and_writes_nothing():
    customer = make_customer()
    wallet_recharge(customer_id=customer.pk, amount="10", created_by=None, idempotency_key="k1")
    with pytest.raises(InsufficientFunds):
        wallet_deduct(
            customer_id=customer.pk, amount="10.01", created_by=None, idempotency_key="k2", memo="x"
        )
    assert balance_of(customer_id=customer.pk) == Decimal("10.00")
    assert Entry.objects.count() == 1


@pytest.mark.parametrize("bad", ["-1", "0", "1.005", "abc", "1e30", "NaN", "Infinity", 1.5])
def test_bad_amounts_are_refused(bad):
    customer = make_customer()
    with pytest.raises(InvalidAmount):
        wallet_recharge(customer_id=customer.pk, amount=bad, created_by=None, idempotency_key="k")
    assert Entry.objects.count() == 0


def test_deduct_needs_a_memo():
    customer = make_customer()
    wallet_recharge(customer_id=customer.pk, amount="10", created_by=None, idempotency_key="k1")
    with pytest.raises(MemoRequired):
        wallet_deduct(
            customer_id=customer.pk, amount="1", created_by=None, idempotency_key="k2", memo="  "
        )


def test_replayed_key_writes_nothing_and_reused_key_is_refused():
    customer = make_customer()
    first = wallet_recharge(
        customer_id=customer.pk, amount="5", created_by=None, idempotency_key="same"
    )
    again = wallet_recharge(
        customer_id=customer.pk, amount="5", created_by=None, idempotency_key="same"
    )
    assert again.pk == first.pk
    with pytest.raises(IdempotencyConflict):
        wallet_recharge(
            customer_id=customer.pk, amount="6", created_by=None, idempotency_key="same"
        )
    assert balance_of(customer_id=customer.pk) == Decimal("5.00")


def test_an_order_is_refunded_at_most_once():
    customer = make_customer()
    wallet_recharge(customer_id=customer.pk, amount="10", created_by=None, idempotency_key="k1")
    wallet_debit_order(customer_id=customer.pk, amount=Decimal("4"), order_number="N1")
    wallet_refund_order(customer_id=customer.pk, amount=Decimal("4"), order_number="N1")
    with pytest.raises(IdempotencyConflict):
        wallet_refund_order(customer_id=customer.pk, amount=Decimal("1"), order_number="N1")
    assert balance_of(customer_id=customer.pk) == Decimal("10.00")


def test_entries_cannot_be_changed_or_deleted():
    customer = make_customer()
    entry = wallet_recharge(
        customer_id=customer.pk, amount="5", created_by=None, idempotency_key="k"
    )
    entry.memo = "edited"
    with pytest.raises(EntryImmutable):
        entry.save()
    with pytest.raises(EntryImmutable):
        entry.delete()
    with pytest.raises(EntryImmutable):
        Entry.objects.filter(pk=entry.pk).update(memo="x")
    with pytest.raises(EntryImmutable):
        Entry.objects.all().delete()
