"""The cache used as a shortcut only: an unreachable cache (Redis restarting) costs a database
read, never a failed page. For values whose loss is harmless — counts, catalogues, "no alert",
figures — not for counters that enforce a limit (SMS codes, API rate limits decide for
themselves what an outage means).
"""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)


def shortcut(method: str, *args, **kwargs):
    """``cache.<method>(*args)``, or None when the cache fails (logged)."""
    try:
        return getattr(cache, method)(*args, **kwargs)
    except Exception:  # noqa: BLE001 - any cache failure means "go to the database"
        logger.warning("cache %s %s failed; using the database", method, args[:1], exc_info=True)
        return None
