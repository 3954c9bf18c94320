"""Test settings: the embedded default unless DATABASE_URL / REDIS_URL point at real servers."""

import os
from urllib.parse import urlsplit

from .base import *  # noqa: F403
from .base import CACHES, DATABASES, REDIS_URL, VAR_DIR, env

DEBUG = False
SECRET_KEY = "test-only-secret-key"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

# SQLite: the test database is a file in WAL mode, as the embedded default's is, not Django's
# shared-cache in-memory database, whose table locks fail a page that reads while a background
# job (an import, a batch) holds a write transaction ("database table is locked"). pytest-xdist
# gives each worker its own file (test.sqlite3_gw0, …).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

# Tests need no collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SMS_BACKEND = "sms.backends.locmem.SmsBackend"

# REQUIRE_SERVICES=1 turns "server not configured / not reachable" skips into failures.
REQUIRE_SERVICES = env.bool("REQUIRE_SERVICES", default=False)

# Serve static files from the apps directly; no collectstatic needed.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# Tests fulfil through the recording backend; the simulated one runs with no delay.
FULFILMENT_BACKENDS = {
    "locmem": {"BACKEND": "orders.fulfilment.locmem.LocmemBackend"},
    "simulated": {
        "BACKEND": "orders.fulfilment.simulated.SimulatedBackend",
        "OPTIONS": {"duration": 0, "partial_rate": 0.0, "failure_rate": 0.0, "seed": 1},
    },
}

# pytest-xdist: each worker gets its own Redis database (the URL's number + the worker's), since
# the tests' cache.clear() is a FLUSHDB that would otherwise empty the other worker's keys.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and _XDIST_WORKER.startswith("gw"):
    _parts = urlsplit(REDIS_URL)
    _db = int(_parts.path.lstrip("/") or 0) + int(_XDIST_WORKER[2:])
    REDIS_URL = _parts._replace(path=f"/{_db}").geturl()
    for _cache in CACHES.values():
        _cache["LOCATION"] = REDIS_URL

# Tests run their webhook receiver on 127.0.0.1 over http; the URL tests switch these back.
WEBHOOKS_REQUIRE_HTTPS = False
WEBHOOKS_ALLOW_PRIVATE = True
# One POST at a time unless a test asks for more: pool threads cannot see the rows of a test
# that runs inside a transaction.
WEBHOOKS_CONCURRENCY = 1
