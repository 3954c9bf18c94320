"""The agent's row in ``orders.Agent``: registered at start, refreshed by the heartbeat."""

import os
import socket
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from orders.models import Agent

PRIMARY = "default"
FORGET_AFTER_DAYS = 7
NAME_IN_USE = _("An agent named %(name)s is already running (pid %(pid)s on %(host)s).")


class AgentNameInUse(DomainError):
    """Two live agents with one name would share leases; the second one must not start."""


def agent_register(*, name: str) -> Agent:
    """Record this process as agent ``name``; refuse if another live process uses the name."""
    hostname, pid, now = socket.gethostname(), os.getpid(), timezone.now()
    existing = Agent.objects.using(PRIMARY).filter(name=name).first()
    if existing is not None and (existing.hostname, existing.pid) != (hostname, pid):
        recent = (
            now - existing.last_heartbeat_at
        ).total_seconds() < settings.AGENT_HEARTBEAT_TIMEOUT
        if existing.stopped_at is None and recent:
            raise AgentNameInUse(NAME_IN_USE, name=name, pid=existing.pid, host=existing.hostname)
    # Every start under a default name (host:pid) adds a row; forget the long-gone ones.
    horizon = now - timedelta(days=FORGET_AFTER_DAYS)
    Agent.objects.using(PRIMARY).filter(last_heartbeat_at__lt=horizon).delete()
    agent, _created = Agent.objects.using(PRIMARY).update_or_create(
        name=name,
        defaults={
            "hostname": hostname,
            "pid": pid,
            "started_at": now,
            "last_heartbeat_at": now,
            "in_flight": 0,
            "processed": 0,
            "stopped_at": None,
        },
    )
    return agent


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
