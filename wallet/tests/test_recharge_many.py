"""``wallet_recharge_many``: many recharges in one transaction with the single recharge's rules
and keys — all or none, replayed once, a handful of statements however many lines."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from customers.tests.factories import make_customer
from wallet.audit import audit_chain, audit_drifts
from wallet.exceptions import (
    DuplicatePaymentReference,
    IdempotencyConflict,
    InvalidAmount,
    LineRefused,
)
from wallet.models import Entry
from wallet.selectors import balance_of
from wallet.services import (
    RechargeLine,
    wallet_deduct,
    wallet_recharge,
    wallet_recharge_many,
)
from wallet.signals import balance_changed


def lines_for(customers, per_customer: int, *, prefix: str = "k") -> list[RechargeLine]:
    return [
        RechargeLine(
            customer_id=c.pk,
            amount=f"{n + 1}.25",
            idempotency_key=f"{prefix}:{c.pk}:{n}",
            memo=f"row {n}",
            payment_method="bank_transfer",
            payment_reference=f"{prefix}-{c.pk}-{n}",
        )
        for c in customers
        for n in range(per_customer)
    ]


def many(lines, actor=None):
    with transaction.atomic():
        return wallet_recharge_many(lines=lines, created_by=actor)


@pytest.mark.django_db
def test_writes_one_entry_per_line_and_each_balance_once():
    customers = [make_customer() for _ in range(3)]
    wallet_recharge(
        customer_id=customers[0].pk, amount="10.00", created_by=None, idempotency_key="first"
    )
    written = many(lines_for(customers, 4))
    assert len(written) == 12 and not any(e.replayed for e in written)
    expected_each = sum(Decimal(f"{n + 1}.25") for n in range(4))  # 11.00
    assert balance_of(customer_id=customers[0].pk) == Decimal("10.00") + expected_each
    assert balance_of(customer_id=customers[1].pk) == expected_each
    last = Entry.objects.filter(account__customer=customers[0]).order_by("-id").first()
    assert (
        last.balance_after == Decimal("21.00")
        and last.payment_reference == f"K-{customers[0].pk}-3"
    )
    assert not audit_drifts() and not audit_chain()


@pytest.mark.django_db
def test_statements_do_not_grow_with_the_lines():
    customers = [make_customer() for _ in range(5)]
    many(lines_for(customers, 1, prefix="warm"))  # accounts exist, as in a real batch

    def count(lines) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            many(lines)
        inserts = sum(q["sql"].lstrip().upper().startswith("INSERT") for q in queries)
        return len(queries) - inserts, inserts

    (few, few_inserts) = count(lines_for(customers, 2, prefix="a"))
    (lots, lots_inserts) = count(lines_for(customers, 40, prefix="b"))
    # two savepoints, the account lock, keys, references, one UPDATE per account; not per line
    assert lots == few, (few, lots)
    assert lots <= 7 + len(customers)
    # one multi-row INSERT (SQLite splits 200 rows by its bound-variable limit)
    assert few_inserts == 1 and lots_inserts <= 3


@pytest.mark.django_db
def test_the_same_lines_again_replay_and_change_nothing():
    customers = [make_customer() for _ in range(2)]
    lines = lines_for(customers, 3)
    first = many(lines)
    again = many(lines)
    assert all(e.replayed for e in again)
    assert [e.pk for e in again] == [e.pk for e in first]
    assert Entry.objects.count() == 6
    assert balance_of(customer_id=customers[0].pk) == Decimal("6.75")


@pytest.mark.django_db
def test_a_key_reused_for_another_amount_refuses_every_line():
    customer = make_customer()
    many(lines_for([customer], 1))
    changed = RechargeLine(
        customer_id=customer.pk, amount="99.00", idempotency_key=f"k:{customer.pk}:0"
    )
    fresh = lines_for([make_customer()], 2, prefix="new")
    with pytest.raises(LineRefused) as refused:
        many([*fresh, changed])
    assert refused.value.index == 2 and isinstance(refused.value.reason, IdempotencyConflict)
    assert Entry.objects.count() == 1  # the fresh lines were not written either


@pytest.mark.django_db
def test_a_reference_already_in_the_ledger_is_named_and_nothing_written():
    customers = [make_customer() for _ in range(2)]
    earlier = wallet_recharge(
        customer_id=customers[0].pk,
        amount="5.00",
        created_by=None,
        idempotency_key="single",
        payment_method="bank_transfer",
        payment_reference=f"k-{customers[1].pk}-1",
    )
    with pytest.raises(LineRefused) as refused:
        many(lines_for(customers, 2))
    assert refused.value.index == 3
    assert isinstance(refused.value.reason, DuplicatePaymentReference)
    # The message names the reference and the earlier entry.
    assert refused.value.reason.params["entry"] == earlier.pk
    assert f"K-{customers[1].pk}-1" in refused.value.message
    assert Entry.objects.count() == 1
    assert balance_of(customer_id=customers[1].pk) == Decimal("0.00")


@pytest.mark.django_db
def test_a_reference_twice_in_the_lines_or_a_bad_amount_is_refused():
    customer = make_customer()
    twice = [
        RechargeLine(customer.pk, "1.00", "x1", payment_method="alipay", payment_reference="R 1"),
        RechargeLine(customer.pk, "2.00", "x2", payment_method="alipay", payment_reference="r1"),
    ]
    with pytest.raises(LineRefused) as refused:
        many(twice)
    assert refused.value.index == 1 and "R1" in refused.value.message
    assert isinstance(refused.value.reason, DuplicatePaymentReference)
    bad = [RechargeLine(customer.pk, "1.00", "y1"), RechargeLine(customer.pk, "1.005", "y2")]
    with pytest.raises(LineRefused) as refused:
        many(bad)
    assert refused.value.index == 1 and isinstance(refused.value.reason, InvalidAmount)
    assert not Entry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_runs_only_inside_the_callers_transaction():
    customer = make_customer()
    with pytest.raises(TransactionManagementError):
        wallet_recharge_many(lines=lines_for([customer], 1), created_by=None)
    assert not Entry.objects.exists()


@pytest.mark.django_db
def test_balance_changed_once_per_account_from_first_to_last():
    customers = [make_customer() for _ in range(2)]
    seen = []

    def record(sender, *, account, before, after, entry, **kwargs):
        seen.append((account.customer_id, before, after, entry.idempotency_key))

    balance_changed.connect(record, dispatch_uid="test-many")
    try:
        many(lines_for(customers, 3))
    finally:
        balance_changed.disconnect(dispatch_uid="test-many")
    assert sorted(seen) == sorted(
        (c.pk, Decimal("0.00"), Decimal("6.75"), f"k:{c.pk}:2") for c in customers
    )


@pytest.mark.concurrent_db
@pytest.mark.django_db(transaction=True)
def test_racing_single_movements_on_the_same_accounts_keep_every_balance_exact():
    """A bulk recharge of 300 lines over 10 accounts while other connections deduct from and
    recharge those accounts one at a time: every balance equals its ledger and its chain."""
    customers = [make_customer() for _ in range(10)]
    for c in customers:
        wallet_recharge(
            customer_id=c.pk, amount="100.00", created_by=None, idempotency_key=f"s{c.pk}"
        )
    start = threading.Barrier(3)
    errors = []

    def bulk():
        try:
            start.wait()
            many(lines_for(customers, 30))
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connection.close()

    def singles(kind: str):
        try:
            start.wait()
            for round_ in range(5):
                for c in reversed(customers):
                    key = f"{kind}:{c.pk}:{round_}"
                    if kind == "deduct":
                        wallet_deduct(
                            customer_id=c.pk,
                            amount="1.00",
                            created_by=None,
                            idempotency_key=key,
                            memo="m",
                        )
                    else:
                        wallet_recharge(
                            customer_id=c.pk, amount="2.00", created_by=None, idempotency_key=key
                        )
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=bulk),
        threading.Thread(target=singles, args=("deduct",)),
        threading.Thread(target=singles, args=("recharge",)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    per_customer_bulk = sum(Decimal(f"{n + 1}.25") for n in range(30))
    for c in customers:
        assert balance_of(customer_id=c.pk) == Decimal("100.00") + per_customer_bulk - 5 + 10
    assert not audit_drifts() and not audit_chain()
