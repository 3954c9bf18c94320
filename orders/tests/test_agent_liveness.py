"""Who may take an agent's name: a dead process on this host at once, elsewhere by heartbeat."""

import os
import socket
import subprocess
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders.agent.heartbeat import (
    ALIVE,
    DEAD,
    FREE,
    SELF,
    AgentNameInUse,
    agent_register,
    holder_state,
    host_key,
    process_key,
)
from orders.fulfilment import locmem
from orders.models import Agent, Order
from orders.services import order_start
from orders.tests.test_agent_support import assert_money_right, funded_customer, place

HOST = "web-1"
HERE = "boot-a/pid:[1]"  # this host's boot and pid namespace
OWN = f"{HERE}|7|900"  # the new process, pid 7
OLD = f"{HERE}|4242|100"  # the recorded holder, pid 4242 started at tick 100


def holder(**fields) -> Agent:
    now = timezone.now()
    defaults = {
        "name": "a1",
        "hostname": HOST,
        "pid": 4242,
        "process_key": OLD,
        "last_heartbeat_at": now,
    }
    return Agent(**(defaults | fields))


def state(agent: Agent, *, running: dict[int, str], own_key=OWN, hostname=HOST, now=None) -> str:
    return holder_state(
        agent,
        hostname=hostname,
        pid=7,
        own_key=own_key,
        now=now or timezone.now(),
        probe=lambda pid: running.get(pid, ""),
    )


def test_same_host_and_the_process_is_gone_is_dead_at_once():
    assert state(holder(), running={}) == DEAD  # heartbeat a moment ago: irrelevant


def test_same_host_and_the_pid_reused_by_another_process_is_dead():
    assert state(holder(), running={4242: f"{HERE}|4242|555"}) == DEAD


def test_same_host_and_the_process_alive_is_refused_however_old_its_heartbeat():
    old = timezone.now() - timedelta(hours=1)
    assert state(holder(last_heartbeat_at=old), running={4242: OLD}) == ALIVE


def test_same_host_alive_but_stopped_cleanly_is_free():
    assert state(holder(stopped_at=timezone.now()), running={4242: OLD}) == FREE


def test_other_host_is_decided_by_the_heartbeat(settings):
    settings.AGENT_HEARTBEAT_TIMEOUT = 30
    now = timezone.now()
    # The probe would say "no such process" here, but a pid on another host means nothing.
    recent = holder(hostname="web-2", last_heartbeat_at=now - timedelta(seconds=29))
    silent = holder(hostname="web-2", last_heartbeat_at=now - timedelta(seconds=31))
    assert state(recent, running={}, now=now) == ALIVE
    assert state(silent, running={}, now=now) == FREE
    assert state(holder(hostname="web-2", stopped_at=now), running={}, now=now) == FREE


def test_same_host_name_after_a_reboot_or_in_another_pid_namespace_is_another_host():
    now = timezone.now()
    rebooted = holder(process_key="boot-b/pid:[1]|4242|100")
    assert state(rebooted, running={}, now=now) == ALIVE  # heartbeat recent: wait for it
    assert state(holder(), running={}, own_key="", now=now) == ALIVE  # no /proc here


def test_an_old_row_without_process_identity_falls_back_to_the_heartbeat():
    assert state(holder(process_key=""), running={}) == ALIVE


def test_the_same_process_registering_again_is_itself():
    assert state(holder(pid=7, process_key=OWN), running={}) == SELF


def test_a_parent_started_in_the_same_clock_tick_is_another_process():
    parent = f"{HERE}|4242|900"  # same start tick as OWN, another pid
    assert state(holder(process_key=parent), running={4242: parent}) == ALIVE


@pytest.mark.skipif(not host_key(), reason="needs Linux /proc")
def test_process_key_identifies_a_live_process_and_not_a_dead_one():
    mine = process_key(os.getpid())
    assert mine.startswith(f"{host_key()}|{os.getpid()}|") and mine == process_key(os.getpid())
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert process_key(child.pid) not in ("", mine)
    finally:
        child.kill()
        child.wait()
    assert process_key(child.pid) == ""


# -- through agent_register, on the real database --------------------------------------------


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.fixture
def held_order(db):
    customer = funded_customer(balance="100.00")
    order = place(customer, quantity=10)
    lease = timezone.now() + timedelta(minutes=5)
    return customer, order_start(order=order, agent="a1", lease_until=lease)


@pytest.mark.skipif(not host_key(), reason="needs Linux /proc")
def test_register_takes_a_dead_local_holder_s_name_and_leases_at_once(held_order):
    customer, order = held_order
    pid = dead_pid()
    Agent.objects.create(
        name="a1",
        hostname=socket.gethostname(),
        pid=pid,
        process_key=f"{host_key()}|{pid}|1",
        last_heartbeat_at=timezone.now(),
    )
    agent = agent_register(name="a1")
    assert (agent.pid, agent.process_key) == (os.getpid(), process_key(os.getpid()))
    order.refresh_from_db()
    assert order.lease_expires_at <= timezone.now() and order.lease_owner == "a1"

    # The next claim re-runs it: one more attempt, completed once, charged once.
    call_command("run_agent", "--once", "--name", "a1", verbosity=0)
    order.refresh_from_db()
    assert (order.status, order.attempts) == (Order.Status.COMPLETED, 2)
    assert [c.method for c in locmem.calls_for(order.number)] == ["execute"]
    assert_money_right(customer, "90.00")


@pytest.mark.skipif(not host_key(), reason="needs Linux /proc")
def test_register_refuses_a_live_local_holder_and_touches_no_lease(held_order):
    _customer, order = held_order
    parent = os.getppid()
    Agent.objects.create(
        name="a1",
        hostname=socket.gethostname(),
        pid=parent,
        process_key=process_key(parent),
        last_heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    with pytest.raises(AgentNameInUse, match="a1"):
        agent_register(name="a1")
    before = order.lease_expires_at
    order.refresh_from_db()
    assert order.lease_expires_at == before and Agent.objects.get(name="a1").pid == parent


def test_register_leaves_another_host_s_leases_to_expire(held_order, settings):
    _customer, order = held_order
    settings.AGENT_HEARTBEAT_TIMEOUT = 30
    Agent.objects.create(
        name="a1",
        hostname="elsewhere",
        pid=dead_pid(),
        process_key="other-boot/pid:[9]|5|1",
        last_heartbeat_at=timezone.now() - timedelta(seconds=31),
    )
    agent_register(name="a1")  # silent long enough: the name is free
    before = order.lease_expires_at
    order.refresh_from_db()
    assert order.lease_expires_at == before  # but its orders wait for their lease
