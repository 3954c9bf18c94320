"""The agent end to end with the locmem backend: claim, run, book, refund; run_agent itself."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from orders.agent.claim import claim_due
from orders.agent.heartbeat import agent_register
from orders.agent.worker import outcome_label
from orders.fulfilment import FulfilmentResult, Outcome, locmem
from orders.models import Agent, Order, OrderEvent
from orders.services import undelivered_refund
from orders.tests.factories import ServiceFactory
from orders.tests.test_agent_support import (
    _fresh_locmem,
    assert_money_right,
    finished_line,
    funded_customer,
    place,
)
from wallet.models import Entry

pytestmark = pytest.mark.django_db
__all__ = ["_fresh_locmem"]

Status = Order.Status


def run_once(*args) -> str:
    out = StringIO()
    call_command("run_agent", "--once", "--name", "t1", *args, stdout=out)
    return out.getvalue()


def statuses(order):
    return list(order.events.values_list("from_status", "to_status"))


def test_completed_order_goes_placed_running_completed_and_keeps_the_money():
    customer = funded_customer(balance="100.00", percent=90)
    order = place(customer, quantity=10)  # 10 × 1.00 × 90 % = 9.00
    out = run_once()
    order.refresh_from_db()
    assert order.status == Status.COMPLETED
    assert order.delivered_quantity == 10
    assert order.supplier_reference == f"LOC-{order.number}"
    assert order.attempts == 1 and order.started_at and order.finished_at
    assert order.lease_expires_at is None
    assert statuses(order) == [("", "pending"), ("pending", "running"), ("running", "completed")]
    assert set(order.events.exclude(from_status="").values_list("agent", flat=True)) == {"t1"}
    assert [c.method for c in locmem.calls_for(order.number)] == ["execute"]
    assert_money_right(customer, "91.00")
    assert f"{order.number} {outcome_label('completed')}" in out
    assert finished_line(1) in out


def test_partial_refunds_the_undelivered_share_rounded_half_up():
    customer = funded_customer(balance="100.00", percent=100)
    service = ServiceFactory(tiers=[(1, "0.35")])
    order = place(customer, service, quantity=3)  # 1.05 charged
    locmem.script(
        order.number,
        FulfilmentResult(outcome=Outcome.PARTIAL, delivered_quantity=1, baseline_count=42),
    )
    run_once()
    order.refresh_from_db()
    assert order.status == Status.PARTIAL
    assert order.delivered_quantity == 1 and order.baseline_count == 42
    # 1.05 × 2/3 = 0.70 exactly; with 0.35/unit the share is exact, so try a rounding case too
    refund = Entry.objects.get(order_number=order.number, kind=Entry.Kind.REFUND)
    assert refund.amount == Decimal("0.70")
    assert statuses(order)[-1] == ("running", "partial")
    assert_money_right(customer, "99.65")


def test_partial_refund_rounds_half_up():
    customer = funded_customer(balance="100.00", percent=100)
    service = ServiceFactory(tiers=[(1, "0.01")])
    order = place(customer, service, quantity=2)  # 0.02 charged; 1 of 2 undelivered = 0.01
    order3 = place(customer, ServiceFactory(tiers=[(8, "0.01")]), quantity=8)  # 0.01 for 8
    locmem.script(order.number, FulfilmentResult(outcome=Outcome.PARTIAL, delivered_quantity=1))
    # 0.01 × 4/8 = 0.005 → 0.01 (half up)
    locmem.script(order3.number, FulfilmentResult(outcome=Outcome.PARTIAL, delivered_quantity=4))
    run_once()
    assert Entry.objects.get(order_number=order.number, kind="refund").amount == Decimal("0.01")
    assert Entry.objects.get(order_number=order3.number, kind="refund").amount == Decimal("0.01")
    assert_money_right(customer, "99.99")


def test_failed_refunds_everything_with_the_supplier_message():
    customer = funded_customer(balance="50.00")
    order = place(customer, quantity=20)
    locmem.script(order.number, FulfilmentResult(outcome=Outcome.FAILED, message="target gone"))
    run_once()
    order.refresh_from_db()
    assert order.status == Status.FAILED
    assert order.last_error == "target gone"
    assert order.events.last().message == "target gone"
    refund = Entry.objects.get(order_number=order.number, kind=Entry.Kind.REFUND)
    assert refund.amount == Decimal("20.00")
    assert_money_right(customer, "50.00")


def test_backend_error_releases_without_refund_and_retries_after_a_delay():
    customer = funded_customer(balance="50.00")
    order = place(customer, quantity=5)
    locmem.script(
        order.number,
        RuntimeError("supplier down"),
        FulfilmentResult(outcome=Outcome.COMPLETED, delivered_quantity=5),
    )
    out = run_once()
    order.refresh_from_db()
    assert order.status == Status.PENDING
    assert "supplier down" in order.last_error
    assert order.lease_owner == "" and order.lease_expires_at > timezone.now()
    assert f"{order.number} {outcome_label('released')}" in out
    assert_money_right(customer, "45.00")  # no refund: the supplier may still deliver
    run_once()  # not due yet
    assert len(locmem.calls_for(order.number)) == 1
    Order.objects.filter(pk=order.pk).update(lease_expires_at=timezone.now())
    run_once()
    order.refresh_from_db()
    assert order.status == Status.COMPLETED and order.attempts == 2
    assert_money_right(customer, "45.00")


@override_settings(AGENT_MAX_ATTEMPTS=2, AGENT_RETRY_DELAY=0)
def test_after_max_attempts_the_order_fails_and_is_refunded():
    customer = funded_customer(balance="50.00")
    order = place(customer, quantity=5)
    locmem.script(order.number, RuntimeError("supplier down"))
    out = run_once()
    order.refresh_from_db()
    assert order.status == Status.FAILED
    assert order.attempts == 2
    assert len(locmem.calls_for(order.number)) == 2
    assert "supplier down" in order.last_error
    assert f"{order.number} {outcome_label('failed')}" in out
    assert_money_right(customer, "50.00")


def test_accepted_order_stays_running_and_a_later_poll_finishes_it():
    customer = funded_customer(balance="50.00")
    order = place(customer, quantity=4)
    accepted = FulfilmentResult(outcome=Outcome.ACCEPTED, supplier_reference="SUP-1")
    locmem.script(
        order.number,
        accepted,
        FulfilmentResult(outcome=Outcome.ACCEPTED),
        FulfilmentResult(outcome=Outcome.PARTIAL, delivered_quantity=3, supplier_reference="SUP-1"),
    )
    with override_settings(AGENT_ACCEPTED_POLL_SECONDS=0):
        out = run_once()  # execute → accepted; the poll is due at once: "not yet"; then partial
    order.refresh_from_db()
    assert [c.method for c in locmem.calls_for(order.number)] == ["execute", "poll", "poll"]
    assert locmem.calls_for(order.number)[1].supplier_reference == "SUP-1"
    assert order.status == Status.PARTIAL
    assert order.attempts == 1  # polls are not attempts
    assert f"{order.number} {outcome_label('accepted')}" in out
    assert f"{order.number} {outcome_label('waiting')}" in out
    assert statuses(order) == [
        ("", "pending"),
        ("pending", "running"),
        ("running", "running"),
        ("running", "partial"),
    ]
    assert_money_right(customer, "47.00")


def test_accepted_order_is_not_polled_before_its_time():
    customer = funded_customer()
    order = place(customer, quantity=4)
    locmem.script(order.number, FulfilmentResult(outcome=Outcome.ACCEPTED, supplier_reference="R"))
    run_once()
    run_once()
    order.refresh_from_db()
    assert order.status == Status.RUNNING and order.supplier_reference == "R"
    assert [c.method for c in locmem.calls_for(order.number)] == ["execute"]


def test_an_expired_lease_is_claimed_again_and_counts_an_attempt():
    customer = funded_customer(balance="50.00")
    order = place(customer, quantity=5)
    batch = claim_due(agent="dead-agent", limit=10)
    assert [c.order.pk for c in batch.claims] == [order.pk]
    assert claim_due(agent="other", limit=10).claims == []  # the lease holds
    Order.objects.filter(pk=order.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    run_once()
    order.refresh_from_db()
    assert order.status == Status.COMPLETED and order.attempts == 2
    takeover = order.events.get(from_status="running", to_status="running")
    assert takeover.agent == "t1"  # the history shows who took the order over
    assert [c.method for c in locmem.calls_for(order.number)] == ["execute"]
    assert_money_right(customer, "45.00")


def test_a_lost_lease_books_nothing():
    """An agent presumed dead that comes back must not book over the agent that took over."""
    from orders.agent.worker import LOST, run_claim

    customer = funded_customer(balance="50.00")
    order = place(customer, quantity=5)
    [claim] = claim_due(agent="slow", limit=1).claims
    Order.objects.filter(pk=order.pk).update(lease_expires_at=timezone.now())
    [retaken] = claim_due(agent="fast", limit=1).claims
    locmem.script(order.number, FulfilmentResult(outcome=Outcome.FAILED))
    assert run_claim(claim, agent="slow") == LOST
    order.refresh_from_db()
    assert order.status == Status.RUNNING and order.lease_owner == "fast"
    locmem.script(order.number, FulfilmentResult(outcome=Outcome.COMPLETED, delivered_quantity=5))
    run_claim(retaken, agent="fast")
    order.refresh_from_db()
    assert order.status == Status.COMPLETED
    assert_money_right(customer, "45.00")


def test_cancelled_orders_are_never_claimed():
    from orders.services import order_cancel

    customer = funded_customer(balance="50.00")
    order = place(customer, quantity=5)
    order_cancel(order=order, actor=None)
    run_once()
    assert locmem.calls == []
    assert_money_right(customer, "50.00")


def test_orders_are_taken_oldest_first_and_all_drained():
    customer = funded_customer()
    orders = [place(customer, quantity=1) for _ in range(5)]
    out = run_once()
    assert [c.number for c in locmem.calls] == [o.number for o in orders]
    assert finished_line(5) in out
    assert set(Order.objects.values_list("status", flat=True)) == {Status.COMPLETED}


def test_woken_numbers_are_claimed_first():
    customer = funded_customer()
    older = place(customer, quantity=1)
    newer = place(customer, quantity=1)
    batch = claim_due(agent="a", limit=1, prefer=[newer.number])
    assert [c.order.pk for c in batch.claims] == [newer.pk]
    assert Order.objects.get(pk=older.pk).status == Status.PENDING


def test_simulated_backend_is_deterministic_per_seed_and_order():
    customer = funded_customer()
    service = ServiceFactory(tiers=[(1, "1.00")], backend="simulated")
    orders = [place(customer, service, quantity=10) for _ in range(30)]
    options = {"duration": 0, "partial_rate": 0.3, "failure_rate": 0.2, "seed": 7}
    from orders.fulfilment.simulated import SimulatedBackend

    first = [SimulatedBackend(name="s", **options).execute(o) for o in orders]
    again = [SimulatedBackend(name="s", **options).execute(o) for o in reversed(orders)]
    assert first == list(reversed(again))
    slow = SimulatedBackend(name="s", **{**options, "duration": 0.0001})
    assert [slow.execute(o) for o in orders] == first  # the delay does not change the outcome
    outcomes = {r.outcome for r in first}
    assert outcomes == {Outcome.COMPLETED, Outcome.PARTIAL, Outcome.FAILED}
    for result in first:
        if result.outcome == Outcome.PARTIAL:
            assert 0 < result.delivered_quantity < 10


def test_run_agent_with_the_simulated_backend_books_every_order():
    customer = funded_customer(balance="1000.00")
    service = ServiceFactory(tiers=[(1, "1.00")], backend="simulated")
    sim = {
        "BACKEND": "orders.fulfilment.simulated.SimulatedBackend",
        "OPTIONS": {"duration": 0, "partial_rate": 0.3, "failure_rate": 0.2, "seed": 3},
    }
    for _ in range(20):
        place(customer, service, quantity=10)
    with override_settings(FULFILMENT_BACKENDS={"simulated": sim}):
        run_once()
    assert not Order.objects.exclude(status__in=Order.TERMINAL).exists()
    kept = sum(
        o.amount - undelivered_refund(order=o, delivered=o.delivered_quantity)
        for o in Order.objects.all()
    )
    assert_money_right(customer, Decimal("1000.00") - kept)


def test_unknown_backend_name_releases_the_order_instead_of_losing_it():
    customer = funded_customer(balance="50.00")
    order = place(customer, ServiceFactory(tiers=[(1, "1.00")], backend="nope"), quantity=5)
    run_once()
    order.refresh_from_db()
    assert order.status == Status.PENDING
    assert "nope" in order.last_error
    assert_money_right(customer, "45.00")


def test_run_agent_registers_and_stops_its_heartbeat_row():
    run_once()
    agent = Agent.objects.get(name="t1")
    assert agent.stopped_at is not None and agent.in_flight == 0
    assert agent.pid > 0 and agent.hostname


def test_a_second_live_agent_with_the_same_name_is_refused():
    Agent.objects.create(name="dup", hostname="elsewhere", pid=1)
    with pytest.raises(CommandError, match="dup"):
        call_command("run_agent", "--once", "--name", "dup", stdout=StringIO())
    # a stopped (or dead) one may be replaced
    Agent.objects.filter(name="dup").update(stopped_at=timezone.now())
    call_command("run_agent", "--once", "--name", "dup", stdout=StringIO())
    assert Agent.objects.get(name="dup").hostname != "elsewhere"


@pytest.mark.parametrize(
    "args",
    [
        ("--concurrency", "0"),
        ("--concurrency", "two"),
        ("--poll-interval", "0"),
        ("--poll-interval", "-1"),
    ],
)
def test_bad_options_are_usage_errors(args):
    with pytest.raises(CommandError):
        call_command("run_agent", "--once", *args, stdout=StringIO())


def test_register_twice_from_the_same_process_is_allowed():
    agent_register(name="same")
    agent_register(name="same")
    assert Agent.objects.filter(name="same").count() == 1


def test_order_events_name_the_agent():
    customer = funded_customer()
    order = place(customer, quantity=1)
    run_once()
    assert OrderEvent.objects.filter(order=order, agent="t1").count() == 2


@pytest.mark.parametrize(
    "answer",
    [
        FulfilmentResult(outcome=Outcome.FAILED, delivered_quantity=2),
        FulfilmentResult(outcome=Outcome.PARTIAL, delivered_quantity=0),
        FulfilmentResult(outcome=Outcome.PARTIAL, delivered_quantity=11),
        "not a result",
    ],
)
def test_a_contradictory_result_is_not_guessed_at_the_order_is_released(answer):
    customer = funded_customer(balance="50.00")
    order = place(customer, quantity=10)
    locmem.script(order.number, answer)
    out = run_once()
    order.refresh_from_db()
    assert order.status == Status.PENDING and "InvalidResult" in order.last_error
    assert f"{order.number} {outcome_label('released')}" in out
    assert_money_right(customer, "40.00")


def test_agents_silent_for_a_week_are_forgotten_at_the_next_start():
    old = Agent.objects.create(name="gone", hostname="h", pid=1)
    Agent.objects.filter(pk=old.pk).update(last_heartbeat_at=timezone.now() - timedelta(days=8))
    recent = Agent.objects.create(name="recent", hostname="h", pid=2, stopped_at=timezone.now())
    run_once()
    assert not Agent.objects.filter(pk=old.pk).exists()
    assert Agent.objects.filter(pk=recent.pk).exists()
