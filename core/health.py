"""Dependency checks behind ``GET /healthz``."""

import uuid
from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.cache import caches
from django.db import connections
from django.http import HttpRequest
from django.urls import resolve, reverse
from django.utils.module_loading import import_string

# A file every admin page links; resolving its URL goes the way every {% static %} goes.
STATIC_PROBE = "admin/css/base.css"
MANIFEST_MISSING = "error: static manifest {name} missing from {root}: run collectstatic"


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


def check_static() -> dict[str, str]:
    """The static storage can name a file, the way every ``{% static %}`` does.

    Under production settings before ``collectstatic`` this raises, so every page answers 500;
    the check then names the missing manifest. (With DEBUG the manifest storage serves
    unhashed names, pages work, and so does this.)
    """
    try:
        staticfiles_storage.url(STATIC_PROBE)
    except Exception as exc:  # noqa: BLE001
        # The lazy storage proxies isinstance() to the configured class.
        if isinstance(staticfiles_storage, ManifestFilesMixin):
            manifest = staticfiles_storage.manifest_storage
            if not manifest.exists(staticfiles_storage.manifest_name):
                name = staticfiles_storage.manifest_name
                return {"static": MANIFEST_MISSING.format(name=name, root=manifest.location)}
        return {"static": f"error: {exc.__class__.__name__}: {exc}"}
    return {"static": "ok"}


def _any_allowed_host() -> str:
    for host in settings.ALLOWED_HOSTS:
        return "localhost" if host == "*" else host.lstrip(".")
    return "localhost"


def _page_request(path: str) -> HttpRequest:
    """An anonymous GET for ``path`` that no middleware has seen; its session is never saved."""
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = path
    request.META = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "HTTP_HOST": _any_allowed_host(),
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "443",
        "REMOTE_ADDR": "127.0.0.1",
    }
    request.user = AnonymousUser()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    return request


def check_pages() -> dict[str, str]:
    """Render each page named in ``settings.HEALTH_PAGES`` (URL names) for an anonymous GET.

    Catches what breaks every page alike (a template, a template tag, a static file, a
    setting) while the dependencies themselves are fine.
    """
    results = {}
    for url_name in getattr(settings, "HEALTH_PAGES", []):
        key = f"page:{url_name}"
        try:
            path = reverse(url_name)
            match = resolve(path)
            response = match.func(_page_request(path), *match.args, **match.kwargs)
            if hasattr(response, "render"):
                response.render()
            ok = response.status_code == 200
            results[key] = "ok" if ok else f"error: HTTP {response.status_code}"
        except Exception as exc:  # noqa: BLE001
            results[key] = f"error: {exc.__class__.__name__}: {exc}"
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
