"""Orders fulfilled per second by run_agent on MariaDB, against a raw-SQL claim-and-finish loop.

    DATABASE_URL=mysql://root@127.0.0.1:3306/orderplatform_agentbench \\
        .venv/bin/python bench/agent_throughput.py [--orders 1000]

The simulated backend runs at zero latency (SIMULATED_DURATION=0), so what is measured is the
agent's own cost per order: the claim of a batch (``AGENT_CLAIM_BATCH``, default 10, or
``--batch``: candidate read, lock, one guarded UPDATE, one INSERT of the events) and the booking
(completed orders together: lock, one guarded UPDATE, one INSERT; partial/failed orders one by
one with the refund on the locked account).
The baseline, on the same table in the same run, is the least any claim-and-finish queue can do:
``SELECT … FOR UPDATE SKIP LOCKED LIMIT 1``, ``UPDATE`` to running, commit, ``UPDATE`` to completed,
commit — no events, no money. Agents are timed from the first claim to the last finish (the orders'
own timestamps), so process start-up is not counted; the raw loop by the wall clock.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.mysql_database import ensure_database  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "False")
os.environ.setdefault("SIMULATED_DURATION", "0")
os.environ.setdefault("SIMULATED_PARTIAL_RATE", "0.1")
os.environ.setdefault("SIMULATED_FAILURE_RATE", "0.05")


def setup():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from customers.models import Level
    from customers.services import customer_create
    from orders.models import Order, PriceTier, Service
    from wallet.services import wallet_recharge

    service, _ = Service.objects.get_or_create(name="bench", defaults={"backend": "simulated"})
    PriceTier.objects.get_or_create(service=service, quantity=1, defaults={"price": "1.00"})
    customer = bench_customer(customer_create, Level)
    wallet_recharge(
        customer_id=customer.pk,
        amount="100000.00",
        created_by=None,
        idempotency_key=f"bench:{time.time_ns()}",
        memo="benchmark",
    )
    # Leave nothing due from an earlier run.
    Order.objects.filter(status__in=["pending", "running"]).update(status="failed")
    return customer, service


def bench_customer(customer_create, Level):
    from customers.models import Customer

    existing = Customer.objects.filter(user__username="bench").first()
    if existing:
        return existing
    level, _ = Level.objects.get_or_create(name="bench", defaults={"discount_percent": 100})
    return customer_create(
        username="bench",
        name="基准",
        mobile="13800000000",
        level=level,
        account_manager=None,
        password=None,
    )


def place(customer, service, n: int) -> list[int]:
    from orders.services import order_place

    return [
        order_place(customer=customer, service=service, target="https://bench.cn/x", quantity=10).pk
        for _ in range(n)
    ]


def span(ids: list[int]) -> float:
    from django.db.models import Max, Min

    from orders.models import Order

    orders = Order.objects.filter(pk__in=ids)
    left = orders.exclude(status__in=Order.TERMINAL).count()
    if left:
        raise SystemExit(f"{left} orders not finished")
    times = orders.aggregate(first=Min("started_at"), last=Max("finished_at"))
    return (times["last"] - times["first"]).total_seconds()


def run_agents(processes: int, concurrency: int) -> None:
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run_agent",
                "--once",
                "-v",
                "0",
                "--name",
                f"bench-{n}",
                "--concurrency",
                str(concurrency),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        for n in range(processes)
    ]
    for child in children:
        if child.wait() != 0:
            raise SystemExit("an agent failed")


def raw_loop(ids: list[int]) -> float:
    from django.db import connection, transaction

    started = time.perf_counter()
    done = 0
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM orders_order WHERE status = 'pending' "
                    "ORDER BY created_at, id DESC LIMIT 1 FOR UPDATE SKIP LOCKED"
                )
                row = cursor.fetchone()
                if row is None:
                    break
                cursor.execute(
                    "UPDATE orders_order SET status = 'running', lease_owner = 'raw', "
                    "lease_expires_at = NOW(6) + INTERVAL 60 SECOND, started_at = NOW(6), "
                    "attempts = attempts + 1 WHERE id = %s AND status = 'pending'",
                    [row[0]],
                )
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE orders_order SET status = 'completed', finished_at = NOW(6), "
                    "delivered_quantity = quantity, lease_expires_at = NULL "
                    "WHERE id = %s AND status = 'running'",
                    [row[0]],
                )
        done += 1
    elapsed = time.perf_counter() - started
    assert done == len(ids), (done, len(ids))
    return elapsed


CONFIGS = [(1, 1), (2, 1), (1, 4), (2, 4)]  # (processes, --concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300, help="orders per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each, interleaved")
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds the simulated supplier takes per order (0.5–1.5 × this); default 0",
    )
    parser.add_argument(
        "--batch", type=int, default=None, help="AGENT_CLAIM_BATCH for the agents (default: 10)"
    )
    args = parser.parse_args()
    if args.batch is not None:
        os.environ["AGENT_CLAIM_BATCH"] = str(args.batch)  # read by the agent processes
    os.environ["SIMULATED_DURATION"] = str(args.latency)  # read by the agent processes
    ensure_database("mysql://root@127.0.0.1:3306/orderplatform_agentbench")
    customer, service = setup()
    n = args.orders

    labels = ["raw SQL claim-and-finish loop (1 connection)"] + [
        f"run_agent × {p} process(es), --concurrency {c}" for p, c in CONFIGS
    ]
    rates: dict[str, list[float]] = {label: [] for label in labels}
    # Interleaved rounds: a noisy neighbour slows every configuration alike, not one of them.
    for _round in range(args.rounds):
        ids = place(customer, service, n)
        rates[labels[0]].append(n / raw_loop(ids))
        for label, (processes, concurrency) in zip(labels[1:], CONFIGS, strict=True):
            ids = place(customer, service, n)
            run_agents(processes, concurrency)
            rates[label].append(n / span(ids))

    best_raw = max(rates[labels[0]])
    print(f"{n} orders per measurement, {args.rounds} interleaved rounds, simulated backend at")
    print(f"{args.latency * 1000:.0f} ms latency, MariaDB; orders/s as best (median) of the rounds")
    print(f"{'':50} {'best':>7} {'median':>7} {'best ÷ raw best':>16}")
    for label in labels:
        best, median = max(rates[label]), statistics.median(rates[label])
        print(f"{label:50} {best:7.1f} {median:7.1f} {best / best_raw:16.2f}")
    from django.core.management import call_command

    call_command("wallet_audit", verbosity=0)


if __name__ == "__main__":
    main()
