"""Read/write splitting (the seed's 读写分离) and per-app databases (分库).

Where a query goes:

- Writes: the primary (``default``); tables listed in ``DATABASE_LOGS_MODELS`` go to ``logs``
  when ``DATABASE_LOGS_URL`` configures that alias.
- Reads: a replica from ``DATABASE_READ_REPLICAS``, except
  - inside a transaction on the primary (a service that locked a row reads what it wrote);
  - apps in ``DATABASE_PRIMARY_ONLY_APPS`` (the wallet: money never trusts a replica; sessions
    and login lockouts, which must not lag);
  - for ``DATABASE_READ_YOUR_WRITES_SECONDS`` after a request of the same browser wrote to the
    primary (``ReadYourWritesMiddleware``), so nobody misses their new order or sees their old
    balance;
  - in a process that called :func:`use_primary_only` (the fulfilment agent);
  - when the replica lags more than ``DATABASE_REPLICA_MAX_LAG`` seconds, has its replication
    stopped, or cannot be reached (:func:`replica_status`, measured on the replica and cached
    for ``DATABASE_REPLICA_CHECK_SECONDS``). The change is logged once, and ``/healthz`` shows it
    (``core.health.check_replicas``) without failing.
"""

from __future__ import annotations

import contextvars
import logging
import random
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

PRIMARY = "default"
LOGS = "logs"

READ_YOUR_WRITES_COOKIE = "op_rw"
_COOKIE_SALT = "config.db_router.read-your-writes"
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE")

# True while the current request (or block) must read the primary.
_pinned: contextvars.ContextVar[bool] = contextvars.ContextVar("db_pinned", default=False)
_process_primary_only = False


def use_primary_only() -> None:
    """From now on this whole process reads the primary (every thread): the agent calls it."""
    global _process_primary_only
    _process_primary_only = True


@contextmanager
def primary_reads():
    """Within the block, reads in this thread/task go to the primary."""
    token = _pinned.set(True)
    try:
        yield
    finally:
        _pinned.reset(token)


def reads_pinned_to_primary() -> bool:
    """Whether a read routed now would be kept on the primary whatever the replicas' state."""
    return _process_primary_only or _pinned.get()


# ---------------------------------------------------------------------------------------------
# Replica state: measured on the replica, cached per process
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplicaStatus:
    state: str  # "ok" | "lagging" | "stopped" | "down"
    lag: int | None = None  # seconds behind the primary, when the replica knows
    detail: str = ""

    @property
    def usable(self) -> bool:
        return self.state == "ok"

    def describe(self) -> str:
        """``ok``, ``lagging 12 s``, ``stopped`` or ``down`` (what /healthz shows)."""
        if self.state == "lagging":
            return f"lagging {self.lag} s"
        return self.state


_status_cache: dict[str, tuple[float, ReplicaStatus]] = {}
_last_logged: dict[str, str] = {}
_status_lock = threading.Lock()


def _max_lag() -> float:
    return float(getattr(settings, "DATABASE_REPLICA_MAX_LAG", 5))


def _measure(alias: str) -> ReplicaStatus:
    """Ask the replica how far behind it is (MariaDB/MySQL and PostgreSQL); never raises."""
    connection = None
    try:
        connection = connections[alias]
        with connection.cursor() as cursor:
            if connection.vendor == "mysql":
                cursor.execute("SHOW SLAVE STATUS")
                row = cursor.fetchone()
                if row is None:
                    return ReplicaStatus("stopped", detail="not configured as a replica")
                fields = dict(zip([c[0] for c in cursor.description], row, strict=False))
                io_running = fields.get("Slave_IO_Running")
                sql_running = fields.get("Slave_SQL_Running")
                lag = fields.get("Seconds_Behind_Master")
                if sql_running != "Yes":
                    # Nothing is applied any more: every write on the primary is missing here.
                    return ReplicaStatus("stopped", detail=str(fields.get("Last_Error") or ""))
                if lag is None:
                    return ReplicaStatus("stopped", detail=f"IO thread {io_running}")
                lag = int(lag)
            elif connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT pg_is_in_recovery(),"
                    " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
                )
                in_recovery, seconds = cursor.fetchone()
                if not in_recovery:
                    return ReplicaStatus("stopped", detail="not in recovery (not a standby)")
                lag = int(seconds or 0)
            else:
                # SQLite (a test mirror): nothing replicates, nothing can lag.
                cursor.execute("SELECT 1")
                return ReplicaStatus("ok", lag=0)
    except Exception as exc:  # noqa: BLE001 - unreachable in any way means "down"
        try:
            if connection is not None:
                connection.close()
        except Exception:  # noqa: BLE001, S110 - already broken; the next use reconnects
            pass
        return ReplicaStatus("down", detail=f"{exc.__class__.__name__}: {exc}")
    if lag > _max_lag():
        return ReplicaStatus("lagging", lag=lag)
    return ReplicaStatus("ok", lag=lag)


def replica_status(alias: str, *, fresh: bool = False) -> ReplicaStatus:
    """The replica's state, measured at most every ``DATABASE_REPLICA_CHECK_SECONDS``."""
    now = time.monotonic()
    ttl = float(getattr(settings, "DATABASE_REPLICA_CHECK_SECONDS", 2))
    cached = _status_cache.get(alias)
    if cached and not fresh and now - cached[0] < ttl:
        return cached[1]
    status = _measure(alias)
    with _status_lock:
        _status_cache[alias] = (now, status)
        previous = _last_logged.get(alias, "ok")
        _last_logged[alias] = status.state
    if status.state != previous:
        # Once per change, not once per query.
        if status.usable:
            logger.warning("replica %s is back in use (lag %s s)", alias, status.lag)
        else:
            logger.warning(
                "replica %s left out, reads go to the primary: %s %s",
                alias,
                status.describe(),
                status.detail,
            )
    return status


def forget_replica_status() -> None:
    """Drop the cached measurements (tests, and after a replica is repaired)."""
    with _status_lock:
        _status_cache.clear()
        _last_logged.clear()


def usable_replicas() -> list[str]:
    return [alias for alias in settings.DATABASE_READ_REPLICAS if replica_status(alias).usable]


# ---------------------------------------------------------------------------------------------
# The router
# ---------------------------------------------------------------------------------------------


def _model_label(model) -> str:
    return f"{model._meta.app_label}.{model._meta.object_name}".lower()


def logs_models() -> set[str]:
    return {label.lower() for label in getattr(settings, "DATABASE_LOGS_MODELS", [])}


def logs_enabled() -> bool:
    return LOGS in settings.DATABASES


class PrimaryReplicaRouter:
    """Reads to a healthy replica, writes to the primary, log tables to ``logs`` if configured."""

    def _logs_alias(self, model) -> str | None:
        if logs_enabled() and _model_label(model) in logs_models():
            return LOGS
        return None

    def db_for_read(self, model, **hints):
        """A usable replica unless one of the rules in the module docstring keeps the primary."""
        logs = self._logs_alias(model)
        if logs:
            return logs
        if not settings.DATABASE_READ_REPLICAS:
            return PRIMARY
        if reads_pinned_to_primary() or connections[PRIMARY].in_atomic_block:
            return PRIMARY
        if model._meta.app_label in getattr(settings, "DATABASE_PRIMARY_ONLY_APPS", ()):
            return PRIMARY
        replicas = usable_replicas()
        if not replicas:
            return PRIMARY
        return random.choice(replicas)

    def db_for_write(self, model, **hints):
        """The primary, or ``logs`` for the log tables when that database is configured."""
        return self._logs_alias(model) or PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        """Primary and replicas hold the same data; nothing relates across to ``logs``."""
        dbs = {obj1._state.db, obj2._state.db}
        if LOGS in dbs and len(dbs) > 1:
            return False
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        """Log tables on ``logs`` (when configured), everything else on the primary only.

        Replicas get their schema by replication, so they are never migrated directly.
        """
        in_logs = False
        if logs_enabled() and model_name is not None:
            in_logs = f"{app_label}.{model_name}".lower() in logs_models()
        if db == LOGS:
            return in_logs
        if db == PRIMARY:
            return not in_logs
        return False


# ---------------------------------------------------------------------------------------------
# Read-your-writes
# ---------------------------------------------------------------------------------------------


def _is_write(sql) -> bool:
    return str(sql).lstrip().lstrip("(").upper().startswith(_WRITE_VERBS)


class ReadYourWritesMiddleware:
    """After a request wrote to the primary, the same browser reads the primary for a while.

    A write is noticed on the primary connection itself (an ``execute_wrapper``), so it does not
    matter which service wrote or whether it used ``.using("default")``. The window is carried
    by a signed, timestamped cookie (no session write, works before login), valid for
    ``DATABASE_READ_YOUR_WRITES_SECONDS``. Without replicas the middleware does nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.DATABASE_READ_REPLICAS:
            return self.get_response(request)
        window = int(getattr(settings, "DATABASE_READ_YOUR_WRITES_SECONDS", 10))
        pinned = (
            request.get_signed_cookie(
                READ_YOUR_WRITES_COOKIE, default=None, salt=_COOKIE_SALT, max_age=window
            )
            is not None
        )
        wrote = False

        def notice_writes(execute, sql, params, many, context):
            nonlocal wrote
            if not wrote and _is_write(sql):
                wrote = True
                # Later reads in this same request see the write too.
                _pinned.set(True)
            return execute(sql, params, many, context)

        token = _pinned.set(pinned)
        try:
            with connections[PRIMARY].execute_wrapper(notice_writes):
                response = self.get_response(request)
        finally:
            _pinned.reset(token)
        if wrote and window > 0:
            response.set_signed_cookie(
                READ_YOUR_WRITES_COOKIE,
                "1",
                salt=_COOKIE_SALT,
                max_age=window,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
