"""The money hammer over a small cluster: 2 web nodes, 4 agents, primary + replica, Redis.

    .venv/bin/python deploy/local/hammer.py [--seconds 60]

What it runs, all on 127.0.0.1 and all stopped again by pid when it ends:

- the MariaDB primary + replica of ``deploy/local/cluster.sh`` (started if not running), on a
  database of its own (``op_hammer``, recreated each run);
- a private ``redis-server`` on port 6390 (never the shared 6379), data in var/hammer/;
- 2 gunicorn nodes (production settings) on ports 8101 and 8102, 2 workers each;
- 4 agents, 2 "hosts" x 2 (``hostA-1``, ``hostA-2``, ``hostB-1``, ``hostB-2``);
- customers placing and cancelling orders through the portal and staff recharging and deducting
  through the admin, every request on the other node than the last one.

During the run one agent is SIGKILLed and restarted, the replica's replication is stopped for
10 s and resumed, and Redis is restarted. Afterwards every order must be in a final state,
reached exactly once (one final event, one debit, at most one refund), ``wallet_audit --chain``
must be clean and no request may have answered 500. Exit status 0 only then; the numbers are
printed as JSON (and written to var/hammer/result.json).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var" / "hammer"
CLUSTER = ROOT / "deploy" / "local" / "cluster.sh"
PYTHON = sys.executable
HOST = "127.0.0.1"
NODE_PORTS = (8101, 8102)
REDIS_PORT = 6390
DATABASE = "op_hammer"
AGENT_NAMES = ("hostA-1", "hostA-2", "hostB-1", "hostB-2")
CUSTOMERS = 6
STAFF_PASSWORD = "hammer-staff-pw-1"
CUSTOMER_PASSWORD = "hammer-customer-pw-1"
REQUEST_TIMEOUT = 30


def cluster_env() -> dict[str, str]:
    out = subprocess.run(  # noqa: S603 - our own script
        [str(CLUSTER), "up"], check=True, capture_output=True, text=True, timeout=600
    ).stdout
    urls = dict(line.split("=", 1) for line in out.split() if "=" in line)
    for key in ("DATABASE_URL", "DATABASE_REPLICA_URL", "DATABASE_REPLICA_ADMIN_URL"):
        urls[key] = urls[key].rsplit("/", 1)[0] + f"/{DATABASE}"
    return urls


def node_env(urls: dict[str, str]) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_SECURE_SSL_REDIRECT": "False",
        "DATABASE_URL": urls["DATABASE_URL"],
        "DATABASE_REPLICA_URL": urls["DATABASE_REPLICA_URL"],
        "REDIS_URL": f"redis://{HOST}:{REDIS_PORT}/0",
        "AXES_FAILURE_LIMIT": "1000",
        # Short leases and heartbeats so the SIGKILLed agent's orders come back within the run.
        "AGENT_LEASE_SECONDS": "8",
        "AGENT_HEARTBEAT_INTERVAL": "2",
        "AGENT_HEARTBEAT_TIMEOUT": "6",
        "AGENT_POLL_INTERVAL": "1",
        "AGENT_RETRY_DELAY": "1",
        "AGENT_SHUTDOWN_GRACE": "10",
        # Slow enough that 4 agents x 1 fall behind the customers, so cancels find orders
        # still pending.
        "SIMULATED_DURATION": "1.5",
        "SIMULATED_PARTIAL_RATE": "0.1",
        "SIMULATED_FAILURE_RATE": "0.1",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_LOGS_URL", None)
    return env


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------


class Procs:
    """Every process this script starts, by name, so it stops exactly those."""

    def __init__(self):
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(VAR / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(  # noqa: S603 - our own commands
            args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name] = proc
        return proc

    def signal(self, name: str, sig: int) -> None:
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(sig)

    def stop(self, name: str, timeout: float = 30) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.procs)[::-1]:
            self.stop(name)


def wait_until(what: str, check, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001, S110 - not up yet
            pass
        time.sleep(0.5)
    raise SystemExit(f"hammer: {what} did not come up in {timeout:.0f} s")


def start_redis(procs: Procs) -> None:
    procs.start(
        "redis",
        [
            "redis-server",
            "--bind",
            HOST,
            "--port",
            str(REDIS_PORT),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(VAR),
        ],
        dict(os.environ),
    )
    wait_until("redis", lambda: _redis_ping())


def _redis_ping() -> bool:
    import redis

    return redis.Redis(host=HOST, port=REDIS_PORT, socket_connect_timeout=1).ping()


def manage(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    result = subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise SystemExit(f"hammer: manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def replica_admin(statement: str, urls: dict[str, str]) -> None:
    import MySQLdb

    port = int(urls["DATABASE_REPLICA_ADMIN_URL"].rsplit(":", 1)[1].split("/")[0])
    conn = MySQLdb.connect(host=HOST, port=port, user="root", passwd="", autocommit=True)
    try:
        conn.cursor().execute(statement)
    finally:
        conn.close()


def recreate_database(urls: dict[str, str]) -> None:
    import MySQLdb

    port = int(urls["DATABASE_URL"].rsplit(":", 1)[1].split("/")[0])
    conn = MySQLdb.connect(host=HOST, port=port, user="root", passwd="", autocommit=True)
    try:
        cursor = conn.cursor()
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        cursor.execute(
            f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# Inside Django: seeding and the final checks (run as `hammer.py seed|check` by manage.py env)
# ---------------------------------------------------------------------------------------------


def django_seed() -> dict:
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from customers.models import Level
    from customers.services import customer_create
    from orders.models import PriceTier, Service
    from wallet.services import wallet_recharge

    get_user_model().objects.create_superuser("hammer-staff", "staff@example.com", STAFF_PASSWORD)
    level = Level.objects.create(name="hammer", discount_percent=100)
    service = Service.objects.create(
        name="hammer-service",
        unit_name="次",
        min_quantity=1,
        max_quantity=100_000,
        target_kind=Service.TargetKind.URL,
        backend="simulated",
        is_active=True,
    )
    PriceTier.objects.create(service=service, quantity=1, price=Decimal("0.10"))
    customers = []
    for n in range(CUSTOMERS):
        customer = customer_create(
            username=f"hammer{n}",
            name=f"压测客户{n}",
            mobile=f"1380013{n:04d}",
            level=level,
            account_manager=None,
            password=CUSTOMER_PASSWORD,
        )
        wallet_recharge(
            customer_id=customer.pk,
            amount=Decimal("500.00"),
            created_by=None,
            idempotency_key=f"hammer-seed-{customer.pk}",
            memo="hammer",
        )
        customers.append(customer.pk)
    return {"service": service.pk, "customers": customers}


def django_check() -> dict:
    from django.db.models import Count, Q, Sum

    from orders.models import Order, OrderEvent
    from wallet.models import Entry

    terminal = list(Order.TERMINAL)
    orders = Order.objects.using("default")
    by_status = dict(orders.values_list("status").annotate(n=Count("id")))
    not_final = list(orders.exclude(status__in=terminal).values_list("number", flat=True)[:20])
    events = dict(
        OrderEvent.objects.using("default")
        .filter(to_status__in=terminal)
        .values_list("order_id")
        .annotate(n=Count("id"))
    )
    entries = {
        row["order_number"]: row
        for row in Entry.objects.using("default")
        .exclude(order_number="")
        .values("order_number")
        .annotate(
            debits=Count("id", filter=Q(kind=Entry.Kind.ORDER_DEBIT)),
            credits=Count("id", filter=Q(kind__in=[Entry.Kind.CANCEL_REFUND, Entry.Kind.REFUND])),
            credited=Sum(
                "amount", filter=Q(kind__in=[Entry.Kind.CANCEL_REFUND, Entry.Kind.REFUND])
            ),
        )
    }
    problems = []
    for order in orders.only("id", "number", "status", "amount"):
        row = entries.get(order.number, {"debits": 0, "credits": 0, "credited": None})
        final_events = events.get(order.id, 0)
        if order.status in terminal and final_events != 1:
            problems.append(f"{order.number}: {final_events} final events")
        if row["debits"] != 1:
            problems.append(f"{order.number}: {row['debits']} debits")
        if row["credits"] > 1:
            problems.append(f"{order.number}: {row['credits']} refunds")
        credited = row["credited"] or 0
        if credited > order.amount:
            problems.append(f"{order.number}: refunded {credited} of {order.amount}")
        if order.status == Order.Status.COMPLETED and credited:
            problems.append(f"{order.number}: completed but refunded {credited}")
        if order.status == Order.Status.CANCELLED and credited != order.amount:
            problems.append(f"{order.number}: cancelled, refunded {credited} of {order.amount}")
    return {
        "orders": sum(by_status.values()),
        "by_status": by_status,
        "not_final": not_final,
        "problems": problems[:50],
        "entries": Entry.objects.using("default").count(),
    }


def run_in_django(command: str, env: dict[str, str]) -> dict:
    out = subprocess.run(  # noqa: S603
        [PYTHON, __file__, command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if out.returncode != 0:
        raise SystemExit(f"hammer: {command} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# HTTP: a tiny browser (cookies by hand: production marks them Secure, this is plain HTTP)
# ---------------------------------------------------------------------------------------------


class Browser:
    def __init__(
        self, stats: Counter, errors: list, lock: threading.Lock, ports: tuple = NODE_PORTS
    ):
        self.cookies: dict[str, str] = {}
        self.stats, self.errors, self.lock = stats, errors, lock
        self.ports = ports
        self.turn = random.randrange(len(ports))

    def request(self, method: str, path: str, data: dict | None = None):
        self.turn = (self.turn + 1) % len(self.ports)  # every request on the other node
        port = self.ports[self.turn]
        headers = {"Host": f"{HOST}:{port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            data = {**data, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://{HOST}:{port}"
            headers["Referer"] = f"http://{HOST}:{port}{path}"
        conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except OSError as exc:
            with self.lock:
                self.stats["connection_error"] += 1
                self.errors.append(f"{method} {path} on :{port}: {exc!r}")
            return 0, "", ""
        finally:
            conn.close()
        for header in response.msg.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        with self.lock:
            self.stats[response.status] += 1
            if response.status >= 500:
                self.errors.append(f"{method} {path} on :{port} -> {response.status}")
        return response.status, response.getheader("Location") or "", text

    def login(self, path: str, data: dict) -> None:
        self.request("GET", path)
        status, _location, _ = self.request("POST", path, data)
        if status != 302:
            raise RuntimeError(f"login at {path} answered {status}")


HIDDEN = re.compile(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', re.I)


def customer_loop(index: int, seed: dict, deadline: float, shared: dict) -> None:
    rng = random.Random(index)
    browser = Browser(shared["stats"], shared["errors"], shared["lock"])
    browser.login("/portal/login/", {"identifier": f"hammer{index}", "password": CUSTOMER_PASSWORD})
    placed: list[str] = []
    while time.monotonic() < deadline:
        if placed and rng.random() < 0.2:
            _cancel(browser, placed.pop(rng.randrange(len(placed))), shared)
            continue
        browser.request("GET", "/portal/orders/new/")
        form = {
            "service": seed["service"],
            "target": f"https://example.com/{uuid.uuid4().hex[:8]}",
            "quantity": str(rng.randint(1, 50)),
            "idempotency_key": str(uuid.uuid4()),
        }
        status, _, page = browser.request("POST", "/portal/orders/new/", form)
        if status != 200 or 'name="shown_amount"' not in page:
            continue
        confirm = {
            name: value
            for name, value in HIDDEN.findall(page)
            if name in {"service", "target", "quantity", "idempotency_key", "shown_amount"}
        }
        status, location, _ = browser.request("POST", "/portal/orders/confirm/", confirm)
        match = re.search(r"/portal/orders/([^/]+)/$", location)
        if status == 302 and match:
            shared["counts"]["placed"] += 1
            if rng.random() < 0.25:
                # At once, while it most likely still waits for a free agent.
                _cancel(browser, match.group(1), shared)
            else:
                placed.append(match.group(1))
        browser.request("GET", "/portal/orders/")


def _cancel(browser: Browser, number: str, shared: dict) -> None:
    """Cancel through the portal; refused (already running or final) is a normal outcome."""
    browser.request("POST", f"/portal/orders/{number}/cancel/", {})
    shared["counts"]["cancel_attempts"] += 1


def staff_loop(index: int, seed: dict, deadline: float, shared: dict) -> None:
    rng = random.Random(1000 + index)
    browser = Browser(shared["stats"], shared["errors"], shared["lock"])
    browser.login(
        "/admin/login/",
        {"username": "hammer-staff", "password": STAFF_PASSWORD, "next": "/admin/"},
    )
    while time.monotonic() < deadline:
        customer = rng.choice(seed["customers"])
        operation = "recharge" if rng.random() < 0.6 else "deduct"
        path = f"/admin/customers/customer/{customer}/{operation}/"
        browser.request("GET", path)
        amount = f"{rng.randint(1, 3000) / 100:.2f}"
        data = {"amount": amount, "memo": "hammer", "request_key": uuid.uuid4().hex}
        if operation == "recharge":  # staff name how the money came (a reference is optional)
            data["payment_method"] = "bank_transfer"
        status, _, _ = browser.request("POST", path, data)
        if status == 302:
            shared["counts"][operation] += 1


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


def chaos(procs: Procs, env: dict, urls: dict, seconds: float, log: list) -> None:
    start = time.monotonic()

    def at(fraction: float) -> None:
        time.sleep(max(0.0, start + seconds * fraction - time.monotonic()))

    at(0.15)
    procs.signal("agent-hostA-1", signal.SIGKILL)
    log.append(f"{time.monotonic() - start:.1f}s SIGKILL agent hostA-1")
    time.sleep(2)
    start_agent(procs, env, "hostA-1")
    log.append(f"{time.monotonic() - start:.1f}s restarted agent hostA-1")

    at(0.3)
    replica_admin("STOP SLAVE", urls)
    log.append(f"{time.monotonic() - start:.1f}s replica: STOP SLAVE")
    time.sleep(10)
    replica_admin("START SLAVE", urls)
    log.append(f"{time.monotonic() - start:.1f}s replica: START SLAVE")

    at(0.8)
    procs.stop("redis")
    log.append(f"{time.monotonic() - start:.1f}s redis stopped")
    time.sleep(1)
    start_redis(procs)
    log.append(f"{time.monotonic() - start:.1f}s redis restarted")


def start_agent(procs: Procs, env: dict, name: str) -> None:
    procs.start(
        f"agent-{name}",
        [PYTHON, "manage.py", "run_agent", "--name", name, "--concurrency", "1", "-v", "0"],
        env,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    if not 5 <= args.seconds <= 3600:
        parser.error("--seconds must be between 5 and 3600")
    VAR.mkdir(parents=True, exist_ok=True)

    urls = cluster_env()
    env = node_env(urls)
    procs = Procs()
    try:
        recreate_database(urls)
        start_redis(procs)
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        seed = run_in_django("seed", env)
        for n, port in enumerate(NODE_PORTS, start=1):
            procs.start(
                f"node{n}",
                [
                    str(Path(PYTHON).parent / "gunicorn"),
                    "config.wsgi",
                    "--bind",
                    f"{HOST}:{port}",
                    "--workers",
                    "2",
                    "--timeout",
                    "60",
                ],
                env,
            )
        for port in NODE_PORTS:
            wait_until(f"node :{port}", lambda port=port: _healthz(port) in (200, 503))
        for name in AGENT_NAMES:
            start_agent(procs, env, name)

        shared = {"stats": Counter(), "errors": [], "lock": threading.Lock(), "counts": Counter()}
        deadline = time.monotonic() + args.seconds
        chaos_log: list[str] = []
        threads = [
            threading.Thread(target=customer_loop, args=(i, seed, deadline, shared))
            for i in range(4)
        ] + [
            threading.Thread(target=staff_loop, args=(i, seed, deadline, shared)) for i in range(2)
        ]
        threads.append(
            threading.Thread(target=chaos, args=(procs, env, urls, args.seconds, chaos_log))
        )
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + 120)
        hung = [t.name for t in threads if t.is_alive()]

        # Let the agents finish what was placed (the killed agent's lease expires first).
        drain_deadline = time.monotonic() + 180
        check = run_in_django("check", env)
        while check["not_final"] and time.monotonic() < drain_deadline:
            time.sleep(2)
            check = run_in_django("check", env)
        audit = subprocess.run(  # noqa: S603
            [PYTHON, "manage.py", "wallet_audit", "--chain"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        statuses = {str(k): v for k, v in sorted(shared["stats"].items(), key=str)}
        result = {
            "seconds": args.seconds,
            "requests_by_status": statuses,
            "server_errors": [e for e in shared["errors"] if "-> 5" in e][:20],
            "connection_errors": shared["stats"]["connection_error"],
            "actions": dict(shared["counts"]),
            "chaos": chaos_log,
            "orders": check,
            "wallet_audit_exit": audit.returncode,
            "wallet_audit": (audit.stdout + audit.stderr).strip()[-500:],
            "hung_threads": hung,
        }
        ok = (
            not result["server_errors"]
            and not hung
            and not check["not_final"]
            and not check["problems"]
            and audit.returncode == 0
            and check["orders"] > 0
        )
        result["ok"] = ok
        text = json.dumps(result, ensure_ascii=False, indent=2, default=str)
        (VAR / "result.json").write_text(text)
        print(text)
        return 0 if ok else 1
    finally:
        procs.stop_all()


def _healthz(port: int) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", "/healthz", headers={"Host": f"{HOST}:{port}"})
        return conn.getresponse().status
    finally:
        conn.close()


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] in ("seed", "check"):
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        print(json.dumps(django_seed() if sys.argv[1] == "seed" else django_check(), default=str))
        sys.exit(0)
    sys.exit(main())
