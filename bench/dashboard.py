"""Benchmark: the admin dashboard (/admin/) at a million orders, next to its aggregates in raw SQL.

For a superuser and for an account manager, loads the whole admin index through Django's test
client (session, permissions, every figure, the template) in three modes, and runs the same
aggregates as hand-written SQL through a bare cursor in the same run:

- ``recount``: ``DASHBOARD_CACHE_SECONDS=0`` — every figure from the tables on every view;
- ``closed days cached``: the page cache off, the closed days' series from the cache (what a
  recompute costs once the day's first view has filled it): today, right now and the lists;
- ``page cache``: the default — figures cached for ``DASHBOARD_CACHE_SECONDS`` (30 s), so most
  views only render;
- ``index, no figures``: the same admin index with an empty dashboard (the floor).

    DATABASE_URL=mysql://root@127.0.0.1:3306/op_dashboard_bench \\
        .venv/bin/python bench/dashboard.py [--runs 15] [--manager seed_manager01]

Seed the database first with ``manage.py seed_orders`` (1,000,000 orders by default).
"""

import argparse
import datetime
import os
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from backoffice import dashboard  # noqa: E402
from backoffice.selectors import dashboard_window  # noqa: E402
from orders.models import Order  # noqa: E402


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def utc(moment) -> str:
    """A timestamp as MariaDB holds it (Django stores UTC)."""
    return f"{moment.astimezone(datetime.UTC):%Y-%m-%d %H:%M:%S.%f}"


def case_sql(column: str, bounds, days: range) -> str:
    whens = " ".join(f"WHEN {column} < '{utc(bounds[i + 1])}' THEN {i}" for i in days)
    return f"CASE {whens} ELSE -1 END"


def raw_dashboard(cursor, manager_id: int | None, money: bool, days: range | None = None):
    """The dashboard's aggregates as hand-written SQL (``days``: only those of the window)."""
    window = dashboard_window()
    days = days if days is not None else range(len(window.days))
    start, end = (utc(window.bounds[i]) for i in (days.start, days.stop))
    now = utc(window.now)
    scope = (
        f" AND customer_id IN (SELECT id FROM customers_customer "
        f"WHERE account_manager_id = {manager_id})"
        if manager_id
        else ""
    )
    statements = [
        f"SELECT {case_sql('created_at', window.bounds, days)} d, COUNT(*) FROM orders_order "
        f"WHERE created_at >= '{start}' AND created_at < '{end}'{scope} GROUP BY d",
        f"SELECT {case_sql('finished_at', window.bounds, days)} d, status, COUNT(*) "
        f"FROM orders_order WHERE finished_at >= '{start}' AND finished_at < '{end}'{scope} "
        "GROUP BY d, status",
        "SELECT status, COUNT(*) FROM orders_order WHERE status IN ('pending', 'running')"
        f"{scope} GROUP BY status",
        # The oldest pending order: for a manager, among the 500 oldest of the queue first.
        f"SELECT id, number, created_at FROM orders_order WHERE status = 'pending'{scope} "
        + (
            "AND id IN (SELECT id FROM (SELECT id FROM orders_order WHERE status = 'pending' "
            "ORDER BY created_at, id LIMIT 500) q) "
            if manager_id
            else ""
        )
        + "ORDER BY created_at, id LIMIT 1",
        "SELECT status, COUNT(*) FROM orders_order WHERE finished_at >= "
        f"'{now}' - INTERVAL 1 HOUR AND finished_at < '{now}'{scope} GROUP BY status",
        "SELECT status, COUNT(*) FROM orders_order WHERE finished_at >= "
        f"'{now}' - INTERVAL 24 HOUR AND finished_at < '{now}'{scope} GROUP BY status",
        "SELECT COUNT(*) FROM orders_agent WHERE stopped_at IS NULL AND last_heartbeat_at >= "
        f"'{now}' - INTERVAL {settings.AGENT_HEARTBEAT_TIMEOUT} SECOND",
    ]
    if money:
        month = window.period("month")
        month_start = utc(month.start)
        threshold = settings.DASHBOARD_LOW_BALANCE
        statements += [
            f"SELECT {case_sql('created_at', window.bounds, days)} d, kind, SUM(amount) "
            f"FROM wallet_entry WHERE created_at >= '{start}' AND created_at < '{end}' "
            "GROUP BY d, kind",
            "SELECT SUM(balance) FROM wallet_account",
            f"SELECT COUNT(*) FROM wallet_account WHERE balance < {threshold}",
            "SELECT a.balance, c.name, u.username FROM wallet_account a "
            "JOIN customers_customer c ON c.id = a.customer_id JOIN auth_user u ON u.id = c.user_id "
            f"WHERE a.balance < {threshold} ORDER BY a.balance, a.customer_id LIMIT 10",
            "SELECT account_id, SUM(amount) t FROM wallet_entry WHERE kind IN "
            "('order_debit', 'cancel_refund', 'refund') AND created_at >= "
            f"'{month_start}' AND created_at < '{end}' GROUP BY account_id HAVING t < 0 "
            "ORDER BY t, account_id LIMIT 10",
        ]
    for statement in statements:
        cursor.execute(statement)
        cursor.fetchall()


def timed(function, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def measure(label: str, user, manager_id: int | None, money: bool, runs: int) -> None:
    """One user's three modes and the raw SQL, printed as table rows."""
    client = Client()
    client.force_login(user)
    days = len(dashboard_window().days)
    today = range(days - 1, days)

    def page():
        response = client.get("/admin/")
        assert response.status_code == 200 and b'id="dashboard"' in response.content

    def closed_cached():
        cache.delete(dashboard._cache_key(user))  # the page cache only
        page()

    with connection.cursor() as cursor:
        raw_full = timed(lambda: raw_dashboard(cursor, manager_id, money), runs)
        raw_today = timed(lambda: raw_dashboard(cursor, manager_id, money, today), runs)
    with override_settings(DASHBOARD_CACHE_SECONDS=0):
        recount = timed(page, runs)
    cache.clear()
    dashboard.dashboard_figures(user, cached=True)  # fills the closed days
    with override_settings(DASHBOARD_CACHE_SECONDS=30):
        warm = timed(closed_cached, runs)
        cached = timed(page, runs)
    empty = {"as_of": timezone.now(), "rows": [], "periods": [], "now": {}, "charts": {}}
    with mock.patch("backoffice.templatetags.backoffice.dashboard_for", return_value=empty):
        bare = timed(page, runs)  # the same admin index with an empty dashboard
    for mode, samples, raw in (
        ("recount", recount, raw_full),
        ("closed days cached", warm, raw_today),
        ("page cache (30 s)", cached, raw_today),
        ("index, no figures", bare, raw_today),
    ):
        p50, p99, raw50 = percentile(samples, 50), percentile(samples, 99), percentile(raw, 50)
        print(f"{label:<16} {mode:<20} {p50:>9.1f} {p99:>8.1f} {raw50:>8.1f} {p50 / raw50:>6.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--manager", default="seed_manager01")
    args = parser.parse_args()
    if connection.vendor != "mysql":
        print("Run it on the seeded MariaDB database (DATABASE_URL=mysql://…).")
        return 2
    User = get_user_model()
    superuser, _created = User.objects.get_or_create(
        username="bench_dashboard_root", defaults={"is_staff": True, "is_superuser": True}
    )
    manager = User.objects.get(username=args.manager)
    orders = Order.objects.count()
    print(f"{orders:,} orders; {args.runs} runs each; p50 / p99 in ms\n")
    print(f"{'user':<16} {'mode':<20} {'page p50':>9} {'p99':>8} {'raw p50':>8} {'ratio':>7}")
    for label, user, manager_id, money in (
        ("superuser", superuser, None, True),
        ("account manager", manager, manager.pk, False),
    ):
        measure(label, user, manager_id, money, args.runs)
    print(
        f"\nat {timezone.localtime():%Y-%m-%d %H:%M} local; load average {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
