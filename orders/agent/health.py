"""Agent liveness for ``GET /healthz`` (add ``orders.agent.health.check_agents`` to HEALTH_CHECKS).

No agent alive is an error only when it hurts: when an order has been waiting longer than
``AGENT_STALL_SECONDS`` (default 60). A quiet system with no agent stays healthy, so a
deployment that runs its agents from cron is not reported down between runs.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.cache import shortcut
from orders.models import Order
from orders.selectors import agents_alive

NO_AGENT = "error: no agent alive, {count} order(s) waiting over {seconds} s"
# The admin lists' "no agent is running" warning: a live agent is remembered this long (it may
# have died since, but a heartbeat is only "missed" after AGENT_HEARTBEAT_TIMEOUT, 30 s, anyway);
# "none alive" is never remembered, so the warning goes as soon as an agent starts.
ALIVE_CACHE_KEY = "orders:agents-alive"
ALIVE_CACHE_SECONDS = 5


def agents_alive_cached() -> bool:
    """Whether any agent is alive; while one is, the database is asked every few seconds only.

    For warnings shown on every list page (a query per page otherwise); decisions that
    must be current (``GET /healthz``) ask ``agents_alive()`` themselves.
    """
    if shortcut("get", ALIVE_CACHE_KEY):
        return True
    alive = agents_alive().exists()
    if alive:
        shortcut("set", ALIVE_CACHE_KEY, True, ALIVE_CACHE_SECONDS)
    return alive


def check_agents() -> dict[str, str]:
    """``{"agents": "ok"}``, or an error when orders wait and no agent is alive to take them."""
    try:
        if agents_alive().exists():
            return {"agents": "ok"}
        seconds = int(getattr(settings, "AGENT_STALL_SECONDS", 60))
        horizon = timezone.now() - timedelta(seconds=seconds)
        waiting = Order.objects.filter(status=Order.Status.PENDING, created_at__lt=horizon)[:1000]
        count = waiting.count()
    except Exception as exc:  # noqa: BLE001 - the database check reports the cause
        return {"agents": f"error: {exc.__class__.__name__}: {exc}"}
    if not count:
        return {"agents": "ok"}
    shown = "1000+" if count >= 1000 else str(count)
    return {"agents": NO_AGENT.format(count=shown, seconds=seconds)}
