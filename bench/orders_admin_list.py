"""Benchmark: the admin order list per search dimension, next to the same query as raw SQL.

Loads /admin/orders/order/ through Django's test client as a superuser (the whole page: the
capped count, the 50-row query with its joins, the filters, the template) and runs the
equivalent hand-written SQL (page rows + capped count) in the same process, and prints each
page's median time and its ratio to the raw SQL.

    DATABASE_URL=mysql://root@127.0.0.1:3306/orderplatform_bench \\
        .venv/bin/python bench/orders_admin_list.py [--runs 15] [--explain]

Seed the database first with ``manage.py seed_orders`` (1,000,000 orders by default).
"""

import argparse
import os
import statistics
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

SELECT = """
SELECT o.*, c.name, c.mobile, u.username, s.name
FROM orders_order o
JOIN customers_customer c ON c.id = o.customer_id
JOIN auth_user u ON u.id = c.user_id
JOIN orders_service s ON s.id = o.service_id
"""
ORDER = f" ORDER BY o.created_at DESC, o.id DESC LIMIT {PAGE}"


def raw_case(where: str, params: list, joins_in_count: bool = False):
    """The page's rows and its capped count, as one would write them by hand."""
    page_sql = SELECT + (f" WHERE {where}" if where else "") + ORDER
    count_from = (
        "orders_order o JOIN customers_customer c ON c.id = o.customer_id "
        "JOIN auth_user u ON u.id = c.user_id"
        if joins_in_count
        else "orders_order o"
    )
    count_sql = (
        f"SELECT COUNT(*) FROM (SELECT o.id FROM {count_from}"  # noqa: S608
        + (f" WHERE {where}" if where else "")
        + f" LIMIT {CAP}) t"
    )
    return [(page_sql, params), (count_sql, params)]


def day_start(day):
    """Local midnight of ``day`` as the database stores datetimes (UTC)."""
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return connection.ops.adapt_datetimefield_value(start)


def cases() -> list[tuple[str, dict, list]]:
    """(name, admin query parameters, raw SQL statements) for each dimension."""
    sample = Order.objects.select_related("customer__user").order_by("-id")[500]
    number = sample.number
    username = sample.customer.user.username
    name = sample.customer.name
    mobile = sample.customer.mobile  # +8613900012345
    mobile_typed = mobile[3:11]  # "13900012": the first 8 digits, as typed
    target = sample.target
    service = Service.objects.order_by("id").first()
    today = timezone.localdate()
    week_ago = today - timedelta(days=7)
    month_ago = today - timedelta(days=30)
    tz_start = day_start(week_ago)
    tz_month = day_start(month_ago)
    return [
        ("no filter (newest first)", {}, raw_case("", [])),
        ("order number, exact", {"q": number}, raw_case("o.number = %s", [number])),
        (
            "order number, prefix (to the minute)",
            {"q": number[:12]},
            raw_case("o.number LIKE %s", [number[:12] + "%"]),
        ),
        (
            "customer username",
            {"q": username},
            raw_case("u.username LIKE %s", [username + "%"], joins_in_count=True),
        ),
        (
            "customer name",
            {"q": name},
            raw_case("c.name LIKE %s", [name + "%"], joins_in_count=True),
        ),
        (
            "customer mobile, prefix",
            {"q": mobile_typed},
            raw_case("c.mobile LIKE %s", ["+86" + mobile_typed + "%"], joins_in_count=True),
        ),
        ("target, exact URL", {"q": target}, raw_case("o.target LIKE %s", [target + "%"])),
        ("status = pending", {"status__exact": "pending"}, raw_case("o.status = %s", ["pending"])),
        (
            "service",
            {"service__id__exact": service.pk},
            raw_case("o.service_id = %s", [service.pk]),
        ),
        (
            "amount 100.00–200.00",
            {"amount__range__gte": "100.00", "amount__range__lte": "200.00"},
            raw_case("o.amount BETWEEN %s AND %s", ["100.00", "200.00"]),
        ),
        (
            "created in the last 7 days",
            {
                "created_at__range__gte": week_ago.isoformat(),
                "created_at__range__lte": today.isoformat(),
            },
            raw_case("o.created_at >= %s", [tz_start]),
        ),
        (
            "combined: status+service+amount+30 days",
            {
                "status__exact": "completed",
                "service__id__exact": service.pk,
                "amount__range__gte": "30.00",
                "amount__range__lte": "100.00",
                "created_at__range__gte": month_ago.isoformat(),
                "created_at__range__lte": today.isoformat(),
            },
            raw_case(
                "o.status = %s AND o.service_id = %s AND o.amount BETWEEN %s AND %s "
                "AND o.created_at >= %s",
                ["completed", service.pk, "30.00", "100.00", tz_month],
            ),
        ),
        (
            "combined: mobile prefix+status",
            {"q": mobile_typed, "status__exact": "completed"},
            raw_case(
                "c.mobile LIKE %s AND o.status = %s",
                ["+86" + mobile_typed + "%", "completed"],
                joins_in_count=True,
            ),
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()

    total = Order.objects.order_by().values("pk")[: CAP + 1].count()
    if total <= CAP:
        print(f"only {total} orders: seed first (manage.py seed_orders)", file=sys.stderr)
    user, _ = get_user_model().objects.get_or_create(
        username="bench_admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    url = reverse("admin:orders_order_changelist")
    estimate = connection.cursor()
    estimate.execute(
        "SELECT TABLE_ROWS FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'orders_order'"
    )
    print(f"{connection.vendor}, ~{estimate.fetchone()[0]:,} orders, median of {args.runs} runs")
    print(f"{'search / filter':42} {'rows':>5} {'page ms':>9} {'raw SQL ms':>11} {'ratio':>7}")
    for name, params, statements in cases():
        rows_on_page = []

        def page(params=params, rows_on_page=rows_on_page):
            response = client.get(url, params)
            assert response.status_code == 200, response.status_code
            rows_on_page[:] = [response.content.count(b'name="_selected_action"')]

        def raw(statements=statements):
            with connection.cursor() as cursor:
                for sql, sql_params in statements:
                    cursor.execute(sql, sql_params)
                    cursor.fetchall()

        page_ms = median_ms(page, args.runs)
        raw_ms = median_ms(raw, args.runs)
        print(
            f"{name:42} {rows_on_page[0]:>5} {page_ms:>9.1f} {raw_ms:>11.2f} "
            f"{page_ms / raw_ms:>6.1f}x"
        )
        if args.explain:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + statements[0][0], statements[0][1])
                for row in cursor.fetchall():
                    print("    ", row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
