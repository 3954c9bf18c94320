"""Settings shared by every environment; everything that varies comes from the environment."""

import ipaddress
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-only-key-do-not-use-in-production")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For is believed; the client
# address (SMS limits, login lockout) is the first untrusted hop from the right (core/net.py).
# A malformed entry stops start-up here (ValueError names it).
TRUSTED_PROXIES = [
    str(ipaddress.ip_network(proxy, strict=False))
    for proxy in env.list("DJANGO_TRUSTED_PROXIES", default=[])
]

# ---------------------------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------------------------

INSTALLED_APPS = [
    # jazzmin must come before django.contrib.admin so its templates win.
    "jazzmin",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "guardian",
    "import_export",
    "axes",
    "csp",
    "sms",
    "core",
    "jobs",
    "customers",
    "wallet",
    "orders",
    "portal",
    "backoffice",
    "notifications",
    # django-ninja's templates and static files (Swagger UI served from here, no CDN).
    "ninja",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Read-your-writes: a browser that just wrote reads the primary for a few seconds.
    "config.db_router.ReadYourWritesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # /api/ only: every error as RFC 9457 problem details, in the language chosen just above.
    "api.problems.ProblemDetailsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # axes must be last: it turns a lockout raised by authenticate() into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            # Django's default loaders, except that apps' templates are read through
            # core.template_loaders (the CSP nonce for jazzmin's inline scripts).
            "loaders": [
                (
                    "django.template.loaders.cached.Loader",
                    [
                        "django.template.loaders.filesystem.Loader",
                        "core.template_loaders.Loader",
                    ],
                )
            ],
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# ---------------------------------------------------------------------------------------------
# Content-Security-Policy (django-csp), in every environment so tests see what production sends
# ---------------------------------------------------------------------------------------------

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        # Scripts only from this site, or inline with this response's nonce: our templates have
        # no inline JavaScript; jazzmin's few inline scripts get the nonce from
        # core.template_loaders. No 'unsafe-inline', no 'unsafe-eval', no other host.
        "script-src": [SELF, NONCE],
        # 'unsafe-inline' for styles only: jazzmin/AdminLTE and Django's admin templates carry
        # style="" attributes and <style> blocks, and select2 / the admin's widgets set styles
        # from script. Inline CSS cannot run code; every style sheet still comes from this site.
        "style-src": [SELF, UNSAFE_INLINE],
        # data: for the small SVG icons Bootstrap's CSS embeds (select arrows, check marks).
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Apps whose templates' bare <script> tags get the nonce (core/template_loaders.py).
CSP_NONCE_TEMPLATE_APPS = ["jazzmin"]

# ---------------------------------------------------------------------------------------------
# Databases: DATABASE_URL (default: SQLite under var/), optional DATABASE_REPLICA_URL
# ---------------------------------------------------------------------------------------------


def database_config(url: str) -> dict:
    """Parse a database URL and add the per-engine options the design card asks for."""
    config = env.db_url_config(url)
    engine = config["ENGINE"]
    options = config.setdefault("OPTIONS", {})
    if engine == "django.db.backends.sqlite3":
        # WAL + IMMEDIATE transactions + a busy timeout: the demo's web server and agent write
        # to one file without "database is locked" errors.
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", 20)
        options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    elif engine == "django.db.backends.mysql":
        options.setdefault("charset", "utf8mb4")
        options.setdefault("init_command", "SET sql_mode='STRICT_TRANS_TABLES'")
        # READ COMMITTED: locked reads see the latest committed row, as the money services expect.
        options.setdefault("isolation_level", "read committed")
        config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        config["CONN_HEALTH_CHECKS"] = True
        config["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    elif engine == "django.db.backends.postgresql":
        # Django's native pool (psycopg-pool); persistent connections must be off with it.
        # psycopg-pool's default is 4 connections per process, fewer than a threaded agent or
        # a concurrency proof uses at once; DATABASE_POOL_MAX_SIZE bounds each process instead.
        options.setdefault(
            "pool",
            {
                "min_size": 1,
                "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=20),
                "timeout": 10,
            },
        )
        config["CONN_MAX_AGE"] = 0
    return config


DATABASES = {
    "default": database_config(
        env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
    ),
}
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = database_config(DATABASE_REPLICA_URL)
    if DATABASES["replica"]["ENGINE"] != "django.db.backends.sqlite3":
        # An unreachable replica must cost a page a couple of seconds at most, once: the
        # router then leaves it out (config/db_router.py).
        DATABASES["replica"]["OPTIONS"].setdefault("connect_timeout", 2)
    # In tests the replica is the primary's test database, so reads see what tests write. The
    # replica leg (REPLICA_TESTS=1) points it back at the real replica after the test database
    # was created on the primary and replicated (conftest.py).
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# 分库: the high-volume, append-only log tables without foreign keys into business tables may
# live on their own database (`migrate --database logs`). Unset, they stay on `default`.
DATABASE_LOGS_URL = env.str("DATABASE_LOGS_URL", default="")
if DATABASE_LOGS_URL:
    DATABASES["logs"] = database_config(DATABASE_LOGS_URL)
DATABASE_LOGS_MODELS = [
    "axes.AccessAttempt",
    "axes.AccessLog",
    "axes.AccessFailureLog",
    "axes.AccessAttemptExpiration",  # one-to-one with AccessAttempt: they move together
]
DATABASE_READ_REPLICAS = [alias for alias in DATABASES if alias not in ("default", "logs")]
# Reads leave a replica more than this many seconds behind (or stopped, or unreachable); its
# state is measured on the replica at most every DATABASE_REPLICA_CHECK_SECONDS per process.
DATABASE_REPLICA_MAX_LAG = env.int("DATABASE_REPLICA_MAX_LAG", default=5)
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=2)
# After a request wrote, the same browser reads the primary this long (read-your-writes); keep
# it above MAX_LAG + CHECK_SECONDS so a replica that is still in use has caught up by then.
DATABASE_READ_YOUR_WRITES_SECONDS = env.int("DATABASE_READ_YOUR_WRITES_SECONDS", default=10)
# Apps whose reads never go to a replica: money, sessions, login lockouts.
DATABASE_PRIMARY_ONLY_APPS = ["wallet", "sessions", "axes"]
DATABASE_ROUTERS = ["config.db_router.PrimaryReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------------------------
# Cache and sessions: REDIS_URL (default: local memory)
# ---------------------------------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
CACHE_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", default="op")
if REDIS_URL:
    _redis_options = {
        "CLIENT_CLASS": "django_redis.client.DefaultClient",
        "SOCKET_CONNECT_TIMEOUT": 2,
        "SOCKET_TIMEOUT": 2,
    }
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": _redis_options,
        },
        # Sessions fall back to the database when Redis is down instead of failing every page.
        "sessions": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"{CACHE_KEY_PREFIX}:s",
            "OPTIONS": {**_redis_options, "IGNORE_EXCEPTIONS": True},
        },
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "default",
        },
        "sessions": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "sessions",
        },
    }

# cached_db: reads from the cache, writes through to the database, so a cache flush or a Redis
# restart logs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "sessions"
SESSION_COOKIE_AGE = 60 * 60 * 12

# ---------------------------------------------------------------------------------------------
# Authentication
# ---------------------------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    # axes first: it refuses a locked-out username/IP before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# jazzmin's login template drops ?next=, so say where a staff login lands.
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "/admin/"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Lock out the real client behind the proxies, not the proxy (core/net.py).
AXES_CLIENT_IP_CALLABLE = "core.net.client_ip"

ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row

# ---------------------------------------------------------------------------------------------
# Internationalisation: Chinese first, English available
# ---------------------------------------------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------------------------
# Static files (whitenoise)
# ---------------------------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.storage.StaticStorage"},
}
# Uploaded files (top-up proof images). Never served as a public URL: the views that show a
# file check who asks (portal/views/topups.py, wallet/admin/topups.py).
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

# ---------------------------------------------------------------------------------------------
# Background jobs (jobs/, docs/jobs.md): imports and exports run in the agent process
# ---------------------------------------------------------------------------------------------

JOBS_STORAGE = env.str("JOBS_STORAGE", default="default")  # an entry of STORAGES
JOBS_RETENTION_DAYS = env.int("JOBS_RETENTION_DAYS", default=7)
JOBS_IMPORT_MAX_BYTES = env.int("JOBS_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
JOBS_EXPORT_STREAM_ROWS = env.int("JOBS_EXPORT_STREAM_ROWS", default=5000)
JOBS_LEASE_SECONDS = env.float("JOBS_LEASE_SECONDS", default=60)
JOBS_POLL_SECONDS = env.float("JOBS_POLL_SECONDS", default=2)
JOBS_MAX_ATTEMPTS = env.int("JOBS_MAX_ATTEMPTS", default=3)

# ---------------------------------------------------------------------------------------------
# SMS (django-sms)
# ---------------------------------------------------------------------------------------------

SMS_BACKEND = env.str("SMS_BACKEND", default="sms.backends.console.SmsBackend")
# Mainland-China SMS through Tencent Cloud (SMS_BACKEND=portal.sms_backends.TencentSmsBackend);
# the approved template takes two parameters: the code and its validity in minutes.
TENCENT_SMS = {
    "SECRET_ID": env.str("TENCENT_SMS_SECRET_ID", default=""),
    "SECRET_KEY": env.str("TENCENT_SMS_SECRET_KEY", default=""),
    "SDK_APP_ID": env.str("TENCENT_SMS_SDK_APP_ID", default=""),
    "SIGN_NAME": env.str("TENCENT_SMS_SIGN_NAME", default=""),
    "TEMPLATE_ID": env.str("TENCENT_SMS_TEMPLATE_ID", default=""),
    "REGION": env.str("TENCENT_SMS_REGION", default="ap-guangzhou"),
}

# ---------------------------------------------------------------------------------------------
# Business settings
# ---------------------------------------------------------------------------------------------

CURRENCY = "CNY"
# The largest amount one recharge, deduct or order may move.
WALLET_MAX_SINGLE_AMOUNT = Decimal(env.str("WALLET_MAX_SINGLE_AMOUNT", default="1000000.00"))
# The admin dashboard (backoffice/): customers below this balance are listed; its figures are
# recomputed from the tables at most every DASHBOARD_CACHE_SECONDS (0: on every page view).
DASHBOARD_LOW_BALANCE = Decimal(env.str("DASHBOARD_LOW_BALANCE", default="100.00"))
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=30)

# Top-up requests (充值申请): the payment methods customers choose from (code, label; each code
# one of wallet.Entry.PaymentMethod, as approving records it on the ledger entry), and the
# largest proof image accepted.
WALLET_TOPUP_METHODS = [
    ("bank_transfer", _("Bank transfer")),
    ("alipay", _("Alipay")),
    ("wechat", _("WeChat Pay")),
]
WALLET_TOPUP_PROOF_MAX_BYTES = env.int("WALLET_TOPUP_PROOF_MAX_BYTES", default=5 * 1024 * 1024)
# Batch recharge from a file (批量充值, wallet/batch.py): the largest file and the most rows one
# batch may hold (it is applied in one transaction), and the total above which a second staff
# member with wallet.approve_rechargebatch (the 管理员 role) must approve it.
WALLET_BATCH_MAX_BYTES = env.int("WALLET_BATCH_MAX_BYTES", default=2 * 1024 * 1024)
WALLET_BATCH_MAX_ROWS = env.int("WALLET_BATCH_MAX_ROWS", default=5000)
WALLET_BATCH_APPROVAL_THRESHOLD = Decimal(
    env.str("WALLET_BATCH_APPROVAL_THRESHOLD", default="50000.00")
)
# Up to this many rows a confirmed batch is applied in the web request; a larger one is queued
# and applied by the agent process (AGENT_SIDE_TASKS), which looks every POLL seconds.
WALLET_BATCH_SYNC_ROWS = env.int("WALLET_BATCH_SYNC_ROWS", default=200)
WALLET_BATCH_POLL_SECONDS = env.float("WALLET_BATCH_POLL_SECONDS", default=2.0)

# ---------------------------------------------------------------------------------------------
# Admin theme (jazzmin)
# ---------------------------------------------------------------------------------------------


def _pending_topups_label() -> str:
    from wallet.admin.topups import pending_menu_label

    return pending_menu_label()


JAZZMIN_SETTINGS = {
    "site_title": "订单平台",
    "site_header": "订单平台",
    "site_brand": "订单平台",
    "welcome_sign": _("Welcome to the Order Platform"),
    "copyright": "订单平台",
    "site_logo": "core/logo.png",
    "site_logo_classes": "",
    "site_icon": "core/favicon.png",
    # Label sizes, the filter layout and WCAG AA colours (light and dark).
    "custom_css": "core/admin.css",
    # Translates the few words AdminLTE's scripts write in English (skip links, …).
    "custom_js": "core/admin.js",
    # The navbar's search boxes: customers (mobile, username, name) and orders (number, …).
    "search_model": ["customers.Customer", "orders.Order"],
    # Google Fonts would be an off-host request on every page; the system font stack is fine.
    "use_google_fonts_cdn": False,
    "language_chooser": True,
    "show_ui_builder": False,
    "navigation_expanded": True,
    "hide_apps": [],
    # Reached through their parents: an account from its customer, events and price tiers from
    # their order and service.
    "hide_models": ["wallet.account", "orders.orderevent", "orders.pricetier"],
    # Menus follow permissions: Django drops models the user may not view, and each custom
    # link below names the permission it needs.
    "order_with_respect_to": [
        "customers",
        "customers.customer",
        "customers.level",
        "wallet",
        "wallet.entry",
        "orders",
        "orders.order",
        "orders.service",
        "orders.agent",
        "auth",
    ],
    "icons": {
        "customers": "fas fa-address-book",
        "customers.customer": "fas fa-user-tie",
        "customers.level": "fas fa-layer-group",
        "wallet": "fas fa-wallet",
        "wallet.account": "fas fa-piggy-bank",
        "wallet.entry": "fas fa-receipt",
        "wallet.rechargebatch": "fas fa-file-invoice-dollar",
        "orders": "fas fa-shopping-cart",
        "orders.order": "fas fa-file-invoice",
        "orders.service": "fas fa-concierge-bell",
        "orders.pricetier": "fas fa-tags",
        "orders.orderevent": "fas fa-history",
        "orders.agent": "fas fa-robot",
        "auth": "fas fa-users-cog",
        "auth.user": "fas fa-user",
        "auth.Group": "fas fa-users",
        "axes.AccessAttempt": "fas fa-user-lock",
        "axes.AccessLog": "fas fa-list",
        "axes.AccessFailureLog": "fas fa-user-times",
    },
    "default_icon_parents": "fas fa-folder",
    "default_icon_children": "fas fa-circle",
    "custom_links": {
        "customers": [
            {
                "name": _("Import customers"),
                "url": "admin:customers_customer_import",
                "icon": "fas fa-file-import",
                "permissions": ["customers.import_customer"],
            },
            {
                "name": _("New customer"),
                "url": "admin:customers_customer_add",
                "icon": "fas fa-user-plus",
                "permissions": ["customers.add_customer"],
            },
        ],
        "wallet": [
            {
                # Lazy: the pending count is read each time the menu is drawn.
                "name": lazy(_pending_topups_label, str)(),
                "url": "admin:wallet_topuprequest_changelist",
                "icon": "fas fa-inbox",
                "permissions": ["wallet.approve_topuprequest"],
            },
        ],
        "orders": [
            {
                "name": _("Place an order for a customer"),
                "url": "admin:orders_order_place",
                "icon": "fas fa-cart-plus",
                "permissions": ["orders.place_order"],
            },
        ],
    },
    "changeform_format": "horizontal_tabs",
    # One page for customers: a new customer's login and details are filled in together.
    "changeform_format_overrides": {"customers.customer": "single"},
}
JAZZMIN_UI_TWEAKS = {
    "theme": "default",
    "navbar": "navbar-white navbar-light",
    # Light or dark as the operating system says (prefers-color-scheme).
    "default_theme_mode": "auto",
}
# Django's "CSRF verification failed" page, branded and translated (core/error_views.py).
CSRF_FAILURE_VIEW = "core.error_views.csrf_failure"

# ---------------------------------------------------------------------------------------------
# Import/export (django-import-export): customers' CSV/XLSX files
# ---------------------------------------------------------------------------------------------

# Each import runs in one transaction: a failing row (or batch) rolls the whole file back.
IMPORT_EXPORT_USE_TRANSACTIONS = True
# Import and export have their own permissions: customers.import_customer / export_customer.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
# Formulas are escaped by the resources themselves (core.exports.escape_formula covers = + - @
# tab CR; the library's own option strips only a leading =).
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False
# The uploaded file waits for the confirm step in the cache when Redis is shared by every
# node, else in a temporary folder (one machine).
IMPORT_EXPORT_TMP_STORAGE_CLASS = (
    "import_export.tmp_storages.CacheStorage"
    if REDIS_URL
    else "import_export.tmp_storages.TempFolderStorage"
)
IMPORT_EXPORT_CHUNK_SIZE = 2000

# ---------------------------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------------------------

# One handler (root's) prints every line once. Django's own defaults add a console handler to
# "django" (DEBUG only) and a differently formatted one to "django.server"; both are emptied here
# so their records reach root instead of being printed twice or in another shape.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_4xx_traceback": {"()": "core.log.ClientErrorsWithoutTraceback"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["no_4xx_traceback"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# ---------------------------------------------------------------------------------------------
# Health checks (GET /healthz): dotted paths of functions returning {"name": "ok" | "error: …"}
# ---------------------------------------------------------------------------------------------

HEALTH_CHECKS = [
    "core.health.check_databases",
    "core.health.check_caches",
    "core.health.check_static",
    "core.health.check_pages",
    "orders.agent.health.check_agents",
    "core.health.check_replicas",
]
# Pages core.health.check_pages renders for an anonymous GET: what breaks every page breaks these.
HEALTH_PAGES = ["admin:login", "portal:login"]

# ---------------------------------------------------------------------------------------------
# Fulfilment backends, chosen per Service by name (orders/fulfilment/__init__.py)
# ---------------------------------------------------------------------------------------------

FULFILMENT_BACKENDS = {
    "simulated": {
        "BACKEND": "orders.fulfilment.simulated.SimulatedBackend",
        "OPTIONS": {
            "duration": env.float("SIMULATED_DURATION", default=2.0),
            "partial_rate": env.float("SIMULATED_PARTIAL_RATE", default=0.1),
            "failure_rate": env.float("SIMULATED_FAILURE_RATE", default=0.05),
            "seed": env.int("SIMULATED_SEED", default=0),
        },
    },
}

# ---------------------------------------------------------------------------------------------
# The agent (orders/agent/)
# ---------------------------------------------------------------------------------------------

AGENT_HEARTBEAT_TIMEOUT = env.int("AGENT_HEARTBEAT_TIMEOUT", default=30)  # seconds until "dead"
AGENT_HEARTBEAT_INTERVAL = env.float("AGENT_HEARTBEAT_INTERVAL", default=10)
AGENT_LEASE_SECONDS = env.int("AGENT_LEASE_SECONDS", default=60)
AGENT_MAX_ATTEMPTS = env.int("AGENT_MAX_ATTEMPTS", default=5)
AGENT_POLL_INTERVAL = env.float("AGENT_POLL_INTERVAL", default=5)
AGENT_RETRY_DELAY = env.int("AGENT_RETRY_DELAY", default=10)
AGENT_ACCEPTED_POLL_SECONDS = env.int("AGENT_ACCEPTED_POLL_SECONDS", default=60)
AGENT_SHUTDOWN_GRACE = env.int("AGENT_SHUTDOWN_GRACE", default=60)
# Orders one claim takes (and completions booked together) at most; 1–100.
AGENT_CLAIM_BATCH = env.int("AGENT_CLAIM_BATCH", default=10)
# Duties that run on their own threads inside every agent process (orders/agent/side_tasks.py).
AGENT_SIDE_TASKS: list[str] = [
    "jobs.runner.run_jobs",  # imports and exports (jobs/)
    "wallet.batch.batch_apply_side_task",  # big batch recharges (wallet/batch.py)
    "notifications.delivery.webhook_side_task",  # webhook deliveries (notifications/)
]
# /healthz fails for the agents only when none is alive AND an order has waited this long.
AGENT_STALL_SECONDS = env.int("AGENT_STALL_SECONDS", default=60)

# ---------------------------------------------------------------------------------------------
# Webhooks to customers (notifications/, docs/notifications.md)
# ---------------------------------------------------------------------------------------------

# Callback URLs must be https (production); local and test settings allow http.
WEBHOOKS_REQUIRE_HTTPS = env.bool("WEBHOOKS_REQUIRE_HTTPS", default=True)
# Loopback, private, link-local and multicast addresses are refused, when saving and before
# every POST; only tests and local development allow them (a receiver on 127.0.0.1).
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)
# Seconds the delivery side task sleeps when nothing is due.
WEBHOOKS_POLL_INTERVAL = env.float("WEBHOOKS_POLL_INTERVAL", default=2)
# How many POSTs one agent's webhook side task sends at once (a slow receiver holds one).
WEBHOOKS_CONCURRENCY = env.int("WEBHOOKS_CONCURRENCY", default=4)
# A CA bundle file to verify receivers' certificates with; unset: the system's bundle.
WEBHOOKS_CA_BUNDLE = env.str("WEBHOOKS_CA_BUNDLE", default="") or None
# Days an event whose delivery finished (delivered or failed) is kept, with its attempts, for
# the portal's and the admin's delivery lists; the agents prune older ones hourly. 0: keep all.
WEBHOOKS_RETENTION_DAYS = env.int("WEBHOOKS_RETENTION_DAYS", default=30)

# ---------------------------------------------------------------------------------------------
# Reseller API (/api/v1/, api/): requests per API key, counted in the cache (Redis when
# REDIS_URL is set); 0 turns a limit off.
# ---------------------------------------------------------------------------------------------

API_RATE_PER_SECOND = env.int("API_RATE_PER_SECOND", default=10)
API_RATE_PER_MINUTE = env.int("API_RATE_PER_MINUTE", default=300)
