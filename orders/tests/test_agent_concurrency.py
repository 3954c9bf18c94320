"""Concurrency proofs on MariaDB with real threads: no order runs twice; cancel vs claim."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from orders.agent.claim import claim_due
from orders.agent.retry import retry_deadlocks
from orders.agent.runner import Runner
from orders.agent.worker import run_claim
from orders.exceptions import OrderNotCancellable
from orders.fulfilment import locmem
from orders.models import Order
from orders.services import order_cancel
from orders.tests.factories import ServiceFactory
from orders.tests.test_agent_support import (
    _fresh_locmem,
    assert_money_right,
    funded_customer,
    place,
)
from wallet.models import Entry

pytestmark = [pytest.mark.concurrent_db, pytest.mark.django_db(transaction=True)]
__all__ = ["_fresh_locmem"]


def in_threads(*targets):
    """Start every target at once (a barrier), wait for all, re-raise the first error."""
    barrier = threading.Barrier(len(targets))
    errors = []

    def wrap(target):
        try:
            barrier.wait()
            target()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]


def test_two_agents_never_execute_the_same_order(settings):
    settings.FULFILMENT_BACKENDS = {
        "locmem": {"BACKEND": "orders.fulfilment.locmem.LocmemBackend", "OPTIONS": {"delay": 0.01}}
    }
    customer = funded_customer(balance="1000.00")
    service = ServiceFactory(tiers=[(1, "1.00")])
    orders = [place(customer, service, quantity=2) for _ in range(60)]
    runners = [Runner(name=f"agent-{n}", concurrency=3, once=True) for n in range(2)]
    in_threads(*(runner.run for runner in runners))
    executed = [call.number for call in locmem.calls]
    assert sorted(executed) == sorted(o.number for o in orders)  # each exactly once
    assert all(runner.stats.finished > 0 for runner in runners)  # both took a share
    assert sum(runner.stats.finished for runner in runners) == 60
    assert set(Order.objects.values_list("status", flat=True)) == {Order.Status.COMPLETED}
    assert set(Order.objects.values_list("attempts", flat=True)) == {1}
    assert_money_right(customer, "880.00")


def test_concurrent_claims_are_disjoint():
    customer = funded_customer(balance="1000.00")
    service = ServiceFactory(tiers=[(1, "1.00")])
    orders = [place(customer, service, quantity=1) for _ in range(40)]
    claimed: list[list[int]] = [[] for _ in range(6)]

    def claimer(n):
        def claim_until_empty():
            while batch := claim_due(agent=f"c{n}", limit=3):
                claimed[n].extend(c.order.pk for c in batch.claims)

        return claim_until_empty

    in_threads(*(claimer(n) for n in range(6)))
    everything = [pk for pks in claimed for pk in pks]
    assert sorted(everything) == sorted(o.pk for o in orders)  # all claimed, none twice
    assert sum(1 for pks in claimed if pks) > 1
    assert not Order.objects.exclude(status=Order.Status.RUNNING).exists()
    assert set(Order.objects.values_list("attempts", flat=True)) == {1}


def test_cancel_racing_claim_has_exactly_one_winner_and_the_money_is_right():
    customer = funded_customer(balance="1000.00")
    service = ServiceFactory(tiers=[(1, "1.00")])
    cancelled = claimed = 0
    kept = Decimal("0.00")
    for _ in range(25):
        order = place(customer, service, quantity=4)
        results = {}

        def cancel(order=order, results=results):
            try:
                # The cancel may be InnoDB's deadlock victim (it rolls back whole); the user
                # would click again, so do that (see docs/agent.md on order_cancel's lock order).
                retry_deadlocks(lambda: order_cancel(order=order, actor=None, reason="race"))
                results["cancel"] = True
            except OrderNotCancellable:
                results["cancel"] = False

        def claim(results=results):
            results["claims"] = claim_due(agent="racer", limit=1).claims

        in_threads(cancel, claim)
        order.refresh_from_db()
        if results["cancel"]:
            assert results["claims"] == []
            assert order.status == Order.Status.CANCELLED
            assert Entry.objects.get(order_number=order.number, kind="cancel_refund").amount == 4
            cancelled += 1
        else:
            [won] = results["claims"]
            assert order.status == Order.Status.RUNNING and won.order.pk == order.pk
            assert not Entry.objects.filter(order_number=order.number, kind="cancel_refund")
            assert run_claim(won, agent="racer") == "completed"
            kept += order.amount
            claimed += 1
    assert cancelled + claimed == 25
    assert_money_right(customer, Decimal("1000.00") - kept)


def test_the_queue_queries_read_an_index_in_order_without_sorting():
    """At millions of pending orders a filesort per claim would be the bottleneck."""
    from django.utils import timezone

    from orders.agent.claim import lease_queue, pending_queue

    now = timezone.now()
    for queue in (pending_queue(now), lease_queue(now)):
        plan = queue.values_list("pk", flat=True)[:21].explain()
        assert "filesort" not in plan.lower(), plan
