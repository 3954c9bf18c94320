"""Benchmark: exporting every order (CSV and XLSX) as the background job does, with peak RSS.

    DATABASE_URL=mysql://root@127.0.0.1:3306/op_bench \\
        .venv/bin/python manage.py seed_orders --orders 1000000     # once
    DATABASE_URL=mysql://root@127.0.0.1:3306/op_bench \\
        .venv/bin/python bench/export_orders.py [--formats csv,xlsx] [--limit N]

Each format runs in its own child process (so each peak RSS is that export's alone): it queues
an ``export`` job for a superuser with the order list's empty filter (``--limit N``: the
newest N orders, through the same admin filter path, ``?id__gte=…``), runs it with
``jobs.runner.run_next`` exactly as the agent's side task does, and prints rows, seconds,
rows/s, the file's size and the process's peak RSS before and after. Memory is bounded:
rows are read in primary-key batches (never one buffered result set) and XLSX is written with
openpyxl's write-only workbook.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(fmt: str, limit: int) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("MEDIA_ROOT", "/tmp/bench_export_media")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from jobs.models import Job
    from jobs.runner import run_next
    from jobs.services import job_create
    from jobs.storage import job_storage
    from orders.models import Order

    call_command("migrate", verbosity=0)
    owner, _ = get_user_model().objects.get_or_create(
        username="bench_exporter", defaults={"is_staff": True, "is_superuser": True}
    )
    Job.objects.filter(owner=owner).delete()  # an interrupted earlier run's job would go first
    query = ""
    if limit:
        newest = Order.objects.order_by("-pk").values_list("pk", flat=True)[limit - 1 : limit]
        query = f"id__gte={newest[0]}" if newest else ""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    job, _ = job_create(
        owner=owner,
        kind="export",
        title="bench",
        params={
            "spec": "orders.admin.order_actions.order_export_spec",
            "model": "orders.Order",
            "query": query,
            "format": fmt,
            "filename": f"orders-bench.{fmt}",
            "language": "zh-hans",
        },
    )
    started = time.perf_counter()
    run_next(worker="bench")
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = job_storage().size(job.output_file) if job.output_file else 0
    if job.output_file:
        job_storage().delete(job.output_file)
    Job.objects.filter(pk=job.pk).delete()
    print(
        json.dumps(
            {
                "format": fmt,
                "state": job.state,
                "error": job.error,
                "rows": job.result.get("rows", 0),
                "seconds": seconds,
                "bytes": size,
                "rss_before_mb": before,
                "rss_peak_mb": after,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--limit", type=int, default=0, help="only the newest N orders")
    parser.add_argument("--child", default="")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.limit)
        return
    print(f"database: {os.environ.get('DATABASE_URL', 'sqlite (default)')}")
    for fmt in args.formats.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--child", fmt, "--limit", str(args.limit)],
            capture_output=True,
            text=True,
            check=False,
        )
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        if out.returncode or not lines:
            raise SystemExit(out.stdout + out.stderr)
        r = json.loads(lines[-1])
        rate = r["rows"] / r["seconds"] if r["seconds"] else 0
        print(
            f"{r['format']}: {r['state']} {r['rows']:,} rows in {r['seconds']:.1f} s = "
            f"{rate:,.0f} rows/s, {r['bytes'] / 2**20:.0f} MB file; peak RSS "
            f"{r['rss_peak_mb']:.0f} MB (process {r['rss_before_mb']:.0f} MB before the export)"
            + (f" — {r['error']}" if r["error"] else "")
        )
    print(f"load average: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
