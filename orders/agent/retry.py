"""Retrying a database-only transaction that the database chose as a deadlock victim."""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError

logger = logging.getLogger(__name__)

T = TypeVar("T")

MYSQL_DEADLOCK, MYSQL_LOCK_WAIT_TIMEOUT = 1213, 1205
POSTGRES_RETRYABLE = {"40P01", "40001"}  # deadlock detected, serialization failure


def is_deadlock(exc: BaseException) -> bool:
    """Whether the database rolled the transaction back to break a deadlock (safe to rerun)."""
    if not isinstance(exc, OperationalError):
        return False
    if exc.args and exc.args[0] in (MYSQL_DEADLOCK, MYSQL_LOCK_WAIT_TIMEOUT):
        return True
    return getattr(exc.__cause__, "sqlstate", None) in POSTGRES_RETRYABLE


def retry_deadlocks(work: Callable[[], T], *, attempts: int = 5) -> T:
    """Run ``work`` (one whole transaction, no network), again if it lost a deadlock."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            if attempt == attempts or not is_deadlock(exc):
                raise
            logger.info("deadlock victim, retrying (%d/%d): %s", attempt, attempts, exc)
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")
