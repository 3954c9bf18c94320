"""Waking agents up through Redis. Only a hint: losing it loses no order (agents also poll)."""

import logging

from django.conf import settings

logger = logging.getLogger(__name__)

WAKE_LIST_MAX = 10_000  # wake-ups kept while no agent takes them; the database has the rest


def wake_key() -> str:
    """The Redis list agents block on."""
    return f"{settings.CACHE_KEY_PREFIX}:agent:wake"


def redis_connection():
    """The default cache's Redis client, or None when the cache is not Redis."""
    if "django_redis" not in settings.CACHES["default"]["BACKEND"]:
        return None
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def wake(order_numbers: list[str]) -> bool:
    """Push order numbers for the agents; False when Redis is absent or down (agents poll)."""
    if not order_numbers:
        return False
    connection = redis_connection()
    if connection is None:
        return False
    try:
        # Bounded: with no agent running the list would otherwise grow with every order.
        pipeline = connection.pipeline(transaction=False)
        pipeline.lpush(wake_key(), *order_numbers)
        pipeline.ltrim(wake_key(), 0, WAKE_LIST_MAX - 1)
        pipeline.execute()
    except Exception:  # noqa: BLE001 - a lost wake-up only delays an order until the next poll
        logger.warning("could not wake the agents through Redis", exc_info=True)
        return False
    return True


def orders_run_now(*, order_numbers: list[str]) -> bool:
    """Make pending orders due at once (cancel a retry delay) and wake the agents for them.

    Returns whether the wake-up was sent; without it the agents still find the orders at their
    next poll.
    """
    from orders.services import orders_make_due

    orders_make_due(order_numbers=order_numbers)
    return wake(order_numbers)
