"""The agent's batches: one claim transaction and one bulk completion at a fixed statement count,
the transition rules and the lease checks kept, partial and failed orders refunded one by one."""

from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.agent import conf
from orders.agent.claim import claim_due
from orders.agent.runner import Runner
from orders.agent.worker import finish_completed
from orders.batch import Completion, orders_complete, orders_start
from orders.exceptions import InvalidTransition, OrderStateChanged
from orders.fulfilment import FulfilmentResult, Outcome, locmem
from orders.models import Order, OrderEvent
from orders.services import order_cancel, order_leases_expire
from orders.signals import orders_finished
from orders.tests.factories import ServiceFactory
from orders.tests.test_agent_support import (
    _fresh_locmem,
    assert_money_right,
    funded_customer,
    place,
)
from wallet.models import Entry

pytestmark = pytest.mark.django_db
__all__ = ["_fresh_locmem"]

Status = Order.Status
CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")


def statements(captured) -> list[str]:
    """The SQL a block ran, without transaction control (a savepoint when the test's own
    transaction is around it, BEGIN IMMEDIATE on SQLite)."""
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(CONTROL)]


@contextmanager
def only_receiver():
    """``orders_finished`` with one recording receiver instead of whatever is connected (a
    webhook outbox counts its own statements)."""
    sent = []

    def record(sender, orders, using, **kwargs):
        sent.append([o.pk for o in orders])

    saved = orders_finished.receivers
    orders_finished.receivers = []
    orders_finished.sender_receivers_cache.clear()
    orders_finished.connect(record, weak=False)
    try:
        yield sent
    finally:
        orders_finished.receivers = saved
        orders_finished.sender_receivers_cache.clear()


@pytest.fixture
def customer():
    return funded_customer(balance="1000.00")


@pytest.fixture
def service():
    return ServiceFactory(tiers=[(1, "1.00")])


def test_one_claim_batch_runs_five_statements_whatever_its_size(customer, service):
    orders = [place(customer, service, quantity=1) for _ in range(15)]
    with CaptureQueriesContext(connection) as captured:
        batch = claim_due(agent="a1", limit=10, leases=False)
    sql = statements(captured)
    # candidate ids, lock them by primary key, one UPDATE, one INSERT of the events, services
    assert len(sql) == 5, "\n".join(sql)
    assert [s.split()[0] for s in sql] == ["SELECT", "SELECT", "UPDATE", "INSERT", "SELECT"]
    if connection.features.has_select_for_update_skip_locked:
        assert "SKIP LOCKED" in sql[1] and "LIMIT 10" in sql[1]
    assert "orders_orderevent" in sql[3]
    claimed = [c.order for c in batch.claims]
    assert [o.pk for o in claimed] == sorted(o.pk for o in orders[:10])  # the oldest ten
    for order in Order.objects.filter(pk__in=[o.pk for o in claimed]):
        assert (order.status, order.lease_owner, order.attempts) == (Status.RUNNING, "a1", 1)
        assert order.started_at and order.lease_expires_at > timezone.now()
        assert list(order.events.values_list("from_status", "to_status", "agent")) == [
            ("", "pending", ""),
            ("pending", "running", "a1"),
        ]
    # The claims carry what was written, without another read.
    fresh = Order.objects.get(pk=claimed[0].pk)
    assert (claimed[0].status, claimed[0].attempts) == (fresh.status, fresh.attempts)
    assert claimed[0].lease_expires_at == fresh.lease_expires_at
    assert claimed[0].service.backend == "locmem"
    assert Order.objects.filter(status=Status.PENDING).count() == 5


def test_a_batch_takes_over_dead_leases_running_to_running(customer, service):
    orders = [place(customer, service, quantity=1) for _ in range(3)]
    claim_due(agent="dead", limit=3)
    order_leases_expire(agent="dead")
    batch = claim_due(agent="alive", limit=3)
    assert sorted(c.order.pk for c in batch.claims) == sorted(o.pk for o in orders)
    for order in Order.objects.all():
        assert (order.lease_owner, order.attempts) == ("alive", 2)
        assert list(order.events.values_list("from_status", "to_status", "agent"))[-1] == (
            "running",
            "running",
            "alive",
        )


def test_one_bulk_finish_runs_three_statements_and_signals_once_with_all(customer, service):
    for _ in range(10):
        place(customer, service, quantity=2)
    claims = claim_due(agent="a1", limit=10).claims
    done = [
        (
            claim,
            FulfilmentResult(
                outcome=Outcome.COMPLETED,
                delivered_quantity=2,
                baseline_count=n,
                supplier_reference=f"S-{n}",
                message="done %(n)s",
                message_params={"n": n},
            ),
        )
        for n, claim in enumerate(claims)
    ]
    with only_receiver() as sent, CaptureQueriesContext(connection) as captured:
        outcomes = finish_completed(done, agent="a1")
    sql = statements(captured)
    assert len(sql) == 3, "\n".join(sql)  # lock by primary key, one UPDATE, one INSERT
    assert [s.split()[0] for s in sql] == ["SELECT", "UPDATE", "INSERT"]
    assert outcomes == ["completed"] * 10
    assert sent == [[c.order.pk for c in claims]]  # once, inside the transaction, with all
    for n, claim in enumerate(claims):
        order = Order.objects.get(pk=claim.order.pk)
        assert order.status == Status.COMPLETED and order.delivered_quantity == 2
        assert (order.baseline_count, order.supplier_reference) == (n, f"S-{n}")
        assert order.finished_at and order.lease_expires_at is None
        event = order.events.last()
        assert (event.from_status, event.to_status, event.agent) == ("running", "completed", "a1")
        assert event.display_message == f"done {n}"
        assert (claim.order.status, claim.order.finished_at) == (order.status, order.finished_at)
    assert_money_right(customer, "980.00")  # completed: the money stays charged


def test_a_bulk_finish_books_nothing_for_orders_it_no_longer_holds(customer, service):
    orders = [place(customer, service, quantity=1) for _ in range(3)]
    claims = claim_due(agent="slow", limit=3).claims
    # The middle order's lease ran out and another agent took it over.
    Order.objects.filter(pk=orders[1].pk).update(lease_expires_at=timezone.now())
    [retaken] = claim_due(agent="fast", limit=3).claims
    assert retaken.order.pk == orders[1].pk
    result = FulfilmentResult(outcome=Outcome.COMPLETED, delivered_quantity=1)
    with only_receiver() as sent:
        outcomes = finish_completed([(c, result) for c in claims], agent="slow")
    assert outcomes == ["completed", "lost", "completed"]
    assert sent == [[orders[0].pk, orders[2].pk]]
    taken = Order.objects.get(pk=orders[1].pk)
    assert (taken.status, taken.lease_owner) == (Status.RUNNING, "fast")
    assert not taken.events.filter(to_status=Status.COMPLETED).exists()


def test_orders_start_refuses_a_move_the_transitions_table_forbids(customer, service):
    order = place(customer, service, quantity=1)
    order_cancel(order=order, actor=None)
    order.refresh_from_db()
    events = OrderEvent.objects.count()
    with pytest.raises(InvalidTransition):
        orders_start(orders=[order], agent="a1", lease_until=timezone.now())
    assert Order.objects.get(pk=order.pk).status == Status.CANCELLED
    assert OrderEvent.objects.count() == events


def test_orders_start_on_rows_it_did_not_lock_writes_nothing(customer, service):
    fresh = place(customer, service, quantity=1)
    stale = place(customer, service, quantity=1)
    order_cancel(order=Order.objects.get(pk=stale.pk), actor=None)  # stale still says pending
    events = OrderEvent.objects.count()
    with pytest.raises(OrderStateChanged), transaction.atomic():
        orders_start(orders=[fresh, stale], agent="a1", lease_until=timezone.now())
    assert Order.objects.get(pk=fresh.pk).status == Status.PENDING
    assert OrderEvent.objects.count() == events


def test_orders_complete_refuses_nothing_it_should_not_and_moves_no_money(customer, service):
    order = place(customer, service, quantity=3)
    [claim] = claim_due(agent="a1", limit=1).claims
    entries = Entry.objects.count()
    [done] = orders_complete(completions=[Completion(order=claim.order)], agent="a1")
    assert done.pk == order.pk and done.status == Status.COMPLETED
    assert Entry.objects.count() == entries
    assert orders_complete(completions=[Completion(order=claim.order)], agent="a1") == []


@pytest.mark.parametrize(("setting", "expected"), [(0, 1), (-5, 1), (25, 25), (10_000, 100)])
def test_the_claim_batch_setting_is_bounded(settings, setting, expected):
    settings.AGENT_CLAIM_BATCH = setting
    assert conf.claim_batch() == expected


@override_settings(AGENT_CLAIM_BATCH=4)
def test_a_mixed_batch_refunds_partial_and_failed_orders_one_by_one(customer, service):
    orders = [place(customer, service, quantity=4) for _ in range(9)]  # 36.00 charged
    locmem.script(orders[1].number, FulfilmentResult(outcome=Outcome.PARTIAL, delivered_quantity=1))
    locmem.script(orders[6].number, FulfilmentResult(outcome=Outcome.FAILED))
    locmem.script(orders[7].number, FulfilmentResult(outcome=Outcome.PARTIAL, delivered_quantity=4))
    stats = Runner(name="mixed", once=True).run()
    assert stats.outcomes == {"completed": 7, "partial": 1, "failed": 1}
    by_status = dict(Order.objects.values_list("number", "status"))
    assert by_status[orders[1].number] == Status.PARTIAL
    assert by_status[orders[6].number] == Status.FAILED
    assert by_status[orders[7].number] == Status.COMPLETED  # partial of everything = complete
    for order in orders:
        assert len(locmem.calls_for(order.number)) == 1
        assert list(Order.objects.get(pk=order.pk).events.values_list("to_status", flat=True))[
            :2
        ] == ["pending", "running"]
        assert Order.objects.get(pk=order.pk).events.count() == 3
    refunds = Entry.objects.filter(kind=Entry.Kind.REFUND).order_by("order_number")
    assert sorted(e.amount for e in refunds) == [Decimal("3.00"), Decimal("4.00")]
    assert_money_right(customer, "971.00")  # 1000 − 36 + 3 + 4


@override_settings(AGENT_CLAIM_BATCH=5)
def test_a_stop_in_the_middle_of_an_inline_batch_releases_what_did_not_start(customer, service):
    orders = [place(customer, service, quantity=1) for _ in range(7)]
    locmem.script(orders[0].number, FulfilmentResult(outcome=Outcome.FAILED))
    runner = Runner(name="stopper", once=True)
    runner.report = lambda number, outcome, detail: runner.stop()  # the first result stops it
    stats = runner.run()
    assert stats.outcomes == {"failed": 1, "released": 4}
    assert [c.number for c in locmem.calls] == [orders[0].number]  # nothing else executed
    for order in orders[1:5]:  # claimed, released at once: due again, attempt counted
        order.refresh_from_db()
        assert (order.status, order.lease_expires_at, order.attempts) == (Status.PENDING, None, 1)
        assert order.events.last().from_status == Status.RUNNING
    for order in orders[5:]:  # never claimed
        assert Order.objects.get(pk=order.pk).events.count() == 1
    assert_money_right(customer, "994.00")


@override_settings(AGENT_CLAIM_BATCH=10)
def test_lease_extension_is_one_statement_for_every_order_in_flight(customer, service):
    from orders.agent.claim import leases_extend

    for _ in range(10):
        place(customer, service, quantity=1)
    claims = claim_due(agent="a1", limit=10).claims
    with CaptureQueriesContext(connection) as captured:
        held = leases_extend(agent="a1", order_ids=[c.order.pk for c in claims])
    assert held == 10
    assert len(statements(captured)) == 1


@override_settings(AGENT_CLAIM_BATCH=10)
@pytest.mark.parametrize(
    ("delay", "signals"),
    [(0, [3]), (0.06, [1, 1, 1])],  # fast: one booking for the batch; slow: each at once
)
def test_completions_wait_for_each_other_only_when_the_supplier_is_fast(
    settings, customer, service, delay, signals
):
    settings.FULFILMENT_BACKENDS = {
        "locmem": {"BACKEND": "orders.fulfilment.locmem.LocmemBackend", "OPTIONS": {"delay": delay}}
    }
    for _ in range(3):
        place(customer, service, quantity=1)
    with only_receiver() as sent:
        stats = Runner(name="a1", once=True).run()
    assert stats.outcomes == {"completed": 3}
    assert [len(pks) for pks in sent] == signals
