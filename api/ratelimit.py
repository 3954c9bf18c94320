"""Per-key request limits: fixed one-second and one-minute windows counted in the cache
(Redis when ``REDIS_URL`` is set, so every web process shares the counts; local memory else).
"""

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache

from api.exceptions import RATE_LIMITED, RateLimited

logger = logging.getLogger(__name__)


def _count(cache_key: str, window: int) -> int:
    # add() is a no-op when the counter exists; incr() is atomic in Redis and under locmem's lock.
    cache.add(cache_key, 0, timeout=window + 1)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 1)
        return 1


def rate_limit_check(*, key_id: int) -> None:
    """Count one request of the key; RateLimited (429, ``Retry-After``) past either limit.

    A cache outage lets requests through (logged): the limits protect the service, and a
    Redis restart must not stop every reseller's integration.
    """
    now = time.time()
    limits = ((1, settings.API_RATE_PER_SECOND), (60, settings.API_RATE_PER_MINUTE))
    for window, limit in limits:
        if not limit:
            continue
        bucket = int(now // window)
        try:
            count = _count(f"api:rate:{key_id}:{window}:{bucket}", window)
        except Exception:  # noqa: BLE001 - any cache failure: fail open, say so in the log
            logger.warning("api rate limit: cache unavailable, request let through", exc_info=True)
            return
        if count > limit:
            retry = max(1, math.ceil((bucket + 1) * window - now))
            raise RateLimited(RATE_LIMITED, seconds=retry, headers={"Retry-After": str(retry)})
