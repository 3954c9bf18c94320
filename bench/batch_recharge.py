"""Benchmark: applying a batch recharge (批量充值) in bulk against the same rows recharged one
``wallet_recharge`` call at a time, both in one transaction, in the same run.

    DATABASE_URL=mysql://root@127.0.0.1:3306/op_batch_bench \\
        .venv/bin/python bench/batch_recharge.py [--rows 5000] [--customers 500]

The bulk path is what the agent runs for a queued batch: a file of ``--rows`` rows over
``--customers`` customers is previewed (``batch_preview``), confirmed (queued: more rows than
WALLET_BATCH_SYNC_ROWS) and applied by ``batch_apply_next`` (``wallet_recharge_many``). The
baseline writes the same number of recharges (other keys and references) with one
``wallet_recharge`` per row inside one transaction, as batches were applied before. Both hold
every account of the batch locked until they commit, so the time is also how long an order of
one of those customers would wait. Prints both times, rows/s and the ratio; wallet_audit after.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

from bench.mysql_database import ensure_database  # noqa: E402

ensure_database("mysql://root@127.0.0.1:3306/op_batch_bench")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from customers.models import Customer, Level  # noqa: E402
from wallet.audit import audit_chain, audit_drifts  # noqa: E402
from wallet.batch import batch_apply_next, batch_confirm, batch_preview  # noqa: E402
from wallet.models import Account  # noqa: E402
from wallet.services import wallet_recharge  # noqa: E402


def seed(count: int) -> list[Customer]:
    User = get_user_model()
    level, _ = Level.objects.get_or_create(name="bench", defaults={"discount_percent": 100})
    have = list(Customer.objects.filter(user__username__startswith="batch").order_by("id"))
    if len(have) >= count:
        return have[:count]
    users = User.objects.bulk_create(
        [User(username=f"batch{i}") for i in range(len(have), count)], batch_size=1000
    )
    users = list(User.objects.filter(username__in=[u.username for u in users]))
    Customer.objects.bulk_create(
        [
            Customer(user=u, name=f"批量{u.pk}", mobile=f"+86137{u.pk:08d}", level=level)
            for u in users
        ],
        batch_size=1000,
    )
    customers = list(Customer.objects.filter(user__username__startswith="batch").order_by("id"))
    Account.objects.bulk_create(
        [Account(customer=c) for c in customers], batch_size=1000, ignore_conflicts=True
    )
    return customers[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--customers", type=int, default=500)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("sync_roles", verbosity=0)
    customers = seed(args.customers)
    User = get_user_model()
    finance, _ = User.objects.get_or_create(
        username="bench-finance", defaults={"is_staff": True, "is_superuser": True}
    )
    run = str(time.time_ns())

    # Baseline: one wallet_recharge per row, all in one transaction.
    started = time.perf_counter()
    with transaction.atomic():
        for n in range(args.rows):
            wallet_recharge(
                customer_id=customers[n % len(customers)].pk,
                amount="1.50",
                created_by=finance,
                idempotency_key=f"bench-one:{run}:{n}",
                payment_method="bank_transfer",
                payment_reference=f"ONE{run}N{n}",
            )
    one_by_one = time.perf_counter() - started

    # The batch: preview, confirm (queued), applied as the agent applies it.
    lines = ["customer,amount,payment reference,method,memo"]
    lines += [
        f"{customers[n % len(customers)].user.username},1.50,B{run}N{n},bank_transfer,"
        for n in range(args.rows)
    ]
    data = ("\n".join(lines) + "\n").encode()
    started = time.perf_counter()
    batch = batch_preview(data=data, file_name="bench.csv", uploaded_by=finance)
    preview = time.perf_counter() - started
    assert not batch.error_count, batch.rows[:3]
    batch_confirm(batch_id=batch.pk, actor=finance)
    started = time.perf_counter()
    applied = batch_apply_next()
    bulk = time.perf_counter() - started
    assert applied is not None and applied.status == "applied", applied and applied.result
    assert applied.result["created"] == args.rows

    drifts, chain = audit_drifts(), audit_chain()
    print(f"rows {args.rows} over {len(customers)} customers, load {os.getloadavg()[0]:.1f}")
    print(f"preview (in the request):           {preview:6.2f} s")
    print(
        f"one wallet_recharge per row:        {one_by_one:6.2f} s  {args.rows / one_by_one:8.0f} rows/s"
    )
    print(f"batch applied (wallet_recharge_many): {bulk:4.2f} s  {args.rows / bulk:8.0f} rows/s")
    print(f"ratio (one by one ÷ batch):         {one_by_one / bulk:6.1f}×")
    print(f"wallet_audit: {len(drifts)} drifts, {len(chain)} broken links")


if __name__ == "__main__":
    main()
