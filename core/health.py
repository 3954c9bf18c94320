"""Dependency checks behind ``GET /healthz``."""

import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.utils.module_loading import import_string


def check_databases() -> dict[str, str]:
    """Run ``SELECT 1`` on every configured database alias (replicas: ``check_replicas``)."""
    results = {}
    for alias in connections:
        if alias in settings.DATABASE_READ_REPLICAS:
            continue
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
            results[f"database:{alias}"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "down"; the reason is shown
            results[f"database:{alias}"] = f"error: {exc.__class__.__name__}: {exc}"
    return results


def check_caches() -> dict[str, str]:
    """Write and read back a short-lived key in every configured cache."""
    results = {}
    for alias in settings.CACHES:
        key = f"healthz:{uuid.uuid4().hex}"
        try:
            cache = caches[alias]
            cache.set(key, "ok", timeout=10)
            ok = cache.get(key) == "ok"
            cache.delete(key)
            results[f"cache:{alias}"] = "ok" if ok else "error: value not read back"
        except Exception as exc:  # noqa: BLE001
            results[f"cache:{alias}"] = f"error: {exc.__class__.__name__}: {exc}"
    return results


def run_checks() -> dict[str, str]:
    """Every check named in ``settings.HEALTH_CHECKS``, merged into one mapping."""
    results: dict[str, str] = {}
    for path in settings.HEALTH_CHECKS:
        results.update(import_string(path)())
    return results


# Names whose state is shown but does not fail /healthz: a lagging or dead replica only sends
# reads to the primary, which is itself checked by check_databases.
ADVISORY_CHECKS = ("replica",)


def is_advisory(name: str) -> bool:
    return any(name == prefix or name.startswith(f"{prefix}:") for prefix in ADVISORY_CHECKS)


def check_replicas() -> dict[str, str]:
    """``{"replica": "ok" | "lagging 12 s" | "stopped" | "down"}`` for every read replica.

    Measured fresh on the replica (``SHOW SLAVE STATUS`` / ``pg_last_xact_replay_timestamp``);
    advisory: the router already sends reads to the primary when it is not ``ok``.
    """
    from config.db_router import replica_status

    results = {}
    for alias in settings.DATABASE_READ_REPLICAS:
        name = "replica" if alias == "replica" else f"replica:{alias}"
        results[name] = replica_status(alias, fresh=True).describe()
    return results
