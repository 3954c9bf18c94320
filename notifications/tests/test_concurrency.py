"""On MariaDB/PostgreSQL with real threads: no attempt sent twice; a slow receiver never
slows fulfilment; the outbox commits with the status change."""

import threading
import time

import pytest
from django.db import connection

from notifications.delivery import deliver_due, deliveries_claim, webhook_side_task
from notifications.models import Delivery, OutboxEvent
from notifications.services import endpoint_save, event_record
from notifications.tests.conftest import Receiver
from orders.agent.runner import Runner
from orders.exceptions import OrderNotCancellable
from orders.models import Order
from orders.services import order_cancel
from orders.tests.factories import ServiceFactory
from orders.tests.test_agent_concurrency import in_threads
from orders.tests.test_agent_support import funded_customer, place

pytestmark = [pytest.mark.concurrent_db, pytest.mark.django_db(transaction=True)]


def test_concurrent_claimers_never_take_the_same_delivery(hooked_customer):
    for n in range(40):
        event_record(customer_id=hooked_customer.pk, type="order.completed", payload={"n": n})
    taken: list[list[int]] = [[] for _ in range(4)]

    def claimer(k):
        def run():
            while batch := deliveries_claim(limit=3):
                taken[k].extend(c.delivery_id for c in batch)

        return run

    in_threads(*(claimer(k) for k in range(4)))
    everything = [pk for part in taken for pk in part]
    assert len(everything) == len(set(everything)) == 40
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


def test_a_slow_receiver_does_not_slow_order_fulfilment(hooked_customer, receiver, settings):
    settings.WEBHOOKS_POLL_INTERVAL = 0.05
    receiver.delay = 8  # every POST takes 8 s to answer (under the 10 s read timeout)
    service = ServiceFactory(tiers=[(1, "1.00")])
    first = place(hooked_customer, service, quantity=1)
    stopping = threading.Event()
    runner = Runner(name="agent-slow", concurrency=2, poll_interval=0.05)
    threads = [
        threading.Thread(target=runner.run, daemon=True),
        threading.Thread(target=_side_task, args=(stopping,), daemon=True),
    ]
    try:
        for thread in threads:
            thread.start()
        _wait(lambda: Order.objects.get(pk=first.pk).status == Order.Status.COMPLETED)
        _wait(_in_flight)  # the first event's POST is waiting on the receiver
        started = time.monotonic()
        orders = [place(hooked_customer, service, quantity=1) for _ in range(5)]
        _wait(lambda: _all_completed(orders), timeout=5)
        elapsed = time.monotonic() - started
        assert elapsed < 5, elapsed  # finished while the first POST was still waiting
        assert receiver.received == []  # and it still is
    finally:
        runner.stop()
        stopping.set()
        receiver.delay = 0
        for thread in threads:
            thread.join(timeout=15)


def _side_task(stopping):
    try:
        webhook_side_task(stopping)
    finally:
        connection.close()


def _in_flight() -> bool:
    return Delivery.objects.filter(attempts=1, status=Delivery.Status.PENDING).exists()


def _all_completed(orders) -> bool:
    statuses = set(
        Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)
    )
    return statuses == {Order.Status.COMPLETED}


def _wait(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_concurrent_status_change_and_outbox_commit_together():
    """Cancel racing the agent: exactly the committed final status has one event."""
    customer = funded_customer(balance="500.00")
    endpoint_save(customer=customer, url="http://127.0.0.1:9/never")
    service = ServiceFactory(tiers=[(1, "1.00")])
    orders = [place(customer, service, quantity=1) for _ in range(20)]

    def cancel_all():
        for order in orders:
            try:
                order_cancel(order=order, actor=None)
            except OrderNotCancellable:
                pass

    in_threads(cancel_all, lambda: Runner(name="racer", concurrency=2, once=True).run())
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
        events = OutboxEvent.objects.filter(payload__order_number=order.number)
        assert [e.type for e in events] == [f"order.{order.status}"]


def test_a_slow_receiver_does_not_hold_other_customers_events(hooked_customer, receiver, settings):
    settings.WEBHOOKS_CONCURRENCY = 4
    receiver.delay = 8  # this customer's receiver takes 8 s to answer
    fast = Receiver()
    other = funded_customer()
    endpoint_save(customer=other, url=fast.url)
    event_record(customer_id=hooked_customer.pk, type="order.completed", payload={"n": 0})
    for n in range(3):
        event_record(customer_id=other.pk, type="order.completed", payload={"n": n})
    sender = threading.Thread(target=_deliver_in_thread, daemon=True)
    try:
        started = time.monotonic()
        sender.start()
        _wait(lambda: len(fast.received) == 3, timeout=6)
        assert time.monotonic() - started < 6
        assert receiver.received == []  # the slow one is still answering
    finally:
        sender.join(timeout=20)
        fast.stop()
    statuses = Delivery.objects.values_list("status", flat=True)
    assert set(statuses) == {Delivery.Status.DELIVERED}


def _deliver_in_thread():
    try:
        deliver_due()
    finally:
        connection.close()
