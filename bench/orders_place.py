"""Benchmark: order_place throughput from 1 and 4 connections next to a raw-SQL transaction.

Each thread has its own database connection and its own customer (so the threads compete for
the database, not for one account's row lock). The raw-SQL baseline does the same reads and
writes by hand in one transaction: lock the account, read the customer with its level, the
service and its tiers, check both idempotency keys, insert the order, update the balance,
insert the ledger entry and the order event, commit.

    DATABASE_URL=mysql://root@127.0.0.1:3306/orderplatform_bench \\
        .venv/bin/python bench/orders_place.py [--seconds 8]
"""

import argparse
import os
import secrets
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from customers.models import Customer, Level  # noqa: E402
from customers.services import customer_create  # noqa: E402
from orders.models import Order, PriceTier, Service  # noqa: E402
from orders.pricing import price  # noqa: E402
from orders.services import order_number_new, order_place  # noqa: E402
from wallet.services import debit_key, wallet_recharge  # noqa: E402

THREADS = (1, 4)


def bench_customers(count: int) -> list[Customer]:
    """``count`` customers with a large balance, made once and reused."""
    level, _ = Level.objects.get_or_create(name="压测 100%", defaults={"discount_percent": 100})
    customers = []
    for i in range(count):
        username = f"bench_place_{i}"
        customer = Customer.objects.filter(user__username=username).first()
        if customer is None:
            customer = customer_create(
                username=username,
                name=f"压测下单{i}",
                mobile=f"+86137{90000000 + i:08d}",
                level=level,
                account_manager=None,
            )
        wallet_recharge(
            customer_id=customer.pk,
            amount="900000.00",
            created_by=None,
            idempotency_key=f"bench-recharge:{uuid.uuid4().hex}",
        )
        customers.append(customer)
    return customers


def bench_service() -> Service:
    service, created = Service.objects.get_or_create(
        name="压测·下单", defaults={"min_quantity": 1, "backend": "simulated"}
    )
    if created:
        PriceTier.objects.create(service=service, quantity=1, price=Decimal("0.01"))
        PriceTier.objects.create(service=service, quantity=1000, price=Decimal("8.00"))
    return service


def place_orm(customer: Customer, service: Service) -> None:
    order_place(
        customer=customer,
        service=service,
        target="https://bench.example.cn/v/1",
        quantity=1000,
        idempotency_key=f"bench:{uuid.uuid4().hex}",
    )


def place_raw(customer: Customer, service: Service) -> None:
    """The same reads and writes as order_place, written by hand."""
    key = f"bench:{uuid.uuid4().hex}"
    number = order_number_new()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM orders_order WHERE idempotency_key = %s", [key])
        cursor.fetchall()
        cursor.execute(
            "SELECT id, balance FROM wallet_account WHERE customer_id = %s FOR UPDATE",
            [customer.pk],
        )
        account_id, balance = cursor.fetchone()
        cursor.execute(
            "SELECT c.is_active, l.discount_percent FROM customers_customer c "
            "JOIN customers_level l ON l.id = c.level_id WHERE c.id = %s",
            [customer.pk],
        )
        _active, percent = cursor.fetchone()
        cursor.execute("SELECT is_active FROM orders_service WHERE id = %s", [service.pk])
        cursor.fetchone()
        cursor.execute(
            "SELECT quantity, price FROM orders_pricetier WHERE service_id = %s ORDER BY quantity",
            [service.pk],
        )
        tiers = cursor.fetchall()
        tier_quantity, tier_price = [t for t in tiers if t[0] <= 1000][-1]
        unit = tier_price / tier_quantity
        amount = (unit * 1000 * percent / 100).quantize(Decimal("0.01"))
        cursor.execute(
            "INSERT INTO orders_order (number, customer_id, service_id, target, quantity, "
            "unit_price, list_price, level_percent, amount, status, delivered_quantity, "
            "supplier_reference, attempts, lease_owner, last_error, memo, idempotency_key, "
            "created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'pending', 0, '', 0, '', "
            "'', '', %s, %s)",
            [number, customer.pk, service.pk, "https://bench.example.cn/v/1", 1000, unit,
             amount, percent, amount, key, now],
        )  # fmt: skip
        order_id = cursor.lastrowid
        cursor.execute(
            "SELECT id FROM wallet_entry WHERE idempotency_key = %s", [debit_key(number)]
        )
        cursor.fetchall()
        cursor.execute(
            "UPDATE wallet_account SET balance = balance - %s, updated_at = %s "
            "WHERE id = %s AND balance >= %s",
            [amount, now, account_id, amount],
        )
        assert cursor.rowcount == 1
        cursor.execute(
            "INSERT INTO wallet_entry (account_id, kind, amount, balance_after, order_number, "
            "memo, idempotency_key, request_fingerprint, payment_method, created_at) "
            "VALUES (%s, 'order_debit', %s, %s, %s, '', %s, %s, '', %s)",
            [account_id, -amount, balance - amount, number, debit_key(number),
             secrets.token_hex(32), now],
        )  # fmt: skip
        cursor.execute(
            "INSERT INTO orders_orderevent (order_id, from_status, to_status, agent, message, "
            "created_at) VALUES (%s, '', 'pending', '', '', %s)",
            [order_id, now],
        )


def run(fn, customers: list[Customer], service: Service, threads: int, seconds: float) -> float:
    """Orders per second from ``threads`` connections placing for ``seconds``."""
    counts = [0] * threads
    deadline = [0.0]
    barrier = threading.Barrier(threads + 1)

    def body(index: int) -> None:
        try:
            fn(customers[index], service)  # warm the connection
            barrier.wait()
            while time.perf_counter() < deadline[0]:
                fn(customers[index], service)
                counts[index] += 1
        finally:
            connection.close()

    workers = [threading.Thread(target=body, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    deadline[0] = time.perf_counter() + seconds
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    customers = bench_customers(max(THREADS))
    service = bench_service()
    quote = price(service=service, quantity=1000, level_percent=100)
    print(f"{connection.vendor}; each order 1000 units = {quote.amount}; {args.seconds:.0f} s each")
    print(f"{'connections':>11} {'order_place/s':>14} {'raw SQL/s':>10} {'ratio':>7}")
    for threads in THREADS:
        orm = run(place_orm, customers, service, threads, args.seconds)
        raw = run(place_raw, customers, service, threads, args.seconds)
        print(f"{threads:>11} {orm:>14.0f} {raw:>10.0f} {raw / orm:>6.2f}x")
    orders = Order.objects.filter(service=service).count()
    print(f"{orders} bench orders in the table; checking the ledger:")
    call_command("wallet_audit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
