"""Benchmark: wallet_audit's aggregate queries against the naive one-query-per-account loop,
and the streamed ledger CSV export, on the same seeded ledger in the same run.

    DATABASE_URL=mysql://root@127.0.0.1:3306/orderplatform_b \\
        .venv/bin/python bench/wallet_audit.py [--accounts 5000] [--entries 20]

Seeds (once; reused when the row counts already match) customers with ledgers that reconcile,
via bulk inserts, then prints the median time of each approach and the ratio between them.
"""

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Sum  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from customers.models import Customer, Level  # noqa: E402
from wallet.audit import audit_chain, audit_drifts  # noqa: E402
from wallet.exports import FIELDS, export_rows  # noqa: E402
from wallet.models import Account, Entry  # noqa: E402


def seed(accounts: int, per_account: int) -> None:
    """Bulk-insert customers with reconciling ledgers (skipped when already seeded)."""
    if (
        Account.objects.filter(customer__user__username__startswith="bench").count() == accounts
        and Entry.objects.filter(idempotency_key__startswith="bench:").count()
        == accounts * per_account
    ):
        return
    print(f"seeding {accounts} accounts x {per_account} entries…", file=sys.stderr)
    User = get_user_model()
    level, _ = Level.objects.get_or_create(name="bench", defaults={"discount_percent": 100})
    users = User.objects.bulk_create(
        [User(username=f"bench{i}", is_staff=False) for i in range(accounts)], batch_size=2000
    )
    users = list(User.objects.filter(username__startswith="bench").order_by("id"))
    customers = Customer.objects.bulk_create(
        [
            Customer(user=u, name=f"压测{i}", mobile=f"+86139{i:08d}", level=level)
            for i, u in enumerate(users)
        ],
        batch_size=2000,
    )
    customers = list(Customer.objects.filter(user__in=users).order_by("id"))
    Account.objects.bulk_create([Account(customer=c) for c in customers], batch_size=2000)
    batch: list[Entry] = []
    for account in Account.objects.filter(customer__in=customers).order_by("id"):
        balance = Decimal("0.00")
        for n in range(per_account):
            amount = Decimal("10.00") if n % 3 != 2 else Decimal("-4.50")
            balance += amount
            batch.append(
                Entry(
                    account=account,
                    kind="recharge" if amount > 0 else "deduct",
                    amount=amount,
                    balance_after=balance,
                    idempotency_key=f"bench:{account.pk}:{n}",
                    memo="bench",
                )
            )
        Account.objects.filter(pk=account.pk).update(balance=balance)
        if len(batch) >= 5000:
            Entry.objects.bulk_create(batch)
            batch = []
    Entry.objects.bulk_create(batch)


def naive_audit() -> list[int]:
    """The baseline: one query for the sum and one for the last entry, per account."""
    drifts = []
    for account in Account.objects.all().iterator():
        entries = Entry.objects.filter(account=account)
        total = entries.aggregate(s=Sum("amount"))["s"] or Decimal("0")
        last = entries.order_by("-id").values_list("balance_after", flat=True).first()
        if account.balance != total or (last is not None and last != account.balance):
            drifts.append(account.pk)
    return drifts


def timed(func, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    seed(args.accounts, args.entries)
    accounts, entries = Account.objects.count(), Entry.objects.count()
    print(f"ledger: {accounts} accounts, {entries} entries")

    aggregate = timed(audit_drifts, args.runs)
    chain = timed(audit_chain, args.runs)
    naive = timed(naive_audit, 1)
    print(f"wallet_audit (aggregate, 1 query):   {aggregate * 1000:9.1f} ms")
    print(f"wallet_audit --chain (window query): {chain * 1000:9.1f} ms")
    print(f"baseline: 2 queries per account:     {naive * 1000:9.1f} ms")
    print(f"ratio baseline / aggregate:          {naive / aggregate:9.1f}x")

    start = time.perf_counter()
    rows = sum(1 for _ in export_rows(Entry.objects.all()))
    elapsed = time.perf_counter() - start
    streamed = peak_memory(lambda: sum(1 for _ in export_rows(Entry.objects.all())))
    buffered = peak_memory(lambda: len(list(Entry.objects.values_list(*FIELDS))))
    print(f"export: {rows} rows in {elapsed:.2f} s ({rows / elapsed:,.0f} rows/s)")
    print(f"export peak Python memory, keyset batches:   {streamed / 1e6:7.1f} MB")
    print(f"baseline: the whole result in one list:      {buffered / 1e6:7.1f} MB")
    print(f"ratio baseline / streamed:                   {buffered / streamed:7.1f}x")

    client = Client()
    client.force_login(
        get_user_model().objects.get_or_create(
            username="bench-root", defaults={"is_staff": True, "is_superuser": True}
        )[0]
    )
    url = reverse("admin:wallet_entry_changelist")
    page = timed(lambda: client.get(url, {"kind__exact": "deduct"}), args.runs)
    raw_sql = (
        f"SELECT * FROM {Entry._meta.db_table} WHERE kind = 'deduct' "  # noqa: S608
        "ORDER BY created_at DESC, id DESC LIMIT 50"
    )
    raw = timed(lambda: connection.cursor().execute(raw_sql), args.runs)
    print(f"ledger page (kind filter, whole page):       {page * 1000:7.1f} ms")
    print(f"baseline: its 50 rows as raw SQL:            {raw * 1000:7.1f} ms")
    print(f"ratio page / raw rows:                       {page / raw:7.1f}x")


def peak_memory(func) -> int:
    tracemalloc.start()
    func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


if __name__ == "__main__":
    main()
