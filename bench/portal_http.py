"""HTTP: the portal under gunicorn (production settings, 2 sync workers) driven by 4 client processes.

    DATABASE_URL=mysql://root@127.0.0.1:3306/op_bench [REDIS_URL=redis://127.0.0.1:6379/8] \\
        .venv/bin/python bench/portal_http.py [--seconds 10] [--clients 4] [--workers 2]

(``bench/limits.py --only http`` runs it on the private MariaDB and Redis.)

Migrates the database, collects the static files into a temporary STATIC_ROOT, takes
``bench/orders_place.py``'s customers (one per client, funded, given a password) and service,
then serves the project with
gunicorn on a free loopback port: ``config.settings.production`` with a generated
DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS=127.0.0.1 and the SSL redirect off (plain HTTP on
loopback; the session and CSRF cookies are Secure, so the clients keep them by hand, as
``deploy/local/hammer.py`` does). Each client is a separate process that logs in through the
portal's real login form (GET the page, POST it with its CSRF token) and then, all clients
started together, for ``--seconds`` each:

- ``static file``: a hashed static file (whitenoise), anonymous;
- ``login page GET``: the portal's login page, anonymous;
- ``portal dashboard``: ``/portal/``, logged in;
- ``order placed``: the order form POSTed (its answer is the confirmation, which shows the
  price) and the confirmation POSTed (302 to the new order): one order = both requests.

Prints each as a rate (completed per second, all clients) and p50/p99, and the two ratios the
issue's table asks for; the last line is ``RESULT {json}``. Gunicorn is stopped by its pid.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.limits import limits_dir, load  # noqa: E402
from bench.mysql_database import ensure_database  # noqa: E402
from deploy.local.hammer import HIDDEN, Browser  # noqa: E402

HOST = "127.0.0.1"
PASSWORD = "bench-http-pw-1"
CONFIRM_FIELDS = {"service", "target", "quantity", "idempotency_key", "shown_amount"}
PAGES = ("static file", "login page GET", "portal dashboard", "order placed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def server_env(static_root: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.http_settings",
        "BENCH_STATIC_ROOT": static_root,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_SECURE_SSL_REDIRECT": "False",
        "AXES_FAILURE_LIMIT": "1000",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_LOGS_URL", None)
    return env


def setup(clients: int) -> dict:
    """Migrate, collect the static files; ``bench/orders_place.py``'s customers (one per
    client, funded, here with a password to log in with) and service."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.templatetags.static import static

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from bench.orders_place import bench_customers, bench_service

    usernames = []
    for customer in bench_customers(clients):
        customer.user.set_password(PASSWORD)
        customer.user.save(update_fields=["password"])
        usernames.append(customer.user.username)
    seed = {"service": str(bench_service().pk), "static": static("portal/login.js")}
    connections.close_all()
    return {**seed, "usernames": usernames}


def start_gunicorn(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    log = tempfile.TemporaryFile()  # noqa: SIM115 - read on failure, closed with the process
    server = subprocess.Popen(  # noqa: S603 - our own command
        [gunicorn, "config.wsgi", "--bind", f"{HOST}:{port}", "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return server
        except OSError:
            if server.poll() is not None:
                log.seek(0)
                raise SystemExit(log.read().decode()[-3000:]) from None
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def client(index, a, ready, start_at):
    """One client process: log in (untimed), then request its page until the deadline."""
    common = a["common"]
    stats: Counter = Counter()
    browser = Browser(stats, [], threading.Lock(), ports=(a["port"],))
    page, seed = a["page"], a["seed"]
    if page in ("portal dashboard", "order placed"):
        login = {"identifier": seed["usernames"][index], "password": PASSWORD}
        browser.login("/portal/login/", login)

    def once() -> bool:
        if page == "static file":
            return browser.request("GET", seed["static"])[0] == 200
        if page == "login page GET":
            return browser.request("GET", "/portal/login/")[0] == 200
        if page == "portal dashboard":
            return browser.request("GET", "/portal/")[0] == 200
        form = {
            "service": seed["service"],
            "target": f"https://bench.example.cn/v/{index}",
            "quantity": "100",
            "idempotency_key": str(uuid.uuid4()),
        }
        status, _, text = browser.request("POST", "/portal/orders/new/", form)
        if status != 200 or 'name="shown_amount"' not in text:
            return False
        confirm = {k: v for k, v in HIDDEN.findall(text) if k in CONFIRM_FIELDS}
        status, location, _ = browser.request("POST", "/portal/orders/confirm/", confirm)
        return status == 302 and "/portal/orders/" in location

    if not once():  # warm up, and fail early if the page does not answer as expected
        raise RuntimeError(f"{page}: unexpected answer ({dict(stats)})")
    ready.release()
    started = common.wait_start(start_at)
    deadline = started + a["seconds"]
    done, failed, latencies = 0, 0, []
    while (now := time.monotonic()) < deadline:
        ok = once()
        latencies.append(time.monotonic() - now)
        done += ok
        failed += not ok
    return {"done": done, "failed": failed, "end": time.monotonic(), "lat": latencies}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="per page")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args()
    ensure_database("mysql://root@127.0.0.1:3306/op_bench")
    sys.path.insert(0, str(limits_dir()))
    import _common as common  # the limit scripts' process runner: forked, one start clock

    with tempfile.TemporaryDirectory(prefix="bench-static-") as static_root:
        env = server_env(static_root)
        os.environ.update(env)
        seed = setup(args.clients)
        port = free_port()
        server = start_gunicorn(env, port, args.workers)
        pages = {}
        try:
            print(
                f"gunicorn {args.workers} sync workers on {HOST}:{port} (production settings), "
                f"{args.clients} client processes, {args.seconds:g} s per page; {load()}"
            )
            print(f"{'page':20} {'rate/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'failed':>7}")
            for page in PAGES:
                work = {"common": common, "port": port, "page": page, "seed": seed}
                started, res = common.run_workers(
                    client, args.clients, {**work, "seconds": args.seconds}
                )
                done = sum(r["done"] for r in res)
                failed = sum(r["failed"] for r in res)
                elapsed = max(r["end"] for r in res) - started
                lat = sorted(x for r in res for x in r["lat"])
                pages[page] = {
                    "rate": done / elapsed,
                    "p50_ms": common.pct(lat, 50) * 1e3,
                    "p99_ms": common.pct(lat, 99) * 1e3,
                    "failed": failed,
                }
                p = pages[page]
                print(
                    f"{page:20} {p['rate']:>8.1f} {p['p50_ms']:>8.1f} {p['p99_ms']:>8.1f} "
                    f"{failed:>7}",
                    flush=True,
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
    placed = pages["order placed"]["rate"] / pages["login page GET"]["rate"]
    login = pages["login page GET"]["rate"] / pages["static file"]["rate"]
    print(f"order placed ÷ login page GET: {placed:.2f} (target ≥ 0.5)")
    print(f"login page GET ÷ static file: {login:.2f} (target ≥ 0.5); {load()}")
    print("RESULT " + json.dumps({"pages": pages, "load": os.getloadavg()}))
    return 1 if any(p["failed"] for p in pages.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
