"""Benchmark: the portal's dashboard, order list and ledger for a customer with 100,000 orders,
next to a hello-world page (a view returning ``hello``, mounted by this script in front of the
project's URLs) through the same middleware in the same run.

    DATABASE_URL=mysql://root@127.0.0.1:3306/op_portal_bench \\
        .venv/bin/python bench/portal_pages.py [--orders 100000] [--runs 30]

Creates the database if needed, migrates, and seeds it once with ``manage.py seed_orders
--customers 1 --orders N`` (one customer holding every order, its debits and refunds). Pages
are loaded through Django's test client logged in as that customer (the whole request: session,
middleware, queries, template), after 3 warm-up loads; prints p50 and p95 in milliseconds per
page and p50 minus the hello-world p50. Issue 14 asks p50 ≤ 50 ms for the three pages.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.mysql_database import ensure_database  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

PAGES = {
    "hello world": "/bench-hello/",
    "dashboard": "/portal/",
    "order list": "/portal/orders/",
    "order list, status filter": "/portal/orders/?status=completed",
    "ledger": "/portal/transactions/",
    "ledger, page 50": "/portal/transactions/?page=50",
}


def timed(client, url: str, runs: int) -> list[float]:
    for _ in range(3):
        assert client.get(url).status_code == 200, url
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    ensure_database("mysql://root@127.0.0.1:3306/op_portal_bench")

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from customers.models import Customer
    from orders.models import Order

    call_command("migrate", verbosity=0)
    customer = Customer.objects.filter(user__username__startswith="seedc").first()
    if customer is None:
        started = time.perf_counter()
        call_command("seed_orders", customers=1, orders=args.orders, managers=1, verbosity=0)
        print(f"seeded {args.orders:,} orders in {time.perf_counter() - started:.0f} s")
        customer = Customer.objects.get(user__username__startswith="seedc")
    orders = Order.objects.filter(customer=customer).count()
    print(f"customer {customer.pk}: {orders:,} orders, {args.runs} runs per page")

    # The hello-world page: this module becomes the URLconf, the project's URLs behind it.
    from django.http import HttpResponse
    from django.test.utils import override_settings
    from django.urls import include, path

    globals()["urlpatterns"] = [
        path("bench-hello/", lambda request: HttpResponse("hello")),
        path("", include("config.urls")),
    ]
    override_settings(ROOT_URLCONF=__name__).enable()

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(customer.user)
    hello = None
    print(f"{'page':<28}{'p50 ms':>10}{'p95 ms':>10}{'p50 - hello':>14}")
    for name, url in PAGES.items():
        samples = sorted(timed(client, url, args.runs))
        p50 = statistics.median(samples)
        p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
        hello = p50 if hello is None else hello
        print(f"{name:<28}{p50:>10.1f}{p95:>10.1f}{p50 - hello:>14.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
