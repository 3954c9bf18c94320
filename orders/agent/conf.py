"""The agent's settings, each read with a default so a deployment needs none of them.

``AGENT_LEASE_SECONDS`` (60)
    How long a claim holds an order. A running agent extends the lease of every order in flight
    every ``AGENT_HEARTBEAT_INTERVAL``; an order whose lease ran out is claimed again.
``AGENT_HEARTBEAT_INTERVAL`` (10)
    Seconds between heartbeats (the Agent row and lease extension). Keep it well under both
    ``AGENT_LEASE_SECONDS`` and ``AGENT_HEARTBEAT_TIMEOUT``.
``AGENT_MAX_ATTEMPTS`` (5)
    Claims an order may have; a due order that already had this many fails and is refunded.
``AGENT_POLL_INTERVAL`` (5)
    Seconds an idle agent waits for a Redis wake-up before it looks at the database anyway.
``AGENT_RETRY_DELAY`` (10)
    Seconds before a released order is due again, doubled per attempt (capped at 10 minutes).
``AGENT_ACCEPTED_POLL_SECONDS`` (60)
    Seconds between status queries for an order the supplier accepted and will answer later.
``AGENT_CLAIM_BATCH`` (10)
    Orders one claim takes at most (1 to ``CLAIM_BATCH_MAX``); the completed ones are booked
    together too. Larger batches cost fewer statements per order, smaller ones share a short
    queue more evenly between agents and keep fewer orders waiting behind a slow one.
``AGENT_SHUTDOWN_GRACE`` (60)
    On SIGTERM/SIGINT, how long to wait for orders in flight before exiting anyway (their lease
    then expires and another agent takes them).
"""

from django.conf import settings

RETRY_DELAY_CAP = 600
CLAIM_BATCH_MAX = 100


def _setting(name: str, default):
    return getattr(settings, name, default)


def lease_seconds() -> float:
    return float(_setting("AGENT_LEASE_SECONDS", 60))


def heartbeat_interval() -> float:
    return float(_setting("AGENT_HEARTBEAT_INTERVAL", 10))


def max_attempts() -> int:
    return int(_setting("AGENT_MAX_ATTEMPTS", 5))


def poll_interval() -> float:
    return float(_setting("AGENT_POLL_INTERVAL", 5))


def retry_delay(attempts: int) -> float:
    """Seconds before an order released after its ``attempts``-th claim is due again."""
    base = float(_setting("AGENT_RETRY_DELAY", 10))
    return min(base * 2 ** max(attempts - 1, 0), RETRY_DELAY_CAP)


def accepted_poll_seconds() -> float:
    return float(_setting("AGENT_ACCEPTED_POLL_SECONDS", 60))


def shutdown_grace() -> float:
    return float(_setting("AGENT_SHUTDOWN_GRACE", 60))


def claim_batch() -> int:
    """Orders per claim (and per bulk completion), bounded to 1 … CLAIM_BATCH_MAX."""
    return min(max(int(_setting("AGENT_CLAIM_BATCH", 10)), 1), CLAIM_BATCH_MAX)
