"""The agent's row in ``orders.Agent``: registered at start, refreshed by the heartbeat.

A name belongs to one live process. The row records the holder's host name, pid and process
identity (``process_key``: boot id, pid namespace, pid and the kernel's start time of the
process, read from Linux ``/proc``), so that a restart on the same host can tell at once whether the
holder still runs:

- same host (same host name, boot and pid namespace): the holder is gone when no process with
  its pid exists, or the process with that pid started at another time (the pid was reused).
  Then the new agent takes the name at once and ends the holder's leases at once (its orders are
  re-run or re-polled under the usual exactly-once rules). A live holder keeps its name, however
  old its heartbeat: two processes sharing a name would share leases.
- another host (or no ``/proc``): the holder is presumed dead when it stopped cleanly or its
  heartbeat is older than ``AGENT_HEARTBEAT_TIMEOUT``; its orders wait for their lease.
"""

import logging
import os
import socket
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from orders.agent.retry import retry_deadlocks
from orders.models import Agent
from orders.services import order_leases_expire

logger = logging.getLogger(__name__)

PRIMARY = "default"
FORGET_AFTER_DAYS = 7
NAME_IN_USE = _("An agent named %(name)s is already running (pid %(pid)s on %(host)s).")

# What a restart finds about the name's recorded holder.
SELF = "self"  # this very process registered it before
FREE = "free"  # stopped cleanly, or presumed dead by its heartbeat (another host)
DEAD = "dead"  # on this host and its process is gone: its leases end now
ALIVE = "alive"  # still running: the name is refused

_PROC = Path("/proc")


class AgentNameInUse(DomainError):
    """Two live agents with one name would share leases; the second one must not start."""


def host_key() -> str:
    """This host's boot and pid namespace ("" without Linux /proc): pids are unique within it."""
    try:
        boot = (_PROC / "sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink(_PROC / "self/ns/pid")
    except OSError:
        return ""
    return f"{boot}/{namespace}"


def process_key(pid: int) -> str:
    """``<host key>|<pid>|<start time>`` of a live process on this host, else "".

    The start time (clock ticks since boot) tells a reused pid apart; the pid is part of the key
    because a parent and the child it forks often start in the same tick.
    """
    host = host_key()
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:  # no such process (or no /proc)
        return ""
    # Fields after "(comm)": state is the first, the start time (field 22) the 20th.
    fields = stat.rsplit(")", 1)[-1].split()
    if not host or len(fields) < 20 or fields[0] in ("Z", "X"):  # zombie: already dead
        return ""
    return f"{host}|{pid}|{fields[19]}"


def holder_state(
    holder: Agent,
    *,
    hostname: str,
    pid: int,
    own_key: str,
    now,
    probe=process_key,
) -> str:
    """SELF, FREE, DEAD or ALIVE: what a process on ``hostname`` may do with ``holder``'s name.

    ``probe(pid)`` gives the process key of a live local process ("" when there is none).
    """
    if holder.hostname == hostname and (
        holder.pid == pid if not holder.process_key else holder.process_key == own_key
    ):
        return SELF
    here = own_key.split("|", 1)[0]
    recorded_host = holder.process_key.split("|", 1)[0]
    if here and holder.hostname == hostname and recorded_host == here:
        if probe(holder.pid) != holder.process_key:
            return DEAD  # no such process, a zombie, or another process reusing the pid
        return FREE if holder.stopped_at is not None else ALIVE
    if holder.stopped_at is not None:
        return FREE
    silent = (now - holder.last_heartbeat_at).total_seconds()
    return FREE if silent >= settings.AGENT_HEARTBEAT_TIMEOUT else ALIVE


def agent_register(*, name: str) -> Agent:
    """Record this process as agent ``name``; refuse if another live process uses the name.

    When the recorded holder is a dead process on this host, its leases end at once so that this
    agent's first claim takes its orders over.
    """

    def register() -> Agent:
        try:
            return _register(name)
        except IntegrityError:
            # Another process created the row for this new name first: decide again against it.
            return _register(name)

    # Ending a dead holder's leases updates running orders while other agents claim and book
    # theirs in batches: InnoDB may choose this transaction as a deadlock victim; run it again.
    return retry_deadlocks(register)


def _register(name: str) -> Agent:
    hostname, pid, now = socket.gethostname(), os.getpid(), timezone.now()
    own_key = process_key(pid)
    fields = {
        "hostname": hostname,
        "pid": pid,
        "process_key": own_key,
        "started_at": now,
        "last_heartbeat_at": now,
        "in_flight": 0,
        "processed": 0,
        "stopped_at": None,
    }
    agents = Agent.objects.using(PRIMARY)
    with transaction.atomic(using=PRIMARY):
        # Every start under a default name (host:pid) adds a row; forget the long-gone ones.
        horizon = now - timedelta(days=FORGET_AFTER_DAYS)
        agents.filter(last_heartbeat_at__lt=horizon).exclude(name=name).delete()
        # Locked: two restarts racing for a dead holder's name cannot both take it.
        holder = agents.select_for_update().filter(name=name).first()
        if holder is None:
            return agents.create(name=name, **fields)  # a race for a new name: IntegrityError
        state = holder_state(holder, hostname=hostname, pid=pid, own_key=own_key, now=now)
        if state == ALIVE:
            raise AgentNameInUse(NAME_IN_USE, name=name, pid=holder.pid, host=holder.hostname)
        if state == DEAD:
            ended = order_leases_expire(agent=name)
            logger.warning(
                "agent %s: the previous process (pid %s) is gone; took over %d order(s) at once",
                name,
                holder.pid,
                ended,
            )
        for field, value in fields.items():
            setattr(holder, field, value)
        holder.save(using=PRIMARY)
    return holder


def heartbeat(*, name: str, in_flight: int, processed: int) -> None:
    """Say the agent is alive, with what it is doing."""
    Agent.objects.using(PRIMARY).filter(name=name).update(
        last_heartbeat_at=timezone.now(), in_flight=in_flight, processed=processed, stopped_at=None
    )


def agent_stopped(*, name: str, processed: int) -> None:
    """Record a clean stop, so the admin shows the agent as stopped rather than dead."""
    now = timezone.now()
    Agent.objects.using(PRIMARY).filter(name=name).update(
        last_heartbeat_at=now, in_flight=0, processed=processed, stopped_at=now
    )
