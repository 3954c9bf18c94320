"""Benchmark: orders placed per second through the reseller API, next to direct order_place.

One run, MariaDB, production settings:

1. **API**: gunicorn (``config.wsgi``, 2 sync workers) on 127.0.0.1; 4 client processes, each
   with its own customer and API key, POST /api/v1/orders (a new ``client_order_id`` each time,
   ``expected_amount`` set) over a keep-alive ``requests`` session for ``--seconds``.
2. **Direct**: 4 processes, each with its own customer and database connection, call
   ``orders.services.order_place`` with the same arguments for the same time.

The two alternate for ``--rounds`` rounds of ``--seconds`` each (the shared machine's load
changes by the minute; alternating lets it hit both), and the medians and the per-round ratio
are printed. Then ``wallet_audit`` checks the ledger. Rate limits are off for the run (they would be the
bottleneck by design); each request still does the key check, the last-use write (once a
minute) and the request log line.

    DATABASE_URL=mysql://root@127.0.0.1:3306/op_api_bench \\
        .venv/bin/python bench/api_orders.py [--seconds 10] [--rounds 3] [--clients 4]
"""

import argparse
import multiprocessing
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
HOST = "127.0.0.1"
PORT = 8731

ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": HOST,
    "DJANGO_SECURE_SSL_REDIRECT": "False",
    "API_RATE_PER_SECOND": "0",
    "API_RATE_PER_MINUTE": "0",
    "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
}
ENV.pop("DATABASE_REPLICA_URL", None)
ENV.pop("DATABASE_LOGS_URL", None)
os.environ.update(ENV)
for name in ("DATABASE_REPLICA_URL", "DATABASE_LOGS_URL"):
    os.environ.pop(name, None)

from bench.mysql_database import ensure_database  # noqa: E402

TARGET = "https://bench.example.cn/v/1"
QUANTITY = 1000


def setup(clients: int) -> dict:
    """Migrate; make 2 × ``clients`` funded customers, a service and a key per API client."""
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)  # noqa: S603
    import django

    django.setup()
    from api.services import api_key_create
    from customers.models import Customer, Level
    from customers.services import customer_create
    from orders.models import PriceTier, Service
    from orders.pricing import price
    from wallet.services import wallet_recharge

    level, _ = Level.objects.get_or_create(name="压测 API 100%", defaults={"discount_percent": 100})
    service, created = Service.objects.get_or_create(
        name="压测·API 下单", defaults={"min_quantity": 1, "backend": "simulated"}
    )
    if created:
        PriceTier.objects.create(service=service, quantity=1, price=Decimal("0.01"))
        PriceTier.objects.create(service=service, quantity=1000, price=Decimal("8.00"))
    customers = []
    for i in range(2 * clients):
        username = f"bench_api_{i}"
        customer = Customer.objects.filter(user__username=username).first() or customer_create(
            username=username,
            name=f"压测API{i}",
            mobile=f"+86136{80000000 + i:08d}",
            level=level,
            account_manager=None,
        )
        wallet_recharge(
            customer_id=customer.pk,
            amount="900000.00",
            created_by=None,
            idempotency_key=f"bench-recharge:{uuid.uuid4().hex}",
        )
        customers.append(customer.pk)
    tokens = [
        api_key_create(customer=Customer.objects.get(pk=pk), label="bench")[1]
        for pk in customers[:clients]
    ]
    amount = price(service=service, quantity=QUANTITY, level_percent=100).amount
    from django.db import connections

    connections.close_all()  # the forked workers open their own
    return {
        "service": service.pk,
        "api_customers": customers[:clients],
        "direct_customers": customers[clients:],
        "tokens": tokens,
        "amount": f"{amount:.2f}",
    }


def api_client(args) -> tuple[int, int, float]:
    """One client process: POST orders until the deadline; (placed, errors, seconds)."""
    import requests

    token, service, amount, start_at, seconds = args
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    url = f"http://{HOST}:{PORT}/api/v1/orders"
    body = {"service": service, "target": TARGET, "quantity": QUANTITY, "expected_amount": amount}
    while time.time() < start_at:
        time.sleep(0.001)
    placed = errors = 0
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        response = session.post(url, json={**body, "client_order_id": uuid.uuid4().hex}, timeout=30)
        if response.status_code == 201:
            placed += 1
        else:
            errors += 1
    return placed, errors, time.perf_counter() - began


def direct_client(args) -> tuple[int, int, float]:
    """One process calling order_place directly until the deadline."""
    from customers.models import Customer
    from orders.models import Service
    from orders.services import order_place

    customer_id, service_id, amount, start_at, seconds = args
    customer = Customer.objects.select_related("level").get(pk=customer_id)
    service = Service.objects.get(pk=service_id)
    while time.time() < start_at:
        time.sleep(0.001)
    placed = 0
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        order_place(
            customer=customer,
            service=service,
            target=TARGET,
            quantity=QUANTITY,
            expected_amount=Decimal(amount),
            idempotency_key=f"api:{customer_id}:{uuid.uuid4().hex}",
            created_by=customer.user,
        )
        placed += 1
    return placed, 0, time.perf_counter() - began


def run(pool, fn, jobs) -> tuple[float, int]:
    results = pool.map(fn, jobs)
    placed = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    elapsed = max(r[2] for r in results)
    return placed / elapsed, errors


def wait_for_server(deadline: float) -> None:
    import requests

    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://{HOST}:{PORT}/api/v1/openapi.json", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer in time")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not 1 <= args.seconds <= 600 or not 1 <= args.clients <= 16 or not 1 <= args.rounds <= 20:
        parser.error("--seconds 1..600, --clients 1..16, --rounds 1..20")
    ensure_database("mysql://root@127.0.0.1:3306/op_api_bench")
    data = setup(args.clients)
    log = open(ROOT / "var" / "bench_api_gunicorn.log", "w")  # noqa: SIM115
    server = subprocess.Popen(  # noqa: S603
        [str(Path(PYTHON).parent / "gunicorn"), "config.wsgi", "--bind", f"{HOST}:{PORT}",
         "--workers", "2", "--worker-class", "sync", "--timeout", "60"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    api_rates, direct_rates, api_errors = [], [], 0
    try:
        wait_for_server(time.monotonic() + 60)
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(args.clients) as pool:
            # Warm-up: one request per client (worker imports, connections).
            run(
                pool,
                api_client,
                [(t, data["service"], data["amount"], 0, 0.5) for t in data["tokens"]],
            )
        # Rounds alternate API and direct, so a change in the shared machine's load hits both.
        for _round in range(args.rounds):
            with ctx.Pool(args.clients) as pool:
                start = time.time() + 1
                rate, errors = run(
                    pool,
                    api_client,
                    [
                        (t, data["service"], data["amount"], start, args.seconds)
                        for t in data["tokens"]
                    ],
                )
                api_rates.append(rate)
                api_errors += errors
            with ctx.Pool(args.clients) as pool:
                start = time.time() + 1
                rate, _ = run(
                    pool,
                    direct_client,
                    [
                        (c, data["service"], data["amount"], start, args.seconds)
                        for c in data["direct_customers"]
                    ],
                )
                direct_rates.append(rate)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    from django.db import connection

    print(
        f"{connection.vendor}, production settings, {args.clients} client processes, "
        f"{args.rounds} alternating rounds of {args.seconds:.0f} s"
    )
    print(f"{'path':<40} {'orders/s per round':<28} {'median':>7}")
    rounds = "  ".join(f"{r:5.1f}" for r in api_rates)
    print(
        f"{'API: gunicorn 2 sync workers, HTTP':<40} {rounds:<28} {statistics.median(api_rates):>7.1f}"
    )
    rounds = "  ".join(f"{r:5.1f}" for r in direct_rates)
    print(f"{'direct order_place':<40} {rounds:<28} {statistics.median(direct_rates):>7.1f}")
    ratios = [a / d for a, d in zip(api_rates, direct_rates, strict=True)]
    print(
        f"API / direct per round: {'  '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f}"
    )
    print(f"non-201 API answers: {api_errors}")
    from django.core.management import call_command

    call_command("wallet_audit")
    return 0 if api_errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
