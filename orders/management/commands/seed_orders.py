"""``manage.py seed_orders``: bulk-load customers, orders and their ledger for benchmarks.

Writes, with multi-row INSERTs, ``--customers`` portal users and customers (spread over a few
seeded account managers, with their guardian object permissions), one recharge per customer,
``--orders`` orders in created-at order over the last ``--days`` days, each order's debit and —
for cancelled, failed and partial orders — its refund, and every account's final balance. The
seeded data reconciles: ``manage.py wallet_audit --chain`` passes on it.

For a benchmark database only: it refuses to run twice on the same database.
"""

import random
import time
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer, CustomerUserObjectPermission, Level
from orders.models import Order, PriceTier, Service
from orders.pricing import price
from orders.services import undelivered_refund
from wallet.models import Account, Entry
from wallet.services import debit_key, refund_key

User = get_user_model()
Status = Order.Status

USERNAME = "seedc{:07d}"
USERNAME_PREFIX = "seedc"
MANAGER = "seed_manager{:02d}"
LEVELS = [("压测 100%", 100), ("压测 90%", 90), ("压测 85%", 85)]
SERVICES = [
    ("压测·播放量", "url", [(1000, "8.00"), (10_000, "70.00"), (100_000, "600.00")]),
    ("压测·关注", "pattern", [(100, "5.00"), (1000, "45.00"), (10_000, "400.00")]),
]
QUANTITIES = {0: [1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000], 1: [100, 500, 1000, 5000]}
# (status, weight): most orders finished long ago; some are still waiting or running.
STATUSES = [
    (Status.COMPLETED, 70),
    (Status.PENDING, 10),
    (Status.RUNNING, 3),
    (Status.CANCELLED, 10),
    (Status.FAILED, 4),
    (Status.PARTIAL, 3),
]
UNUSABLE_PASSWORD = "!seeded-no-login"


class Inserter:
    """Multi-row INSERTs of plain tuples in the model's column order, with progress."""

    def __init__(self, command, batch: int):
        self.command = command
        self.batch = batch
        self.ops = connection.ops

    def insert(self, model: type[models.Model], rows, total: int, label: str) -> None:
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({marks})"  # noqa: S608
        converters = [self._converter(f) for f in fields]
        attnames = [f.attname for f in fields]
        defaults = {f.attname: f.get_default() for f in fields}
        started, done, chunk = time.monotonic(), 0, []
        for row in rows:
            values = {**defaults, **row}
            chunk.append(
                tuple(
                    c(values[a]) if c else values[a]
                    for a, c in zip(attnames, converters, strict=True)
                )
            )
            if len(chunk) >= self.batch:
                done = self._flush(sql, chunk, done, total, label, started)
                chunk = []
        if chunk:
            done = self._flush(sql, chunk, done, total, label, started)
        elapsed = time.monotonic() - started
        self.command.stdout.write(f"  {label}: {done} rows in {elapsed:.1f} s")

    def _converter(self, field):
        if isinstance(field, models.DateTimeField):
            return lambda v: None if v is None else self.ops.adapt_datetimefield_value(v)
        return None

    def _flush(self, sql, chunk, done, total, label, started) -> int:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, chunk)
        done += len(chunk)
        if done % (self.batch * 20) < len(chunk) or done == total:
            rate = done / max(time.monotonic() - started, 1e-6)
            self.command.stderr.write(
                f"    {label} {done:>9}/{total} ({100 * done // max(total, 1)}%) {rate:,.0f}/s"
            )
        return done


class Command(BaseCommand):
    help = _("Bulk-load customers, orders and their ledger for benchmarks (reconciles).")

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--orders", type=int, default=1_000_000)
        parser.add_argument("--managers", type=int, default=10)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--batch", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, **options):
        started = time.monotonic()
        n_customers, n_orders = options["customers"], options["orders"]
        if n_customers < 1 or n_orders < 0:
            raise CommandError(_("--customers must be at least 1 and --orders at least 0."))
        if User.objects.filter(username=USERNAME.format(0)).exists():
            raise CommandError(_("This database is already seeded; seed a fresh one."))
        rng = random.Random(options["seed"])
        inserter = Inserter(self, options["batch"])
        fast = connection.vendor == "mysql"
        if fast:  # bulk load: the data is generated consistent, checks cost minutes here
            with connection.cursor() as cursor:
                cursor.execute("SET SESSION unique_checks = 0, foreign_key_checks = 0")
        try:
            now = timezone.now()
            levels, services, managers = self._reference_data(options["managers"])
            customers = self._customers(inserter, rng, n_customers, levels, managers, now)
            self._manager_permissions(inserter, customers)
            plan = self._plan_orders(rng, n_orders, customers, services, now, options["days"])
            self._orders_and_ledger(inserter, plan, customers, now - timedelta(options["days"]))
        finally:
            if fast:
                with connection.cursor() as cursor:
                    cursor.execute("SET SESSION unique_checks = 1, foreign_key_checks = 1")
        self.stdout.write(
            self.style.SUCCESS(
                _("Seeded %(c)d customers and %(o)d orders in %(s).0f s.")
                % {"c": n_customers, "o": n_orders, "s": time.monotonic() - started}
            )
        )

    def _reference_data(self, n_managers: int):
        levels = [
            Level.objects.get_or_create(name=name, defaults={"discount_percent": pct})[0]
            for name, pct in LEVELS
        ]
        services = []
        for name, kind, tiers in SERVICES:
            service, created = Service.objects.get_or_create(
                name=name,
                defaults={
                    "target_kind": kind,
                    "target_pattern": r"[A-Za-z0-9_]{3,30}" if kind == "pattern" else "",
                    "min_quantity": tiers[0][0],
                    "max_quantity": 1_000_000,
                    "backend": "simulated",
                },
            )
            if created:
                for quantity, amount in tiers:
                    PriceTier.objects.create(service=service, quantity=quantity, price=amount)
            services.append(Service.objects.prefetch_related("tiers").get(pk=service.pk))
        group = Group.objects.filter(name="客户经理").first()
        managers = []
        for i in range(n_managers):
            manager, created = User.objects.get_or_create(
                username=MANAGER.format(i), defaults={"is_staff": True}
            )
            if created:
                manager.set_password(UNUSABLE_PASSWORD)
                manager.save()
            if group:
                manager.groups.add(group)
            managers.append(manager.pk)
        return levels, services, managers

    def _customers(self, inserter, rng, count, levels, managers, now) -> dict:
        """Insert users and customers; return {index: (customer_id, level_percent, manager_id)}."""
        joined = now - timedelta(days=400)
        users = (
            {
                "password": UNUSABLE_PASSWORD,
                "username": USERNAME.format(i),
                "date_joined": joined,
                "is_active": True,
            }
            for i in range(count)
        )
        inserter.insert(User, users, count, "users")
        user_ids = dict(
            User.objects.filter(username__startswith=USERNAME_PREFIX).values_list("username", "id")
        )
        chosen = [
            (rng.choice(levels), rng.choice(managers) if managers else None) for _ in range(count)
        ]
        customers = (
            {
                "user_id": user_ids[USERNAME.format(i)],
                "name": f"压测客户{i}",
                "mobile": f"+86139{i:08d}",
                "level_id": chosen[i][0].pk,
                "account_manager_id": chosen[i][1],
                "is_active": True,
                "created_at": joined,
            }
            for i in range(count)
        )
        inserter.insert(Customer, customers, count, "customers")
        ids = dict(
            Customer.objects.filter(user__username__startswith=USERNAME_PREFIX).values_list(
                "user__username", "id"
            )
        )
        return {
            i: (ids[USERNAME.format(i)], chosen[i][0].discount_percent, chosen[i][1])
            for i in range(count)
        }

    def _manager_permissions(self, inserter, customers: dict) -> None:
        content_type = ContentType.objects.get_for_model(Customer)
        perms = list(
            Permission.objects.filter(
                content_type=content_type, codename__in=["view_customer", "change_customer"]
            ).values_list("pk", flat=True)
        )
        rows = (
            {"permission_id": perm, "content_object_id": customer_id, "user_id": manager}
            for customer_id, _pct, manager in customers.values()
            if manager
            for perm in perms
        )
        total = sum(1 for *_x, m in customers.values() if m) * len(perms)
        inserter.insert(CustomerUserObjectPermission, rows, total, "manager permissions")

    def _plan_orders(self, rng, count, customers, services, now, days) -> list[dict]:
        """Every order, oldest first, priced by the real pricing code (quotes cached)."""
        start = now - timedelta(days=days)
        step = timedelta(days=days) / max(count, 1)
        statuses, weights = zip(*STATUSES, strict=True)
        quotes = {}
        plan = []
        n_customers = len(customers)
        for i in range(count):
            index = rng.randrange(n_customers)
            customer_id, percent, _manager = customers[index]
            s = rng.randrange(len(services))
            service = services[s]
            quantity = rng.choice(QUANTITIES[s])
            key = (s, quantity, percent)
            if key not in quotes:
                quotes[key] = price(service=service, quantity=quantity, level_percent=percent)
            quote = quotes[key]
            created = start + step * i
            status = rng.choices(statuses, weights)[0]
            local = timezone.localtime(created)
            plan.append(
                {
                    "index": index,
                    "customer_id": customer_id,
                    "service_id": service.pk,
                    "number": local.strftime("%Y%m%d%H%M%S")
                    + f"{local.microsecond // 1000:03d}{i % 10_000:04d}",
                    "target": (
                        f"https://v.example.cn/video/{rng.randrange(10**9)}"
                        if s == 0
                        else f"user_{rng.randrange(10**7)}"
                    ),
                    "quantity": quantity,
                    "unit_price": quote.unit_price,
                    "list_price": quote.list_price,
                    "level_percent": percent,
                    "amount": quote.amount,
                    "status": status,
                    "created_at": created,
                }
            )
        return plan

    def _orders_and_ledger(self, inserter, plan, customers, first_day) -> None:
        spent = defaultdict(Decimal)
        for order in plan:
            spent[order["index"]] += order["amount"]
        leftover = {i: Decimal(100 + (i * 37) % 900) for i in customers}
        recharge = {i: spent[i] + leftover[i] for i in customers}
        # Accounts carry their final balance; the entries below walk up to it.
        refunds = {}
        for order in plan:
            refunds[order["number"]] = self._finish(order)
        final = dict(recharge)
        for order in plan:
            final[order["index"]] += refunds[order["number"]] - order["amount"]
        accounts = (
            {"customer_id": customers[i][0], "balance": final[i], "updated_at": timezone.now()}
            for i in range(len(customers))
        )
        inserter.insert(Account, accounts, len(customers), "accounts")
        account_ids = dict(
            Account.objects.filter(
                customer__user__username__startswith=USERNAME_PREFIX
            ).values_list("customer_id", "id")
        )
        account_of = {i: account_ids[customers[i][0]] for i in customers}
        entries_total = len(customers) + len(plan) + sum(1 for r in refunds.values() if r)
        inserter.insert(
            Entry,
            self._entries(plan, customers, recharge, refunds, account_of, first_day),
            entries_total,
            "ledger entries",
        )
        inserter.insert(Order, plan, len(plan), "orders")

    def _finish(self, order: dict) -> Decimal:
        """Set the order's fulfilment fields; return what was refunded for it."""
        status, created = order["status"], order["created_at"]
        if status == Status.PENDING:
            return Decimal("0")
        if status != Status.CANCELLED:
            order["started_at"] = created + timedelta(seconds=2)
            order["attempts"] = 1
            order["lease_owner"] = "seed-agent"
        if status == Status.RUNNING:
            order["lease_expires_at"] = created + timedelta(minutes=10)
            return Decimal("0")
        order["finished_at"] = created + timedelta(seconds=1 if status == "cancelled" else 5)
        if status == Status.COMPLETED:
            order["delivered_quantity"] = order["quantity"]
            return Decimal("0")
        if status == Status.PARTIAL:
            delivered = order["quantity"] // 2
            order["delivered_quantity"] = delivered
            stub = Order(amount=order["amount"], quantity=order["quantity"])
            return undelivered_refund(order=stub, delivered=delivered)
        if status == Status.FAILED:
            order["last_error"] = "seeded failure"
        return order["amount"]

    def _entries(self, plan, customers, recharge, refunds, account_of, first_day):
        balance = {}
        for i in customers:
            balance[i] = recharge[i]
            yield {
                "account_id": account_of[i],
                "kind": Entry.Kind.RECHARGE,
                "amount": recharge[i],
                "balance_after": recharge[i],
                "idempotency_key": f"seed-recharge:{i}",
                "request_fingerprint": "seed",
                "memo": "seed",
                "created_at": first_day - timedelta(days=1),
            }
        for order in plan:
            i, number = order["index"], order["number"]
            balance[i] -= order["amount"]
            yield {
                "account_id": account_of[i],
                "kind": Entry.Kind.ORDER_DEBIT,
                "amount": -order["amount"],
                "balance_after": balance[i],
                "order_number": number,
                "idempotency_key": debit_key(number),
                "request_fingerprint": "seed",
                "created_at": order["created_at"],
            }
            refund = refunds[number]
            if refund:
                balance[i] += refund
                cancelled = order["status"] == Status.CANCELLED
                yield {
                    "account_id": account_of[i],
                    "kind": Entry.Kind.CANCEL_REFUND if cancelled else Entry.Kind.REFUND,
                    "amount": refund,
                    "balance_after": balance[i],
                    "order_number": number,
                    "idempotency_key": refund_key(number),
                    "request_fingerprint": "seed",
                    "created_at": order["finished_at"],
                }
