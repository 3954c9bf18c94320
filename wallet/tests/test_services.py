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
    RefundNotAllowed,
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
    with pytest.raises(EntryImmutable):  # Django's internal manager too
        Entry._base_manager.filter(pk=entry.pk).update(memo="x")
    with pytest.raises(EntryImmutable):
        customer.account.entries.all().delete()
    assert Entry.objects.get(pk=entry.pk).memo == ""
    with pytest.raises(EntryImmutable):  # last: it spoils the test's transaction
        Entry.objects.bulk_update([entry], ["memo"])


def test_a_refund_needs_the_orders_debit_on_the_same_account():
    payer, stranger = make_customer(), make_customer()
    for c in (payer, stranger):
        wallet_recharge(customer_id=c.pk, amount="10", created_by=None, idempotency_key=f"s{c.pk}")
    with pytest.raises(RefundNotAllowed):
        wallet_refund_order(customer_id=payer.pk, amount=Decimal("1"), order_number="NEVER")
    wallet_debit_order(customer_id=payer.pk, amount=Decimal("4"), order_number="N2")
    with pytest.raises(RefundNotAllowed):  # another customer's order
        wallet_refund_order(customer_id=stranger.pk, amount=Decimal("4"), order_number="N2")
    with pytest.raises(RefundNotAllowed):  # more than was paid
        wallet_refund_order(customer_id=payer.pk, amount=Decimal("4.01"), order_number="N2")
    assert Entry.objects.filter(kind__in=["refund", "cancel_refund"]).count() == 0
    refund = wallet_refund_order(
        customer_id=payer.pk,
        amount=Decimal("1.50"),
        order_number="N2",
        kind=Entry.Kind.CANCEL_REFUND,
    )
    assert (refund.kind, refund.amount, refund.balance_after) == (
        "cancel_refund",
        Decimal("1.50"),
        Decimal("7.50"),
    )


def test_an_order_is_debited_at_most_once():
    customer = make_customer()
    wallet_recharge(customer_id=customer.pk, amount="10", created_by=None, idempotency_key="k")
    first = wallet_debit_order(customer_id=customer.pk, amount=Decimal("3"), order_number="D1")
    again = wallet_debit_order(customer_id=customer.pk, amount=Decimal("3"), order_number="D1")
    assert again.pk == first.pk
    with pytest.raises(IdempotencyConflict):
        wallet_debit_order(customer_id=customer.pk, amount=Decimal("2"), order_number="D1")
    assert balance_of(customer_id=customer.pk) == Decimal("7.00")


def test_a_key_used_for_one_customer_is_refused_for_another():
    first, second = make_customer(), make_customer()
    wallet_recharge(customer_id=first.pk, amount="5", created_by=None, idempotency_key="shared")
    with pytest.raises(IdempotencyConflict):
        wallet_recharge(
            customer_id=second.pk, amount="5", created_by=None, idempotency_key="shared"
        )
    assert balance_of(customer_id=second.pk) == Decimal("0.00")


def test_amounts_over_the_configured_limit_are_refused(settings):
    settings.WALLET_MAX_SINGLE_AMOUNT = Decimal("500.00")
    customer = make_customer()
    wallet_recharge(customer_id=customer.pk, amount="500", created_by=None, idempotency_key="a")
    with pytest.raises(InvalidAmount):
        wallet_recharge(
            customer_id=customer.pk, amount="500.01", created_by=None, idempotency_key="b"
        )
    assert Entry.objects.count() == 1


def test_a_customer_without_an_account_gets_one_on_first_use():
    customer = make_customer()
    customer.account.delete()  # as after a bulk import that skipped signals
    wallet_recharge(customer_id=customer.pk, amount="3", created_by=None, idempotency_key="k")
    assert balance_of(customer_id=customer.pk) == Decimal("3.00")


def test_the_database_refuses_a_negative_balance_even_without_the_service():
    from django.db import IntegrityError, transaction

    from wallet.models import Account

    customer = make_customer()
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(customer=customer).update(balance=Decimal("-0.01"))


def test_deadlocks_are_recognised_by_code():
    from django.db import OperationalError

    from wallet.services import _is_deadlock

    assert _is_deadlock(OperationalError(1213, "Deadlock found when trying to get lock"))
    assert not _is_deadlock(OperationalError(1205, "Lock wait timeout exceeded"))
    assert not _is_deadlock(OperationalError("database is locked"))


@pytest.mark.parametrize(
    ("typed", "parsed"), [(" 0.01 ", "0.01"), ("100", "100.00"), ("9.5", "9.50")]
)
def test_amounts_as_staff_type_them(typed, parsed):
    from wallet.money import parse_amount

    assert parse_amount(typed) == Decimal(parsed)


@pytest.mark.parametrize("typed", ["¥100", "￥1,234.5", "88元", "1,234.50"])
def test_currency_signs_and_separators_are_refused_not_guessed(typed):
    from wallet.exceptions import AMOUNT_NOT_A_NUMBER, InvalidAmount
    from wallet.money import parse_amount

    with pytest.raises(InvalidAmount) as refused:
        parse_amount(typed)
    assert str(refused.value) == str(AMOUNT_NOT_A_NUMBER)
