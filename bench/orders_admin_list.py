"""Benchmark: the admin order list per search dimension, next to the same query as raw SQL.

Loads /admin/orders/order/ through Django's test client as a superuser (the whole page: the
capped count, the 50-row query with its joins, the filters, the template) and runs the
equivalent hand-written SQL (page rows + capped count) in the same process, and prints each
page's median time and its ratio to the raw SQL.

Per page it also splits the time: ``SQL ms`` is the time spent inside the database calls of
that page (every statement, timed by a connection execute wrapper), ``fixed ms`` the page
minus its SQL (session, permissions, filters' choices, the template: what the page costs
whatever the table holds), and ``CPU ms`` the process's own CPU time for the page, which a
busy machine does not inflate the way it does wall-clock times.

    DATABASE_URL=mysql://root@127.0.0.1:3306/op_bench_1m \\
        .venv/bin/python bench/orders_admin_list.py [--runs 15] \\
        [--small-database-url mysql://root@127.0.0.1:3306/op_bench_10k]

With ``--small-database-url`` the same pages are loaded on that (smaller) database too, in a
child process, and each page's growth (time here ÷ time there) is printed: issue 16 asks
≤ 1.2× from 10,000 to 1,000,000 orders, and a fixed cost ≤ 40 ms.

Seed the databases first with ``manage.py seed_orders`` (1,000,000 orders by default;
``--customers 1000 --orders 10000`` for the small one).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from orders.models import Order, Service  # noqa: E402

PAGE = 50
CAP = 10_000
ROWS = """
SELECT STRAIGHT_JOIN o.*, c.name, c.mobile, u.username, s.name
FROM orders_order o
JOIN customers_customer c ON c.id = o.customer_id
JOIN auth_user u ON u.id = c.user_id
JOIN orders_service s ON s.id = o.service_id
WHERE o.id IN ({ids})
"""
CUSTOMERS_BY_USERNAME = (
    "SELECT c.id FROM customers_customer c JOIN auth_user u ON u.id = c.user_id "
    "WHERE u.username LIKE %s LIMIT 2001"
)
CUSTOMERS_BY_NAME = "SELECT id FROM customers_customer WHERE name LIKE %s LIMIT 2001"
CUSTOMERS_BY_MOBILE = "SELECT id FROM customers_customer WHERE mobile LIKE %s LIMIT 2001"


def raw_page(cursor, where: str, params: list, customers=None, lookups=()):
    """The page as hand-written SQL: the same statements the admin issues, no ORM.

    ``customers`` is the customer lookup whose ids restrict the orders; ``lookups`` are
    statements the admin runs first without narrowing anything (a username that matched
    nobody before the term was tried as a target).
    """
    for statement in lookups:
        cursor.execute(*statement)
        cursor.fetchall()
    if customers is not None:
        cursor.execute(*customers)
        ids = [str(row[0]) for row in cursor.fetchall()] or ["0"]
        clause = f"o.customer_id IN ({', '.join(ids)})"
        where = f"{clause} AND {where}" if where else clause
    condition = f" WHERE {where}" if where else ""
    cursor.execute(
        f"SELECT COUNT(*) FROM (SELECT o.id FROM orders_order o{condition} LIMIT {CAP}) t", params
    )
    cursor.fetchall()
    cursor.execute(
        f"SELECT o.id FROM orders_order o{condition} "
        f"ORDER BY o.created_at DESC, o.id DESC LIMIT {PAGE}",
        params,
    )
    ids = [str(row[0]) for row in cursor.fetchall()]
    if ids:
        cursor.execute(ROWS.format(ids=", ".join(ids)))
        cursor.fetchall()


def day_start(day):
    """Local midnight of ``day`` as the database stores datetimes (UTC)."""
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return connection.ops.adapt_datetimefield_value(start)


def cases() -> list[tuple[str, dict, tuple]]:
    """(name, admin query parameters, raw_page arguments) for each dimension."""
    # A seeded order (bench/orders_place.py adds newer ones for its own customers).
    seeded = Order.objects.filter(customer__user__username__startswith="seedc")
    sample = seeded.select_related("customer__user").order_by("-id")[500]
    number = sample.number
    username = sample.customer.user.username
    name = sample.customer.name
    mobile_typed = sample.customer.mobile[3:11]  # "13900012": 8 digits as typed
    url_target = seeded.filter(target__startswith="https://").order_by("-id")[500].target
    text_target = seeded.exclude(target__startswith="https://").order_by("-id")[500].target
    like = text_target.replace("_", "\\_")
    service = Service.objects.order_by("id").first()
    today = timezone.localdate()
    week_ago = today - timedelta(days=7)
    month_ago = today - timedelta(days=30)
    by_mobile = (CUSTOMERS_BY_MOBILE, ["+86" + mobile_typed + "%"])
    return [
        ("no filter (newest first)", {}, ("", [])),
        ("order number, exact", {"q": number}, ("o.number LIKE %s", [number + "%"])),
        (
            "order number, prefix (to the minute)",
            {"q": number[:12]},
            ("o.number LIKE %s", [number[:12] + "%"]),
        ),
        (
            "customer username",
            {"q": username},
            ("", [], (CUSTOMERS_BY_USERNAME, [username + "%"])),
        ),
        ("customer name", {"q": name}, ("", [], (CUSTOMERS_BY_NAME, [name + "%"]))),
        ("customer mobile, 8-digit prefix", {"q": mobile_typed}, ("", [], by_mobile)),
        ("target, exact URL", {"q": url_target}, ("o.target LIKE %s", [url_target + "%"])),
        (
            "target, account name (pattern)",
            {"q": text_target},
            (
                "o.target LIKE %s",
                [like + "%"],
                None,
                [(CUSTOMERS_BY_USERNAME, [like + "%"]), (CUSTOMERS_BY_NAME, [like + "%"])],
            ),
        ),
        ("status = pending", {"status__exact": "pending"}, ("o.status = %s", ["pending"])),
        ("service", {"service__id__exact": service.pk}, ("o.service_id = %s", [service.pk])),
        (
            "amount 100.00-200.00",
            {"amount__range__gte": "100.00", "amount__range__lte": "200.00"},
            ("o.amount >= %s AND o.amount <= %s", ["100.00", "200.00"]),
        ),
        (
            "created in the last 7 days",
            {
                "created_at__range__gte": week_ago.isoformat(),
                "created_at__range__lte": today.isoformat(),
            },
            ("o.created_at >= %s", [day_start(week_ago)]),
        ),
        (
            "status+service+amount+30 days",
            {
                "status__exact": "completed",
                "service__id__exact": service.pk,
                "amount__range__gte": "30.00",
                "amount__range__lte": "100.00",
                "created_at__range__gte": month_ago.isoformat(),
                "created_at__range__lte": today.isoformat(),
            },
            (
                "o.status = %s AND o.service_id = %s AND o.amount >= %s AND o.amount <= %s "
                "AND o.created_at >= %s",
                ["completed", service.pk, "30.00", "100.00", day_start(month_ago)],
            ),
        ),
        (
            "mobile prefix+status",
            {"q": mobile_typed, "status__exact": "completed"},
            ("o.status = %s", ["completed"], by_mobile),
        ),
    ]


def median_ms(fn, runs: int) -> float:
    fn()
    fn()  # warm caches and connections
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def page_timings(client, url: str, params: dict, runs: int) -> dict:
    """Medians of one admin page: wall ms, ms inside SQL calls, the rest, CPU ms; statements."""
    spent = {"sql": 0.0, "statements": 0}

    def timed_execute(execute, sql, sql_params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, sql_params, many, context)
        finally:
            spent["sql"] += time.perf_counter() - start
            spent["statements"] += 1

    rows = 0
    samples = []
    with connection.execute_wrapper(timed_execute):
        for run in range(runs + 2):  # two warm-up loads
            spent.update(sql=0.0, statements=0)
            cpu, wall = time.process_time(), time.perf_counter()
            response = client.get(url, params)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert response.status_code == 200, response.status_code
            rows = response.content.count(b'name="_selected_action"')
            if run >= 2:
                samples.append((wall * 1000, spent["sql"] * 1000, cpu * 1000))
    return {
        "rows": rows,
        "page": statistics.median(s[0] for s in samples),
        "sql": statistics.median(s[1] for s in samples),
        "fixed": statistics.median(s[0] - s[1] for s in samples),
        "cpu": statistics.median(s[2] for s in samples),
        "statements": spent["statements"],
    }


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def small_run(url: str, runs: int) -> dict:
    """The same pages on the smaller database (a child process: settings are per process)."""
    child = subprocess.run(  # noqa: S603 - this script
        [sys.executable, __file__, "--runs", str(runs), "--json"],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in child.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[7:])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--small-database-url", help="the same pages there; prints the growth")
    parser.add_argument("--json", action="store_true", help="print a RESULT line (page times)")
    args = parser.parse_args()

    total = Order.objects.order_by().values("pk")[: CAP + 1].count()
    if total <= CAP and not args.json:
        print(f"only {total} orders: seed first (manage.py seed_orders)", file=sys.stderr)
    user, _ = get_user_model().objects.get_or_create(
        username="bench_admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    url = reverse("admin:orders_order_changelist")
    if args.json:
        result = {name: page_timings(client, url, params, args.runs) for name, params, _ in cases()}
        print("RESULT " + json.dumps(result))
        return 0
    small = small_run(args.small_database_url, args.runs) if args.small_database_url else {}
    estimate = connection.cursor()
    estimate.execute(
        "SELECT TABLE_ROWS FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'orders_order'"
    )
    print(
        f"{connection.vendor}, ~{estimate.fetchone()[0]:,} orders, median of {args.runs} runs, "
        f"{load()}"
    )
    print(
        f"{'search / filter':38} {'rows':>4} {'page ms':>8} {'SQL ms':>7} {'fixed ms':>8} "
        f"{'CPU ms':>7} {'stmts':>5} {'raw SQL':>8}"
        + (f" {'small ms':>8} {'growth':>6}" if small else "")
    )
    fixed, growth = [], []
    for name, params, raw_args in cases():

        def raw(args=raw_args):
            with connection.cursor() as cursor:
                raw_page(cursor, *args)

        page = page_timings(client, url, params, args.runs)
        raw_ms = median_ms(raw, args.runs)
        fixed.append(page["fixed"])
        line = (
            f"{name:38} {page['rows']:>4} {page['page']:>8.1f} {page['sql']:>7.1f} "
            f"{page['fixed']:>8.1f} {page['cpu']:>7.1f} {page['statements']:>5} {raw_ms:>8.2f}"
        )
        if name in small:
            growth.append(page["page"] / small[name]["page"])
            line += f" {small[name]['page']:>8.1f} {growth[-1]:>5.2f}x"
        print(line, flush=True)
    print(
        f"fixed cost (page − SQL): median {statistics.median(fixed):.1f} ms, "
        f"max {max(fixed):.1f} ms (target ≤ 40)"
        + (f"; growth max {max(growth):.2f}x (target ≤ 1.2)" if growth else "")
        + f"; {load()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
