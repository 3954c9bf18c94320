"""A price change committed in another connection between the quote and the placing (MariaDB).

The other connection holds the customer's account lock while it changes the price, so the
placing waits on the lock and reads the price only after the change commits: it is refused
with the new price, never charged the old one. Then many placers race many price flips.
"""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from customers.models import Level
from orders.exceptions import PriceChanged
from orders.models import Order, PriceTier
from orders.pricing import catalog_service
from orders.services import order_place, order_quote
from orders.tests.conftest import funded_customer
from orders.tests.factories import ServiceFactory
from orders.tests.test_concurrency import (
    assert_each_order_debited_once_refunded_at_most_once,
    assert_ledger_reconciles,
    run_threads,
)
from wallet.models import Entry
from wallet.selectors import balance_of
from wallet.services import account_lock

pytestmark = [pytest.mark.concurrent_db, pytest.mark.django_db(transaction=True)]


def _in_thread(work):
    """Start ``work()`` on its own connection; return (thread, outcome dict)."""
    outcome: dict = {}

    def body():
        try:
            outcome["result"] = work()
        except BaseException as exc:  # noqa: BLE001 - inspected by the test
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("change", ["tier price", "level"])
def test_a_price_changed_while_the_placing_waits_is_refused(change):
    customer = funded_customer(percent=90, balance="100.00")
    service = ServiceFactory(tiers=[(1, "1.00")])
    shown = order_quote(customer=customer, service=service, quantity=10).amount  # 9.00
    locked, release = threading.Event(), threading.Event()

    def change_price():
        with transaction.atomic():
            account_lock(customer_id=customer.pk)
            if change == "tier price":
                PriceTier.objects.filter(service=service).update(price=Decimal("2.00"))
            else:
                Level.objects.filter(pk=customer.level_id).update(discount_percent=100)
            locked.set()
            release.wait(timeout=20)

    changer, _ = _in_thread(change_price)
    assert locked.wait(timeout=20)
    placer, placed = _in_thread(
        lambda: order_place(
            customer=customer,
            service=service,
            target="https://a.cn",
            quantity=10,
            expected_amount=shown,
        )
    )
    time.sleep(0.5)  # the placer is now waiting for the account lock
    assert placer.is_alive()
    release.set()
    changer.join(timeout=30)
    placer.join(timeout=30)

    error = placed.get("error")
    assert isinstance(error, PriceChanged), placed
    assert error.amount == (Decimal("18.00") if change == "tier price" else Decimal("10.00"))
    assert not Order.objects.exists()
    assert not Entry.objects.filter(kind=Entry.Kind.ORDER_DEBIT).exists()
    assert balance_of(customer_id=customer.pk) == Decimal("100.00")


def test_placers_racing_price_flips_are_charged_only_a_price_they_confirmed():
    customer = funded_customer(percent=100, balance="10000.00")
    service = ServiceFactory(tiers=[(1, "1.00")])
    prices = [Decimal("1.00"), Decimal("2.00")]
    seen: list[tuple[int, Decimal]] = []  # (order pk, the unit price the placer confirmed)
    refused = []

    def work(index):
        if index == 0:  # the price changer
            for round_ in range(40):
                PriceTier.objects.filter(service=service).update(price=prices[round_ % 2])
                time.sleep(0.002)
            return None
        for _ in range(15):
            shown = order_quote(customer=customer, service=service, quantity=10).amount
            try:
                order = order_place(
                    customer=customer,
                    service=service,
                    target="https://a.cn",
                    quantity=10,
                    expected_amount=shown,
                )
            except PriceChanged as exc:
                assert exc.amount != shown
                refused.append(exc.amount)
                continue
            seen.append((order.pk, shown))
        return None

    run_threads(work, 5)
    assert seen, "no order was placed at all"
    for pk, shown in seen:
        assert Order.objects.get(pk=pk).amount == shown
    assert Order.objects.count() == len(seen)
    total = sum((shown for _, shown in seen), Decimal("0"))
    assert balance_of(customer_id=customer.pk) == Decimal("10000.00") - total
    assert_ledger_reconciles()
    assert_each_order_debited_once_refunded_at_most_once()


@pytest.mark.parametrize("expected", ["none", "old amount"])
def test_a_price_committed_between_the_cache_read_and_the_lock_is_the_price_charged(expected):
    """The placer holds a cached service (the catalogue, as the portal form uses it) read before
    another connection commits a new tier price with a queryset update, which sends no signal
    and so leaves the cache stale. order_place reads the tiers under the lock: it charges the
    new price (no amount confirmed) or refuses the old amount, never charges the old price."""
    customer = funded_customer(percent=100, balance="100.00")
    service = ServiceFactory(tiers=[(1, "1.00")])
    read, changed = threading.Event(), threading.Event()

    def place():
        cached = catalog_service(service.pk)  # the cache read
        shown = order_quote(customer=customer, service=cached, quantity=10).amount
        read.set()
        assert changed.wait(timeout=20)
        return shown, order_place(
            customer=customer,
            service=cached,
            target="https://a.cn",
            quantity=10,
            expected_amount=shown if expected == "old amount" else None,
        )

    def change_price():
        assert read.wait(timeout=20)
        with transaction.atomic():
            PriceTier.objects.filter(service=service).update(price=Decimal("2.00"))
        changed.set()

    placer, placed = _in_thread(place)
    changer, change = _in_thread(change_price)
    changer.join(timeout=30)
    placer.join(timeout=30)
    assert "error" not in change, change
    assert catalog_service(service.pk).tiers.all()[0].price == Decimal("1.00")  # still stale
    if expected == "old amount":
        error = placed.get("error")
        assert isinstance(error, PriceChanged), placed
        assert error.amount == Decimal("20.00")
        assert not Order.objects.exists()
        assert balance_of(customer_id=customer.pk) == Decimal("100.00")
    else:
        shown, order = placed["result"]
        assert shown == Decimal("10.00")
        assert order.amount == Decimal("20.00") == Order.objects.get().amount
        assert Entry.objects.get(kind=Entry.Kind.ORDER_DEBIT).amount == Decimal("-20.00")
        assert balance_of(customer_id=customer.pk) == Decimal("80.00")
