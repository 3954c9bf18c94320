"""Real agent processes: killed mid-order (SIGKILL) and stopped gracefully (SIGTERM)."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from orders.fulfilment import FulfilmentResult, Outcome, locmem
from orders.models import Agent, Order
from orders.tests.test_agent_support import (
    _fresh_locmem,
    assert_money_right,
    finished_line,
    funded_customer,
    place,
)
from wallet.models import Entry

pytestmark = [pytest.mark.concurrent_db, pytest.mark.django_db(transaction=True)]
__all__ = ["_fresh_locmem"]

# The child is a real `manage.py run_agent` (exit codes included) whose backend takes `delay`
# seconds per order and whose lease is short (2 s, extended every 0.3 s while the order runs).
CHILD = """
import os, sys
import django
django.setup()
from django.conf import settings
from django.core.management import execute_from_command_line
settings.FULFILMENT_BACKENDS = {"locmem": {
    "BACKEND": "orders.fulfilment.locmem.LocmemBackend", "OPTIONS": {"delay": float(sys.argv[1])}}}
settings.AGENT_LEASE_SECONDS = float(os.environ.get("TEST_AGENT_LEASE_SECONDS", "2"))
settings.AGENT_HEARTBEAT_INTERVAL = 0.3
settings.AGENT_POLL_INTERVAL = 0.2
execute_from_command_line(["manage.py", "run_agent", *sys.argv[2:]])
"""


def start_agent(
    name: str, delay: float, *options: str, lease_seconds: float = 2
) -> subprocess.Popen:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    scheme, port = {"mysql": ("mysql", 3306), "postgresql": ("postgres", 5432)}[connection.vendor]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"{scheme}://{auth}@{db['HOST']}:{db['PORT'] or port}/{db['NAME']}",
        "TEST_AGENT_LEASE_SECONDS": str(lease_seconds),
    }
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(delay), "--name", name, *options],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def running_under(order, name):
    return Order.objects.filter(pk=order.pk, status="running", lease_owner=name).first()


def test_a_killed_agent_s_order_is_finished_by_another_after_the_lease_expires():
    customer = funded_customer(balance="100.00")
    order = place(customer, quantity=10)  # 10.00
    child = start_agent("doomed", delay=60)
    try:
        first = wait_for(lambda: running_under(order, "doomed"), what="the child to claim")
        time.sleep(2.5)  # longer than the 2 s lease: only the heartbeat keeps it
        extended = running_under(order, "doomed")
        assert extended and extended.lease_expires_at > first.lease_expires_at
        assert extended.lease_expires_at > timezone.now()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    assert Agent.objects.get(name="doomed").stopped_at is None  # died without saying so

    # Before the lease runs out nobody else may take it.
    call_command("run_agent", "--once", "--name", "early", stdout=StringIO())
    assert locmem.calls == []
    wait_for(
        lambda: Order.objects.get(pk=order.pk).lease_expires_at < timezone.now(),
        what="the lease to expire",
    )
    locmem.script(order.number, FulfilmentResult(outcome=Outcome.PARTIAL, delivered_quantity=6))
    call_command("run_agent", "--once", "--name", "rescuer", stdout=StringIO())

    order.refresh_from_db()
    assert order.status == Order.Status.PARTIAL and order.attempts == 2
    assert list(order.events.values_list("from_status", "to_status", "agent")) == [
        ("", "pending", ""),
        ("pending", "running", "doomed"),
        ("running", "running", "rescuer"),
        ("running", "partial", "rescuer"),
    ]
    entries = Entry.objects.filter(order_number=order.number).order_by("id")
    assert [(e.kind, e.amount) for e in entries] == [
        ("order_debit", Decimal("-10.00")),
        ("refund", Decimal("4.00")),
    ]
    assert_money_right(customer, "94.00")


def test_sigterm_lets_the_order_in_flight_finish_then_exits_cleanly():
    customer = funded_customer(balance="100.00")
    order = place(customer, quantity=5)
    child = start_agent("graceful", delay=2)
    try:
        wait_for(lambda: running_under(order, "graceful"), what="the child to claim")
        child.send_signal(signal.SIGTERM)
        output, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, output
    assert finished_line(1) in output
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED and order.attempts == 1
    agent = Agent.objects.get(name="graceful")
    assert agent.stopped_at is not None and agent.in_flight == 0 and agent.processed == 1
    assert_money_right(customer, "95.00")


@pytest.mark.parametrize("concurrency", ["1", "2"])  # inline, and on worker threads
def test_a_second_signal_exits_at_once_leaving_the_order_to_its_lease(concurrency):
    customer = funded_customer(balance="100.00")
    order = place(customer, quantity=5)
    child = start_agent("impatient", 60, "--concurrency", concurrency)
    try:
        wait_for(lambda: running_under(order, "impatient"), what="the child to claim")
        # Claimed is not yet started: a batch claim marks the order running first, and a SIGTERM
        # before its supplier call releases it. Let the (60 s) call begin.
        time.sleep(0.5)
        child.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        child.send_signal(signal.SIGINT)
        output, _ = child.communicate(timeout=15)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, output
    assert Agent.objects.get(name="impatient").stopped_at is not None
    # Still running under the dead agent's lease: the next agent takes it when the lease ends.
    assert running_under(order, "impatient")
    assert_money_right(customer, "95.00")


def test_a_killed_agent_restarted_under_its_name_starts_at_once_and_takes_its_order_over():
    """kill -9, then the same name at once: no refusal, no wait for the lease (60 s here) or the
    heartbeat timeout (30 s); the order is re-run under the same number and finished once."""
    customer = funded_customer(balance="100.00")
    order = place(customer, quantity=10)  # 10.00
    child = start_agent("a1", 60, lease_seconds=60)
    try:
        wait_for(lambda: running_under(order, "a1"), what="the child to claim")
        dead = Agent.objects.get(name="a1")
        assert dead.process_key  # recorded: host, boot, pid namespace, start time
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert running_under(order, "a1").lease_expires_at > timezone.now() + timedelta(seconds=50)

    killed_at = time.monotonic()
    restarted = start_agent("a1", 0.2, "--once", lease_seconds=60)
    output, _ = restarted.communicate(timeout=60)
    took = time.monotonic() - killed_at
    assert restarted.returncode == 0, output
    assert took < 25, f"the restart waited {took:.1f} s"  # well under the 30 s and 60 s waits
    assert finished_line(1) in output

    order.refresh_from_db()
    assert (order.status, order.attempts, order.lease_owner) == ("completed", 2, "a1")
    assert list(order.events.values_list("from_status", "to_status", "agent")) == [
        ("", "pending", ""),
        ("pending", "running", "a1"),
        ("running", "running", "a1"),  # taken over from the dead process
        ("running", "completed", "a1"),
    ]
    agent = Agent.objects.get(name="a1")
    assert agent.pid == restarted.pid and agent.pid != dead.pid and agent.stopped_at
    entries = Entry.objects.filter(order_number=order.number)
    assert [(e.kind, e.amount) for e in entries] == [("order_debit", Decimal("-10.00"))]
    assert_money_right(customer, "90.00")


def test_a_live_agent_s_name_is_still_refused_on_the_same_host():
    child = start_agent("busy", 60)
    try:
        wait_for(lambda: Agent.objects.filter(name="busy", stopped_at=None).exists(), what="start")
        second = start_agent("busy", 0, "--once")
        output, _ = second.communicate(timeout=60)
    finally:
        child.kill()
        child.wait(timeout=10)
    assert second.returncode != 0
    assert Agent.objects.get(name="busy").pid == child.pid
