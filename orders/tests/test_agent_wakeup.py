"""Wake-ups: order_place pushes to Redis after commit; without Redis the agents still poll."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from orders.agent import wakeup
from orders.agent.runner import Runner
from orders.fulfilment import locmem
from orders.models import Order
from orders.tests.test_agent_support import _fresh_locmem, funded_customer, place

__all__ = ["_fresh_locmem"]

# Redis "stopped": a closed local port (the shared Redis server is never touched).
DEAD_REDIS = "redis://127.0.0.1:1/0"
DEAD_CACHES = {
    alias: {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": DEAD_REDIS,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }
    for alias in ("default",)
} | {"sessions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def run_until(order_numbers: set[str], *, poll_interval: float, limit: float = 20.0) -> Runner:
    """Run a long-running agent in this thread until it has booked every given order."""
    left = set(order_numbers)

    def report(number, outcome, detail):
        left.discard(number)
        if not left:
            runner.stop()

    runner = Runner(name="waker", poll_interval=poll_interval, report=report)
    guard = threading.Timer(limit, runner.stop)
    guard.start()
    try:
        runner.run()
    finally:
        guard.cancel()
    assert not left, f"not processed within {limit} s: {left}"
    return runner


@pytest.mark.django_db
@override_settings(CACHES=DEAD_CACHES)
def test_with_redis_unreachable_placing_works_and_agents_poll(django_capture_on_commit_callbacks):
    customer = funded_customer()
    with django_capture_on_commit_callbacks(execute=True):
        order = place(customer, quantity=3)  # the wake-up hook fails quietly
    assert wakeup.wake([order.number]) is False
    # Not due for a second: the agent starts idle, its BRPOP fails, it polls and finds it.
    Order.objects.filter(pk=order.pk).update(lease_expires_at=timezone.now() + timedelta(seconds=1))
    started = time.monotonic()
    run_until({order.number}, poll_interval=0.2)
    assert time.monotonic() - started >= 0.9
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert [c.number for c in locmem.calls] == [order.number]


@pytest.mark.django_db
def test_without_redis_configured_the_agent_polls():
    customer = funded_customer()
    order = place(customer, quantity=3)
    Order.objects.filter(pk=order.pk).update(lease_expires_at=timezone.now() + timedelta(seconds=1))
    run_until({order.number}, poll_interval=0.2)
    assert Order.objects.get(pk=order.pk).status == Order.Status.COMPLETED


@pytest.mark.redis
@pytest.mark.django_db
def test_order_place_pushes_the_number_after_commit(django_capture_on_commit_callbacks):
    client = wakeup.redis_connection()
    client.delete(wakeup.wake_key())
    customer = funded_customer()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = place(customer, quantity=1)
    assert client.llen(wakeup.wake_key()) == 0  # nothing before the commit
    for callback in callbacks:
        callback()
    assert client.lrange(wakeup.wake_key(), 0, -1) == [order.number.encode()]
    client.delete(wakeup.wake_key())


@pytest.mark.concurrent_db
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_wake_up_gets_a_new_order_run_long_before_the_next_poll():
    wakeup.redis_connection().delete(wakeup.wake_key())
    customer = funded_customer()
    placed: dict[str, str] = {}

    def place_later():
        try:
            placed["number"] = place(customer, quantity=2).number
        finally:
            connection.close()

    runner = Runner(name="waker", poll_interval=30)
    done = threading.Event()
    runner.report = lambda number, outcome, detail: (done.set(), runner.stop())
    threading.Timer(1.0, place_later).start()
    guard = threading.Timer(20, runner.stop)
    guard.start()
    started = time.monotonic()
    runner.run()
    guard.cancel()
    elapsed = time.monotonic() - started
    assert done.is_set() and elapsed < 10, elapsed  # the poll alone would take 30 s
    assert Order.objects.get(number=placed["number"]).status == Order.Status.COMPLETED
