"""Local development: the embedded default (SQLite, local memory, console SMS) plus demo data."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

# Demo data (users, customers, services) exists only under local settings.
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]

# The demo has no Redis to wake the agent, so it polls the database every second.
AGENT_POLL_INTERVAL = env.float("AGENT_POLL_INTERVAL", default=1)

# Serve static files from the apps directly; no collectstatic needed.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# A receiver on this machine over plain http is fine while developing.
WEBHOOKS_REQUIRE_HTTPS = env.bool("WEBHOOKS_REQUIRE_HTTPS", default=False)
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=True)
