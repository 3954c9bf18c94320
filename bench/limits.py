"""Every hot path beside its raw-SQL limit, in one command, in the same run, with the ratio.

    .venv/bin/python bench/limits.py                       # private MariaDB + Redis, all parts
    .venv/bin/python bench/limits.py --quick --only place,agent
    DATABASE_URL=mysql://root@127.0.0.1:3306/op_bench .venv/bin/python bench/limits.py --use-env

Without ``--use-env`` it starts the private MariaDB (127.0.0.1:3310) and Redis (127.0.0.1:6390)
of ``../shared/limits/servers.sh`` and **stops them again when it ends** (port 6390 is also the
CI cluster's). With ``--use-env`` it uses ``DATABASE_URL`` (and ``REDIS_URL``, if set) instead:
the limit scripts then run in the database ``<name>_limits`` on the same server.

Parts (``--only``, comma-separated; each runs the raw limit and then the project's path):

- ``place``: ``place_tx.py`` (1 and 4 connections, 1,000 accounts) beside ``order_place``
  (``bench/orders_place.py``'s customers, service and call), each connection its own process
  and its own customer.
- ``agent``: ``claim_loop.py`` (1 and 2 processes, batch 10) beside ``manage.py run_agent
  --once`` (``bench/agent_throughput.py``: 1 and 2 agent processes, simulated supplier at
  zero latency, timed from the first claim to the last finish).
- ``import``: ``bulk_insert.py`` executemany beside the admin's import
  (``bench/import_customers.py``: ``CustomerResource`` on a 100,000-row file).
- ``http``: ``bench/portal_http.py`` (gunicorn, production settings, 2 sync workers, 4
  clients; not ``bench/http.py``: that name would shadow the standard library's ``http`` for
  every script run from ``bench/``).
- ``admin``: ``bench/orders_admin_list.py`` on ``--admin-database-url`` (a seeded
  1,000,000-order database; not the private server, whose data is thrown away).

Concurrency is always separate processes (forked, started together on one monotonic clock, as
the limit scripts do): threads in one Python process would measure the GIL. Each project part
runs in a child Python process of its own (its own settings), printing one ``RESULT {json}``
line that this script reads. The load average is printed before each part.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PARTS = ("place", "agent", "import", "http", "admin")
PRIVATE_DB = "mysql://bench:bench@127.0.0.1:3310/op_limits"
PRIVATE_REDIS = "redis://127.0.0.1:6390/0"
PRIVATE_SOCKET = "/tmp/limits/mariadb/sock"  # noqa: S108 - servers.sh's own path
SUMMARY = re.compile(r"^SUMMARY (\w+) (.*?): median ([\d.]+)", re.M)


def limits_dir() -> Path:
    """``../shared/limits`` from the project (a worktree one level deeper also finds it)."""
    candidates = [os.environ.get("LIMITS_DIR", "")] + [
        str(parent / "shared" / "limits") for parent in ROOT.parents
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "servers.sh").is_file():
            return Path(candidate)
    sys.exit("../shared/limits not found: set LIMITS_DIR")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


# ---------------------------------------------------------------------------------------------
# The servers and the databases
# ---------------------------------------------------------------------------------------------


def servers(command: str) -> None:
    subprocess.run(["bash", str(limits_dir() / "servers.sh"), command], check=True)  # noqa: S603,S607


def grant_project_access() -> None:
    """Let the private server's ``bench`` user create the project's databases too."""
    subprocess.run(  # noqa: S603
        ["mariadb", "--no-defaults", f"--socket={PRIVATE_SOCKET}", "-uroot", "-e",  # noqa: S607
         "GRANT ALL ON *.* TO 'bench'@'127.0.0.1'"],
        check=True,
    )  # fmt: skip


def limit_env(database_url: str) -> dict[str, str]:
    """The limit scripts' connection (LIMITS_DB_*): the same server, database ``<name>_limits``."""
    url = urlsplit(database_url)
    name = url.path.lstrip("/") + "_limits"
    import MySQLdb

    server = MySQLdb.connect(
        host=url.hostname, port=url.port or 3306, user=url.username, passwd=url.password or ""
    )
    server.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
    server.close()
    return {
        "LIMITS_DB_HOST": url.hostname or "127.0.0.1",
        "LIMITS_DB_PORT": str(url.port or 3306),
        "LIMITS_DB_USER": url.username or "root",
        "LIMITS_DB_PASSWORD": url.password or "",
        "LIMITS_DB_NAME": name,
    }


# ---------------------------------------------------------------------------------------------
# Running the two sides
# ---------------------------------------------------------------------------------------------


def run_limit(script: str, args: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run one limit script; its SUMMARY medians by the case's key (``conns=4``, ``workers=2``…)."""
    venv = Path("/tmp/limits/venv/bin/python")  # noqa: S108 - servers.sh setup's venv
    python = str(venv) if venv.exists() else sys.executable  # ours has mysqlclient too
    print(f"$ {script} {' '.join(args)}", flush=True)
    out = subprocess.run(  # noqa: S603
        [python, script, *args],
        cwd=limits_dir(),
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    for line in out.stdout.splitlines():
        if line.startswith(("SUMMARY", "#")) and not line.startswith("# params"):
            print("  " + line, flush=True)
    if out.returncode:
        print(out.stdout[-2000:], out.stderr[-2000:], sep="\n")
        raise SystemExit(f"{script} failed (exit {out.returncode})")
    found = {}
    for _name, params, median in SUMMARY.findall(out.stdout):
        key = re.search(r"\b(conns|workers|method)=(\S+)", params)
        found[key.group(0) if key else params] = float(median)
    return found


def run_part(part: str, args: list[str], env: dict[str, str]) -> dict:
    """Run this script as ``--part <part>`` in a child process; its RESULT line."""
    print(f"$ project path: {part} {' '.join(args)}", flush=True)
    child = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--part", part, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    results = [
        json.loads(line[7:]) for line in child.stdout.splitlines() if line.startswith("RESULT ")
    ]
    if child.returncode or not results:
        print(child.stdout[-3000:], child.stderr[-3000:], sep="\n")
        raise SystemExit(f"project part {part} failed (exit {child.returncode})")
    for line in child.stdout.splitlines():
        if not line.startswith("RESULT "):
            print("  " + line, flush=True)
    return results[-1]


def ratio_row(label: str, project: float, limit: float, target: str) -> str:
    ratio = project / limit if limit else float("nan")
    return f"{label:44} {project:>10,.0f} {limit:>10,.0f} {ratio:>7.2f}  {target}"


def header(unit: str) -> str:
    return f"{'':44} {'project':>10} {'limit':>10} {'ratio':>7}  target ({unit})"


# ---------------------------------------------------------------------------------------------
# The parts, as the orchestrator runs them
# ---------------------------------------------------------------------------------------------


def part_place(o, env, limit) -> list[str]:
    seconds = 3 if o.quick else o.seconds
    raw = run_limit(
        "place_tx.py",
        ["--conns", "1,4", "--cases", "random", "--duration", str(seconds), "--reps", str(o.reps)],
        limit,
    )
    ours = run_part("place", ["--seconds", str(seconds), "--reps", str(o.reps)], env)
    return [header("orders/s")] + [
        ratio_row(f"order_place, {n} connection(s)", ours[str(n)], raw[f"conns={n}"], "≥ 0.5")
        for n in (1, 4)
    ]


def part_agent(o, env, limit) -> list[str]:
    orders = 10_000 if o.quick else 100_000
    raw = run_limit(
        "claim_loop.py",
        ["--workers", "1,2", "--batch", "10", "--orders", str(orders), "--reps", str(o.reps)],
        limit,
    )
    project_orders = 300 if o.quick else o.agent_orders
    ours = run_part("agent", ["--orders", str(project_orders), "--reps", str(o.reps)], env)
    rows = [header("orders finished/s")] + [
        ratio_row(f"run_agent, {n} process(es)", ours[str(n)], raw[f"workers={n}"], "≥ 0.5")
        for n in (1, 2)
    ]
    rows.append(f"{'run_agent 2 processes ÷ 1 process':44} {ours['2'] / ours['1']:>29.2f}  ≥ 1.3")
    return rows


def part_import(o, env, limit) -> list[str]:
    rows = 10_000 if o.quick else 100_000
    raw = run_limit(
        "bulk_insert.py",
        ["--rows", str(rows), "--methods", "executemany", "--reps", str(o.reps)],
        limit,
    )
    ours = run_part("import", ["--rows", str(rows)], env)
    return [
        header("rows/s"),
        ratio_row(
            f"customer import, {rows:,} rows: write job",
            ours["rows_per_s"],
            raw["method=executemany"],
            "≥ 0.2 and ≥ 10,000/s",
        ),
        ratio_row(
            f"customer import, {rows:,} rows: check + write",
            ours["overall_rows_per_s"],
            raw["method=executemany"],
            "—",
        ),
    ]


def part_http(o, env, limit) -> list[str]:
    args = ["--seconds", str(3 if o.quick else o.http_seconds)]
    print(f"$ bench/portal_http.py {' '.join(args)}", flush=True)
    child = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "bench" / "portal_http.py"), *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    print("\n".join("  " + line for line in child.stdout.splitlines() if line[:7] != "RESULT "))
    if child.returncode:
        print(child.stderr[-3000:])
        raise SystemExit(f"bench/portal_http.py failed (exit {child.returncode})")
    result = next(
        json.loads(line[7:]) for line in child.stdout.splitlines() if line.startswith("RESULT ")
    )
    rate = {name: page["rate"] for name, page in result["pages"].items()}
    return [
        f"{'':44} {'rate/s':>10} {'of':>10} {'ratio':>7}  target",
        f"{'portal order placed ÷ login page GET':44} {rate['order placed']:>10,.1f} "
        f"{rate['login page GET']:>10,.1f} {rate['order placed'] / rate['login page GET']:>7.2f}"
        "  ≥ 0.5",
        f"{'login page GET ÷ static file':44} {rate['login page GET']:>10,.1f} "
        f"{rate['static file']:>10,.1f} {rate['login page GET'] / rate['static file']:>7.2f}"
        "  ≥ 0.5",
    ]


def part_admin(o, env, limit) -> list[str]:
    if not o.admin_database_url:
        print("admin: skipped (give --admin-database-url, a database seeded by seed_orders)")
        return []
    args = ["--runs", "5" if o.quick else "9"]
    if o.admin_small_database_url:
        args += ["--small-database-url", o.admin_small_database_url]
    print(f"$ bench/orders_admin_list.py {' '.join(args)}", flush=True)
    subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "bench" / "orders_admin_list.py"), *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": o.admin_database_url},
        check=True,
    )
    return []


ORCHESTRATED = {
    "place": part_place,
    "agent": part_agent,
    "import": part_import,
    "http": part_http,
    "admin": part_admin,
}


# ---------------------------------------------------------------------------------------------
# The project's paths, each in its own child process (``--part``)
# ---------------------------------------------------------------------------------------------


def _limits_common():
    """The limit scripts' own process runner and helpers (one implementation for both sides)."""
    sys.path.insert(0, str(limits_dir()))
    import _common

    return _common


def _place_worker(index, a, ready, start_at):
    from django.db import connection

    from bench.orders_place import place_orm

    common = _limits_common()
    customer, service = a["customers"][index], a["service"]
    place_orm(customer, service)  # warm the connection
    ready.release()
    started = common.wait_start(start_at)
    deadline = started + a["seconds"]
    done, latencies = 0, []
    while (now := time.monotonic()) < deadline:
        place_orm(customer, service)
        latencies.append(time.monotonic() - now)
        done += 1
    end = time.monotonic()
    connection.close()
    return {"done": done, "end": end, "lat": latencies}


def project_place(seconds: float, reps: int) -> dict:
    """order_place from 1 and 4 processes, each its own connection and customer."""
    from bench.mysql_database import ensure_database

    ensure_database(PRIVATE_DB)
    from django.core.management import call_command
    from django.db import connections

    from bench import orders_place  # django.setup() with the bench's settings

    call_command("migrate", verbosity=0)
    customers = orders_place.bench_customers(4)
    service = orders_place.bench_service()
    common = _limits_common()
    result = {}
    for n in (1, 4):
        rates = []
        for _ in range(reps):
            connections.close_all()  # each forked worker opens its own
            args = {"customers": customers, "service": service, "seconds": seconds}
            started, res = common.run_workers(_place_worker, n, args)
            done = sum(r["done"] for r in res)
            rates.append(done / (max(r["end"] for r in res) - started))
            lat = sorted(x for r in res for x in r["lat"])
            print(
                f"order_place conns={n}: {done} orders = {rates[-1]:.0f}/s "
                f"p50 {common.pct(lat, 50) * 1e3:.2f} ms p99 {common.pct(lat, 99) * 1e3:.2f} ms "
                f"per-conn {[r['done'] for r in res]}"
            )
        result[str(n)] = common.med(rates)
    call_command("wallet_audit", verbosity=0)  # raises if the ledger does not reconcile
    print("wallet_audit: every account reconciles")
    return result


def project_agent(orders: int, reps: int) -> dict:
    """run_agent --once from 1 and 2 processes on ``orders`` due orders at zero latency."""
    from bench.mysql_database import ensure_database

    ensure_database(PRIVATE_DB)
    os.environ["SIMULATED_DURATION"] = "0"
    from bench import agent_throughput as agent

    customer, service = agent.setup()
    common = _limits_common()
    result = {}
    for processes in (1, 2):
        rates = []
        for _ in range(reps):
            ids = agent.place(customer, service, orders)
            agent.run_agents(processes, 1)
            rates.append(orders / agent.span(ids))
            print(f"run_agent x {processes}: {orders} orders = {rates[-1]:.0f}/s")
        result[str(processes)] = common.med(rates)
    from django.core.management import call_command

    call_command("wallet_audit", verbosity=0)
    print("wallet_audit: every account reconciles")
    return result


def project_import(rows: int) -> dict:
    """The admin's import (CustomerResource) of a ``rows``-row file, confirmed."""
    from bench.mysql_database import ensure_database

    ensure_database(PRIVATE_DB)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bench import import_customers as imp

    call_command("migrate", verbosity=0)
    imp.cleanup()
    imp.Level.objects.get_or_create(name="bench", defaults={"discount_percent": 100})
    manager, _ = get_user_model().objects.get_or_create(
        username="bench_manager", defaults={"is_staff": True}
    )
    owner, _ = get_user_model().objects.get_or_create(
        username="bench_importer", defaults={"is_staff": True, "is_superuser": True}
    )
    text = imp.make_csv(rows, 0, manager.username)
    # The path a person takes: the check job (every row validated, nothing written), then the
    # write job after "confirm" (all rows in one transaction), as the agent runs them.
    check_s, write_s, _peak = imp.timed_jobs(text, owner)
    created = imp.Customer.objects.filter(user__username__startswith=imp.PREFIX).count()
    imp.cleanup()
    if created != rows:
        raise SystemExit(f"import created {created} of {rows} customers")
    seconds = check_s + write_s
    print(
        f"import: {rows} rows, check {check_s:.1f} s + write {write_s:.1f} s = "
        f"{rows / seconds:,.0f} rows/s overall, write job {rows / write_s:,.0f} rows/s"
    )
    return {"rows_per_s": rows / write_s, "overall_rows_per_s": rows / seconds, "seconds": seconds}


def run_project_part(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", required=True)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=100_000)
    a = parser.parse_args(argv)
    if a.part == "place":
        result = project_place(a.seconds, a.reps)
    elif a.part == "agent":
        result = project_agent(a.orders, a.reps)
    elif a.part == "import":
        result = project_import(a.rows)
    else:
        parser.error(f"unknown part {a.part}")
    print("RESULT " + json.dumps(result), flush=True)
    return 0


# ---------------------------------------------------------------------------------------------


def main() -> int:
    if "--part" in sys.argv:
        return run_project_part(sys.argv[1:])
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    parser.add_argument("--only", default="place,agent,import,http", help=f"of {','.join(PARTS)}")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--use-env", action="store_true", help="DATABASE_URL, not the private one")
    parser.add_argument("--keep-servers", action="store_true", help="leave them running")
    parser.add_argument("--reps", type=int, default=1, help="repetitions (median) per case")
    parser.add_argument("--seconds", type=float, default=10, help="per place case")
    parser.add_argument("--agent-orders", type=int, default=2000, help="orders per agent run")
    parser.add_argument("--http-seconds", type=float, default=10, help="per HTTP page")
    parser.add_argument("--admin-database-url", default=os.environ.get("ADMIN_DATABASE_URL"))
    parser.add_argument(
        "--admin-small-database-url", default=os.environ.get("ADMIN_SMALL_DATABASE_URL")
    )
    o = parser.parse_args()
    parts = [p for p in o.only.split(",") if p]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")

    started_servers = False
    try:
        if o.use_env:
            database_url = os.environ.get("DATABASE_URL", "")
            if not database_url.startswith("mysql://"):
                sys.exit("--use-env needs DATABASE_URL=mysql://…")
            env = {"DATABASE_URL": database_url}
        elif parts != ["admin"]:
            servers("start")
            started_servers = True
            grant_project_access()
            env = {"DATABASE_URL": PRIVATE_DB, "REDIS_URL": PRIVATE_REDIS}
        else:
            env = {}
        limit = limit_env(env["DATABASE_URL"]) if env else {}
        print(f"# {time.strftime('%Y-%m-%d %H:%M:%S')} {load()}; project on {env or 'n/a'}")
        table = []
        for part in parts:
            print(f"\n## {part} — {load()}", flush=True)
            table += ORCHESTRATED[part](o, env, limit)
            table.append("")
        print(f"\n# beside the limit, same run ({'quick' if o.quick else 'full'}) — {load()}")
        print("\n".join(table))
    finally:
        if started_servers and not o.keep_servers:
            servers("stop")
    return 0


if __name__ == "__main__":
    sys.exit(main())
