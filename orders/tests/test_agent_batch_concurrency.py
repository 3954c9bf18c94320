"""Batches under real concurrency (MariaDB or PostgreSQL, threads with their own connections):
agents share a queue fairly and never run an order twice; a batch claim racing cancels never
both cancels and runs an order."""

import random
import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import override_settings

from orders.agent.claim import CANDIDATE_SLACK, claim_due
from orders.agent.retry import retry_deadlocks
from orders.agent.runner import Runner
from orders.agent.worker import run_claim
from orders.exceptions import OrderNotCancellable
from orders.fulfilment import locmem
from orders.models import Order, OrderEvent
from orders.services import order_cancel
from orders.tests.factories import ServiceFactory
from orders.tests.test_agent_concurrency import in_threads
from orders.tests.test_agent_support import (
    _fresh_locmem,
    assert_money_right,
    funded_customer,
    place,
)
from wallet.models import Entry

pytestmark = [pytest.mark.concurrent_db, pytest.mark.django_db(transaction=True)]
__all__ = ["_fresh_locmem"]

Status = Order.Status
AGENTS, ORDERS = 4, 2000


@override_settings(AGENT_CLAIM_BATCH=10)
def test_four_agents_share_two_thousand_orders_fairly_and_none_runs_twice():
    customer = funded_customer(balance="10000.00")
    service = ServiceFactory(tiers=[(1, "1.00")])
    orders = [place(customer, service, quantity=1) for _ in range(ORDERS)]
    runners = [Runner(name=f"agent-{n}", once=True) for n in range(AGENTS)]
    in_threads(*(runner.run for runner in runners))

    executed = Counter(call.number for call in locmem.calls)
    assert sorted(executed) == sorted(o.number for o in orders)
    assert set(executed.values()) == {1}  # each executed exactly once
    shares = [runner.stats.finished for runner in runners]
    assert sum(shares) == ORDERS
    # A fair share: no agent starved while the others drained the queue (batches of 10).
    assert min(shares) >= ORDERS // AGENTS // 2, shares
    assert set(Order.objects.values_list("status", "attempts")) == {(Status.COMPLETED, 1)}
    finished_by = Counter(
        OrderEvent.objects.filter(to_status=Status.COMPLETED).values_list("agent", flat=True)
    )
    assert sorted(finished_by.values()) == sorted(shares)  # one completion event per order
    started = OrderEvent.objects.filter(from_status=Status.PENDING, to_status=Status.RUNNING)
    assert started.count() == ORDERS  # one start event per order
    assert_money_right(customer, Decimal("10000.00") - ORDERS)


def test_a_batch_claim_racing_cancels_never_both_cancels_and_runs_an_order():
    customer = funded_customer(balance="1000.00")
    service = ServiceFactory(tiers=[(1, "1.00")])
    kept = Decimal("0.00")
    cancelled_total = claimed_total = 0
    for round_ in range(8):
        orders = [place(customer, service, quantity=2) for _ in range(10)]
        results = {"cancelled": set(), "claims": []}
        victims = orders[:]
        random.Random(round_).shuffle(victims)

        def cancel_all(victims=victims, results=results):
            for order in victims:
                try:
                    # A deadlock victim rolls back whole; the person clicks again.
                    retry_deadlocks(lambda o=order: order_cancel(order=o, actor=None, reason="r"))
                    results["cancelled"].add(order.pk)
                except OrderNotCancellable:
                    pass

        def claim(results=results):
            results["claims"] = claim_due(agent="racer", limit=10).claims

        in_threads(cancel_all, claim)
        claimed = {c.order.pk for c in results["claims"]}
        assert not claimed & results["cancelled"], "an order both claimed and cancelled"
        assert claimed | results["cancelled"] == {o.pk for o in orders}
        for order in orders:
            order.refresh_from_db()
            refunds = Entry.objects.filter(order_number=order.number, kind="cancel_refund")
            events = list(order.events.values_list("to_status", flat=True))
            if order.pk in claimed:
                assert order.status == Status.RUNNING and not refunds.exists()
                assert events == ["pending", "running"]
            else:
                assert order.status == Status.CANCELLED and refunds.get().amount == 2
                assert events == ["pending", "cancelled"]
        for claim_ in results["claims"]:
            assert run_claim(claim_, agent="racer") == "completed"
            kept += claim_.order.amount
        cancelled_total += len(results["cancelled"])
        claimed_total += len(claimed)
        connection.close()
    assert cancelled_total + claimed_total == 80
    assert_money_right(customer, Decimal("1000.00") - kept)


def test_a_claim_looks_past_every_row_other_agents_hold():
    """Three agents each hold a batch of 10 plus the candidates' slack: the fourth still finds
    work further down the queue instead of re-reading the same locked candidates."""
    customer = funded_customer(balance="1000.00")
    service = ServiceFactory(tiers=[(1, "1.00")])
    held_count = 10 + CANDIDATE_SLACK
    orders = [place(customer, service, quantity=1) for _ in range(held_count + 10)]
    held_ids = sorted(o.pk for o in orders[:held_count])
    holding, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                list(Order.objects.select_for_update().filter(pk__in=held_ids).order_by("pk"))
                holding.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(timeout=30)
        claims = claim_due(agent="fourth", limit=10).claims
    finally:
        release.set()
        holder.join(timeout=60)
    claimed = {c.order.pk for c in claims}
    assert len(claimed) == 10
    assert not claimed & set(held_ids)
