"""Benchmark: importing customers through the admin's resource, against a plain bulk_create.

    DATABASE_URL=sqlite:////tmp/bench_customers.sqlite3 \\
        .venv/bin/python bench/import_customers.py [--rows 100000]
    DATABASE_URL=mysql://root@127.0.0.1:3306/orderplatform_a \\
        .venv/bin/python bench/import_customers.py [--rows 100000]

Migrates the database, generates N customer rows as a CSV (the file an administrator would
upload), then in the same run measures the path the admin uses (jobs/, docs/jobs.md):

1. the check job (``import.check``: every row checked against the database and the file,
   nothing written),
2. the write job (``import.write``: the same file, every row in one transaction with the job's
   completion), both run by ``jobs.runner.run_next`` exactly as the agent's side task runs them,
3. a plain ``bulk_create`` of the same users and customers (no checks, no permissions),
4. with ``--library``: django-import-export's own ``import_data`` on the same resource (the
   previous path), for comparison,
5. with ``--admin``: the admin's own pages — upload and confirm — as an administrator, through
   Django's test client, with the jobs run in between,

and prints rows per second for each, the ratio import/bulk_create, and the peak Python memory
of an import at N/20 and N/10 rows (traced separately, untimed): what grows per row is the
parsed file and the library's small per-row result, not the import's own state.
The rows it creates are deleted at the end.
"""

import argparse
import io
import os
import re
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("MEDIA_ROOT", "/tmp/bench_import_media")

import django  # noqa: E402

django.setup()

import tablib  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from customers.models import Customer, CustomerUserObjectPermission, Level  # noqa: E402
from customers.resources import COLUMNS, CustomerResource  # noqa: E402

User = get_user_model()
PREFIX = "bimp"
IMPORT_URL = "admin:customers_customer_import"


def make_csv(rows: int, offset: int, manager: str) -> str:
    """N rows of the import file; mobiles +86137xxxxxxxx, every other row with a manager."""
    lines = [",".join(COLUMNS)]
    for i in range(offset, offset + rows):
        owner = manager if i % 2 else ""
        lines.append(f"{PREFIX}{i},压测客户{i},137{i:08d},bench,{owner},1")
    return "\n".join(lines) + "\n"


def cleanup() -> None:
    """Delete what the benchmark created (permissions, customers, then their users)."""
    with transaction.atomic():
        customers = Customer.objects.filter(user__username__startswith=PREFIX)
        CustomerUserObjectPermission.objects.filter(content_object__in=customers).delete()
        ids = list(customers.values_list("user_id", flat=True))
        customers.delete()
        for start in range(0, len(ids), 5000):
            User.objects.filter(pk__in=ids[start : start + 5000]).delete()
    for account_model in _account_models():
        account_model.objects.filter(customer__isnull=True).delete()


def _account_models():
    try:
        from wallet.models import Account
    except ImportError:  # wallet not installed
        return []
    return [Account]


def timed_jobs(text: str, owner, *, trace: bool = False) -> tuple[float, float, int]:
    """Seconds of the check job and of the write job, and (traced) peak Python memory."""
    from django.core.files.base import ContentFile

    from jobs.imports import import_confirm, import_start
    from jobs.runner import run_next

    check = import_start(
        owner=owner,
        upload=ContentFile(text.encode(), name="bench.csv"),
        encoding="utf-8",
        resource="customers.resources.CustomerResource",
        name="bench.csv",
    )
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    run_next(worker="bench")
    check_s = time.perf_counter() - started
    check.refresh_from_db()
    if check.state != "done" or check.result.get("invalid"):
        raise SystemExit(f"check failed: {check.error} {check.result.get('errors', [])[:3]}")
    write = import_confirm(check=check)
    started = time.perf_counter()
    run_next(worker="bench")
    write_s = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    write.refresh_from_db()
    if write.state != "done":
        raise SystemExit(f"write failed: {write.error}")
    return check_s, write_s, peak


def timed_import(text: str, *, dry_run: bool, trace: bool = False) -> tuple[float, int]:
    """Seconds and (when traced) peak Python memory in bytes of one import_data call."""
    dataset = tablib.Dataset().load(text, format="csv")
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    result = CustomerResource().import_data(dataset, dry_run=dry_run)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    if result.has_errors() or result.has_validation_errors():
        first = next(iter(result.invalid_rows), None)
        raise SystemExit(f"import failed: {result.base_errors or first.error_dict}")
    return elapsed, peak


def timed_bulk_create(rows: int, offset: int, level: Level) -> float:
    """Seconds for a plain bulk_create of the same users and customers (the baseline)."""
    started = time.perf_counter()
    with transaction.atomic():
        users = User.objects.bulk_create(
            [
                User(username=f"{PREFIX}{i}", password=make_password(None))
                for i in range(offset, offset + rows)
            ],
            batch_size=1000,
        )
        if users and users[0].pk is None:
            users = list(User.objects.filter(username__startswith=PREFIX).order_by("id"))
        Customer.objects.bulk_create(
            [
                Customer(user=u, name=f"压测客户{i}", mobile=f"+86137{i:08d}", level=level)
                for i, u in zip(range(offset, offset + rows), users, strict=False)
            ],
            batch_size=1000,
        )
    return time.perf_counter() - started


def through_admin(rows: int) -> None:
    """Upload the file to the admin's import page as an administrator, then confirm it."""
    from jobs.models import Job
    from jobs.runner import run_next

    admin, _ = User.objects.get_or_create(username="bench_admin", defaults={"is_staff": True})
    admin.groups.add(Group.objects.get(name="管理员"))
    client = Client()
    client.force_login(admin)
    upload = io.BytesIO(make_csv(rows, 0, "bench_manager").encode())
    upload.name = "customers.csv"
    started = time.perf_counter()
    uploaded = client.post(reverse(IMPORT_URL), {"file": upload, "encoding": "utf-8"})
    upload_s = time.perf_counter() - started
    check_pk = int(re.findall(r"/(\d+)/$", uploaded["Location"])[0])
    started = time.perf_counter()
    run_next(worker="bench")
    check_s = time.perf_counter() - started
    started = time.perf_counter()
    confirmed = client.post(reverse("admin:jobs_job_confirm", args=[check_pk]))
    confirm_s = time.perf_counter() - started
    status = client.get(reverse("admin:jobs_job_status", args=[check_pk]))
    started = time.perf_counter()
    run_next(worker="bench")
    write_s = time.perf_counter() - started
    created = Customer.objects.filter(user__username__startswith=PREFIX).count()
    assert uploaded.status_code == confirmed.status_code == 302 and created == rows
    assert status.json()["percent"] == 100
    Job.objects.filter(owner=admin).delete()
    cleanup()
    print(
        f"through the admin: upload request {upload_s:.2f} s, check job {check_s:.1f} s, "
        f"confirm request {confirm_s:.2f} s, write job {write_s:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--admin", action="store_true", help="also upload and confirm through the admin pages"
    )
    parser.add_argument(
        "--library", action="store_true", help="also time django-import-export's import_data"
    )
    args = parser.parse_args()
    rows = args.rows

    call_command("migrate", verbosity=0)
    cleanup()
    level, _ = Level.objects.get_or_create(name="bench", defaults={"discount_percent": 100})
    manager, _ = User.objects.get_or_create(username="bench_manager", defaults={"is_staff": True})
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']}); rows: {rows:,}")

    owner, _ = User.objects.get_or_create(username="bench_owner", defaults={"is_staff": True})
    # Memory, traced (tracemalloc slows Python down, so these runs are not timed): the peak of
    # an import at N/20 and N/10 rows; the difference per row is what grows with the file.
    peaks = {}
    for size in (max(rows // 20, 1), max(rows // 10, 2)):
        peaks[size] = timed_jobs(make_csv(size, 0, manager.username), owner, trace=True)[2]
        cleanup()
    (small, small_peak), (large, large_peak) = sorted(peaks.items())

    text = make_csv(rows, 0, manager.username)
    check_s, write_s, _ = timed_jobs(text, owner)
    assert Customer.objects.filter(user__username__startswith=PREFIX).count() == rows
    cleanup()
    if args.library:
        library_s, _ = timed_import(text, dry_run=False)
        cleanup()
    bulk_s = timed_bulk_create(rows, 0, level)
    cleanup()
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def rate(seconds: float) -> str:
        return f"{rows / seconds:,.0f} rows/s ({seconds:.1f} s)"

    print(f"check job (nothing written):     {rate(check_s)}")
    print(f"write job (one transaction):     {rate(write_s)}")
    print(f"check + write:                   {rate(check_s + write_s)}")
    if args.library:
        print(f"import-export's import_data:     {rate(library_s)}")
    print(f"plain bulk_create baseline:      {rate(bulk_s)}")
    print(f"write job / bulk_create time:    {write_s / bulk_s:.2f}x")
    if args.admin:
        through_admin(rows)
    per_row = (large_peak - small_peak) / max(large - small, 1)
    print(
        f"peak Python memory of an import: {small_peak / 2**20:.1f} MB at {small:,} rows, "
        f"{large_peak / 2**20:.1f} MB at {large:,} rows ({per_row:.0f} bytes per extra row, "
        f"incl. the parsed file); process peak RSS after {rows:,} rows: {max_rss:.0f} MB"
    )


if __name__ == "__main__":
    main()
