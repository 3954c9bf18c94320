"""Money under real concurrency (MariaDB, real threads and connections).

Many threads place and cancel for one customer; two cancels race; a cancel races an agent's
claim. Afterwards the ledger reconciles, each order was debited once and refunded at most once,
and no balance ever went negative.
"""

import random
import threading
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command, get_commands
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from core.exceptions import DomainError
from orders.exceptions import OrderNotCancellable, OrderStateChanged
from orders.models import Order
from orders.services import order_cancel, order_place, order_start
from orders.tests.conftest import funded_customer
from orders.tests.factories import ServiceFactory
from wallet.models import Account, Entry
from wallet.selectors import balance_of

pytestmark = [pytest.mark.concurrent_db, pytest.mark.django_db(transaction=True)]


def run_threads(target, count: int) -> list:
    """Run ``target(index)`` in ``count`` threads started together; return their results."""
    results: list = [None] * count
    errors: list = []
    barrier = threading.Barrier(count)

    def body(index):
        try:
            barrier.wait(timeout=30)
            results[index] = target(index)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


def assert_ledger_reconciles():
    """wallet_audit when it exists; and always the invariant itself, per account."""
    if "wallet_audit" in get_commands():
        call_command("wallet_audit", verbosity=0)
    for account in Account.objects.all():
        entries = Entry.objects.filter(account=account)
        total = entries.aggregate(total=Sum("amount"))["total"] or Decimal("0")
        assert account.balance == total, account
        assert account.balance >= 0
        assert not entries.filter(balance_after__lt=0).exists()


def assert_each_order_debited_once_refunded_at_most_once():
    kinds = Counter(
        (number, kind)
        for number, kind in Entry.objects.exclude(order_number="").values_list(
            "order_number", "kind"
        )
    )
    for order in Order.objects.all():
        debits = kinds[(order.number, Entry.Kind.ORDER_DEBIT)]
        refunds = (
            kinds[(order.number, Entry.Kind.CANCEL_REFUND)]
            + kinds[(order.number, Entry.Kind.REFUND)]
        )
        assert debits == 1, order.number
        assert refunds == (1 if order.status == Order.Status.CANCELLED else 0), order.number


def test_many_threads_placing_and_cancelling_for_one_customer():
    customer = funded_customer(balance="60.00")
    service = ServiceFactory(tiers=[(1, "1.00")])
    placed: list[Order] = []
    lock = threading.Lock()
    outcomes = Counter()

    def work(index):
        rng = random.Random(index)
        for step in range(12):
            try:
                order = order_place(
                    customer=customer,
                    service=service,
                    target="https://a.cn",
                    quantity=rng.randint(1, 6),
                    idempotency_key=f"t{index}-{step // 2}",  # every second submit is a repeat
                )
                with lock:
                    placed.append(order)
                outcomes["placed"] += 1
            except DomainError:
                outcomes["refused"] += 1  # insufficient funds
            with lock:
                victim = rng.choice(placed) if placed else None
            if victim is not None:
                try:
                    order_cancel(order=victim, actor=None)
                    outcomes["cancelled"] += 1
                except OrderNotCancellable:
                    outcomes["not cancellable"] += 1

    run_threads(work, 6)

    assert outcomes["placed"] and outcomes["cancelled"] and outcomes["not cancellable"]
    assert len({o.pk for o in placed}) == Order.objects.count() <= 36  # keys repeat in pairs
    assert_ledger_reconciles()
    assert_each_order_debited_once_refunded_at_most_once()
    kept = Order.objects.exclude(status=Order.Status.CANCELLED).aggregate(s=Sum("amount"))["s"]
    assert balance_of(customer_id=customer.pk) == Decimal("60.00") - (kept or 0)


def test_double_cancel_refunds_exactly_once():
    customer = funded_customer(balance="100.00")
    service = ServiceFactory(tiers=[(1, "1.00")])
    orders = [
        order_place(customer=customer, service=service, target="https://a.cn", quantity=2)
        for _ in range(15)
    ]

    for order in orders:

        def cancel(_index, order=order):
            try:
                order_cancel(order=order, actor=None)
                return "cancelled"
            except OrderNotCancellable:
                return "refused"

        assert sorted(run_threads(cancel, 2)) == ["cancelled", "refused"]

    assert Entry.objects.filter(kind=Entry.Kind.CANCEL_REFUND).count() == 15
    assert balance_of(customer_id=customer.pk) == Decimal("100.00")
    assert_ledger_reconciles()
    assert_each_order_debited_once_refunded_at_most_once()


def test_cancel_racing_a_claim_never_refunds_a_claimed_order():
    customer = funded_customer(balance="100.00")
    service = ServiceFactory(tiers=[(1, "1.00")])
    orders = [
        order_place(customer=customer, service=service, target="https://a.cn", quantity=1)
        for _ in range(20)
    ]
    winners = Counter()

    for order in orders:

        def race(index, order=order):
            if index == 0:
                try:
                    order_start(
                        order=order,
                        agent="agent-x",
                        lease_until=timezone.now() + timedelta(minutes=5),
                    )
                    return "claimed"
                except OrderStateChanged:
                    return "claim lost"
            try:
                order_cancel(order=order, actor=None)
                return "cancelled"
            except OrderNotCancellable:
                return "cancel lost"

        result = set(run_threads(race, 2))
        assert result in ({"claimed", "cancel lost"}, {"cancelled", "claim lost"}), result
        winners["claimed" if "claimed" in result else "cancelled"] += 1
        order.refresh_from_db()
        refunds = Entry.objects.filter(order_number=order.number, kind=Entry.Kind.CANCEL_REFUND)
        if "claimed" in result:
            assert order.status == Order.Status.RUNNING and not refunds.exists()
        else:
            assert order.status == Order.Status.CANCELLED and refunds.count() == 1

    assert_ledger_reconciles()
    assert_each_order_debited_once_refunded_at_most_once()
    assert balance_of(customer_id=customer.pk) == Decimal("100.00") - winners["claimed"]


def test_a_double_submit_racing_itself_places_one_order():
    customer = funded_customer(balance="100.00")
    service = ServiceFactory(tiers=[(1, "1.00")])

    for attempt in range(10):

        def submit(_index, attempt=attempt):
            return order_place(
                customer=customer,
                service=service,
                target="https://a.cn",
                quantity=3,
                idempotency_key=f"form-{attempt}",
            ).pk

        first, second = run_threads(submit, 2)
        assert first == second

    assert Order.objects.count() == 10
    assert Entry.objects.filter(kind=Entry.Kind.ORDER_DEBIT).count() == 10
    assert balance_of(customer_id=customer.pk) == Decimal("70.00")
    assert_ledger_reconciles()
    assert_each_order_debited_once_refunded_at_most_once()
