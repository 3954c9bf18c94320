"""Benchmark: an account manager's order list and ledger, scoped by either account-manager rule.

Compares the rule ``customers.selectors`` applies — the ``account_manager`` column,
``customer_id IN (SELECT id FROM customers WHERE account_manager_id = …)`` — with scoping by
guardian object permissions (``get_objects_for_user(..., any_perm=True)``, the customers
admin's rule before issue 11), on the queries the admin issues: the first page of 50 ids
newest first, and the paginator's capped count. Read-only; prints medians in ms.

    DATABASE_URL=mysql://root@127.0.0.1:3306/op_bench .venv/bin/python bench/customer_scope.py

Seed the database first with ``manage.py seed_orders`` (100,000 customers, 10 managers,
1,000,000 orders by default).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from guardian.shortcuts import get_objects_for_user  # noqa: E402

from customers.models import Customer  # noqa: E402
from customers.selectors import customer_ids_visible_to, customer_scope  # noqa: E402
from orders.models import Order  # noqa: E402
from wallet.models import Account, Entry  # noqa: E402

PAGE = 50
CAP = 10_000


def by_column(user):
    return customer_ids_visible_to(user)


def by_guardian(user):
    customers = get_objects_for_user(
        user,
        ["customers.view_customer", "customers.change_customer"],
        klass=Customer,
        any_perm=True,
        accept_global_perms=False,
    )
    return customers.values("pk")


def queries(ids, customers):
    orders = Order.objects.filter(customer__in=ids)
    entries = Entry.objects.filter(
        account_id__in=Account.objects.filter(customer__in=ids).values("pk")
    )
    return {
        "orders page": lambda: list(
            orders.order_by("-created_at", "-id").values_list("pk", flat=True)[:PAGE]
        ),
        "orders capped count": lambda: orders.order_by()[:CAP].count(),
        "ledger page": lambda: list(
            entries.order_by("-created_at", "-id").values_list("pk", flat=True)[:PAGE]
        ),
        "ledger capped count": lambda: entries.order_by()[:CAP].count(),
        "customers page": lambda: list(
            customers.order_by("-created_at", "-id").values_list("pk", flat=True)[:PAGE]
        ),
    }


def median_ms(function, runs: int) -> float:
    function()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    manager = (
        get_user_model().objects.filter(managed_customers__isnull=False).order_by("pk").first()
    )
    managed = Customer.objects.filter(account_manager=manager).count()
    print(
        f"{connection.vendor}: {Order.objects.count():,} orders, {Entry.objects.count():,} entries; "
        f"manager {manager.username} has {managed:,} customers"
    )
    # The customer list as each rule writes it: the column directly, guardian its own query.
    column = queries(by_column(manager), customer_scope(Customer.objects.all(), manager))
    guardian = queries(by_guardian(manager), Customer.objects.filter(pk__in=by_guardian(manager)))
    for name in column:
        a, b = median_ms(column[name], args.runs), median_ms(guardian[name], args.runs)
        same = column[name]() == guardian[name]()
        print(f"{name:22} account_manager {a:8.1f} ms   guardian {b:8.1f} ms   same rows: {same}")


if __name__ == "__main__":
    main()
