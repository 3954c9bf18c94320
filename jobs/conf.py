"""Settings of the job runner, with their defaults (config/settings/base.py sets them from env)."""

from django.conf import settings


def get(name: str, default):
    return getattr(settings, name, default)


def lease_seconds() -> float:
    return float(get("JOBS_LEASE_SECONDS", 60))


def heartbeat_seconds() -> float:
    return float(get("JOBS_HEARTBEAT_SECONDS", max(0.2, lease_seconds() / 6)))


def poll_seconds() -> float:
    return float(get("JOBS_POLL_SECONDS", 2))


def max_attempts() -> int:
    return int(get("JOBS_MAX_ATTEMPTS", 3))


def retention_days() -> int:
    return int(get("JOBS_RETENTION_DAYS", 7))


def import_max_bytes() -> int:
    return int(get("JOBS_IMPORT_MAX_BYTES", 20 * 1024 * 1024))


def export_stream_rows() -> int:
    return int(get("JOBS_EXPORT_STREAM_ROWS", 5000))
