"""Benchmark: the admin order list per search dimension, next to the same query as raw SQL.

Loads /admin/orders/order/ through Django's test client as a superuser (the whole page: the
capped count, the 50-row query with its joins, the filters, the template) and runs the
equivalent hand-written SQL (page rows + capped count) in the same process, and prints each
page's median time and its ratio to the raw SQL.

    DATABASE_URL=mysql://root@127.0.0.1:3306/orderplatform_bench \\
        .venv/bin/python bench/orders_admin_list.py [--runs 15]

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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
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
    for name, params, raw_args in cases():
        rows_on_page = []

        def page(params=params, rows_on_page=rows_on_page):
            response = client.get(url, params)
            assert response.status_code == 200, response.status_code
            rows_on_page[:] = [response.content.count(b'name="_selected_action"')]

        def raw(args=raw_args):
            with connection.cursor() as cursor:
                raw_page(cursor, *args)

        page_ms = median_ms(page, args.runs)
        raw_ms = median_ms(raw, args.runs)
        print(
            f"{name:42} {rows_on_page[0]:>5} {page_ms:>9.1f} {raw_ms:>11.2f} "
            f"{page_ms / raw_ms:>6.1f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
