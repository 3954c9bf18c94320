"""Production settings for bench/portal_http.py, with STATIC_ROOT in a temporary directory."""

from config.settings.production import *  # noqa: F403
from config.settings.production import env

STATIC_ROOT = env.path("BENCH_STATIC_ROOT")
