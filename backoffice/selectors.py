"""The admin dashboard's figures, each a small function over the rows a staff user may see.

Every figure is computed from the orders table or the ledger as it is now (no copies, no
counters kept elsewhere), with the same scoping as the admin list it links to: orders through
``orders.selectors.order_visible_to``, customers through ``customers.selectors.customer_scope``,
and ledger entries through the accounts of those customers (as ``EntryAdmin.get_queryset``).

Days are local days (``TIME_ZONE``): each day-by-day figure is one indexed range query grouped
by a ``CASE`` over the local midnights, so it is the same on SQLite, MariaDB and PostgreSQL
without time-zone tables in the database.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, Count, IntegerField, QuerySet, Sum, Value, When
from django.utils import timezone

from customers.models import Customer
from customers.selectors import customer_scope, customer_sees_all
from orders.models import Order
from orders.selectors import agents_alive, customers_served_by, order_visible_to
from wallet.models import Account, Entry

Status = Order.Status
Kind = Entry.Kind

CHART_DAYS = 30
FINAL_STATUSES = (Status.COMPLETED, Status.PARTIAL, Status.FAILED, Status.CANCELLED)
# The failure rate's denominator: orders the agents finished (a cancel is not an attempt).
DELIVERY_STATUSES = (Status.COMPLETED, Status.PARTIAL, Status.FAILED)
REFUND_KINDS = (Kind.CANCEL_REFUND, Kind.REFUND)
# Net sales = order debits minus the refunds of orders (cancel and failure/partial refunds).
SALES_KINDS = (Kind.ORDER_DEBIT, *REFUND_KINDS)
ZERO = Decimal("0.00")


# -- the days added up -----------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A run of whole local days, ``first`` to ``last`` inclusive, i.e. ``[start, end)``."""

    key: str
    first: date
    last: date
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Window:
    """The local days the dashboard adds up: this month and the chart's days, up to today."""

    now: datetime
    days: tuple[date, ...]  # oldest first, today last
    bounds: tuple[datetime, ...]  # local midnights: day i is [bounds[i], bounds[i + 1])

    @property
    def start(self) -> datetime:
        return self.bounds[0]

    @property
    def end(self) -> datetime:
        return self.bounds[-1]

    def period(self, key: str) -> Period:
        """ "today", "yesterday" or "month" (the 1st of this month to today)."""
        today = self.days[-1]
        first, last = {
            "today": (today, today),
            "yesterday": (today - timedelta(days=1), today - timedelta(days=1)),
            "month": (today.replace(day=1), today),
        }[key]
        i, j = self.days.index(first), self.days.index(last)
        return Period(key, first, last, self.bounds[i], self.bounds[j + 1])

    def indexes(self, period: Period) -> range:
        return range(self.days.index(period.first), self.days.index(period.last) + 1)

    @property
    def chart_days(self) -> tuple[date, ...]:
        return self.days[-CHART_DAYS:]


PERIODS = ("today", "yesterday", "month")


def local_midnight(day: date) -> datetime:
    """The first instant of a local day."""
    return timezone.make_aware(datetime.combine(day, time.min))


def dashboard_window(now: datetime | None = None) -> Window:
    """This month and the last ``CHART_DAYS`` days (whichever reaches further back), to today."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    first = min(today.replace(day=1), today - timedelta(days=CHART_DAYS - 1))
    days = tuple(first + timedelta(days=i) for i in range((today - first).days + 1))
    bounds = tuple(local_midnight(d) for d in (*days, today + timedelta(days=1)))
    return Window(now=now, days=days, bounds=bounds)


def _day_of(field: str, window: Window, days: range) -> Case:
    """The index of the window's day a timestamp falls on, as a SQL ``CASE``."""
    whens = [When(**{f"{field}__lt": window.bounds[i + 1]}, then=Value(i)) for i in days]
    return Case(*whens, default=Value(-1), output_field=IntegerField())


def _by_day(
    queryset: QuerySet, field: str, window: Window, days: range | None, group=(), **aggregates
):
    """Rows of ``{"day": i, *group, *aggregates}`` for ``field`` on the window's ``days``."""
    days = days if days is not None else range(len(window.days))
    if not days:
        return []
    return (
        queryset.order_by()
        .filter(
            **{f"{field}__gte": window.bounds[days.start], f"{field}__lt": window.bounds[days.stop]}
        )
        .annotate(day=_day_of(field, window, days))
        .values("day", *group)
        .annotate(**aggregates)
    )


# -- what a user may see ---------------------------------------------------------------------


def dashboard_orders(user: AbstractBaseUser) -> QuerySet[Order]:
    """The orders the user's order list shows."""
    return order_visible_to(user).prefetch_related(None).order_by()


def dashboard_customers(user: AbstractBaseUser) -> QuerySet[Customer]:
    """The customers the user's customer list shows."""
    return customer_scope(Customer.objects.all(), user)


def dashboard_accounts(user: AbstractBaseUser) -> QuerySet[Account]:
    """The accounts of the customers the user may see."""
    if customer_sees_all(user):
        return Account.objects.all()
    return Account.objects.filter(customer__in=dashboard_customers(user).values("pk"))


def dashboard_entries(user: AbstractBaseUser) -> QuerySet[Entry]:
    """The ledger entries the user's ledger list shows (those of the accounts above)."""
    if customer_sees_all(user):
        return Entry.objects.all()
    return Entry.objects.filter(account_id__in=dashboard_accounts(user).values("pk"))


# -- day by day ------------------------------------------------------------------------------


def orders_placed_by_day(
    user: AbstractBaseUser, window: Window, days: range | None = None
) -> list[int]:
    """Orders created on each day of the window (only ``days``, if given; others are 0)."""
    counts = [0] * len(window.days)
    for row in _by_day(dashboard_orders(user), "created_at", window, days, n=Count("pk")):
        counts[row["day"]] = row["n"]
    return counts


def orders_finished_by_day(
    user: AbstractBaseUser, window: Window, days: range | None = None
) -> dict[str, list[int]]:
    """Orders that reached each final status on each day of the window (by ``finished_at``)."""
    counts = {status: [0] * len(window.days) for status in FINAL_STATUSES}
    orders = dashboard_orders(user)
    rows = _by_day(orders, "finished_at", window, days, ("status",), n=Count("pk"))
    for row in rows:
        if row["status"] in counts:
            counts[row["status"]][row["day"]] = row["n"]
    return counts


def ledger_by_day(
    user: AbstractBaseUser, window: Window, days: range | None = None
) -> dict[str, list[Decimal]]:
    """The signed sum of each ledger kind on each day of the window."""
    sums = {kind: [ZERO] * len(window.days) for kind in Kind.values}
    entries = dashboard_entries(user)
    rows = _by_day(entries, "created_at", window, days, ("kind",), total=Sum("amount"))
    for row in rows:
        sums[row["kind"]][row["day"]] = row["total"] or ZERO
    return sums


def money_by_day(ledger: dict[str, list[Decimal]]) -> dict[str, list[Decimal]]:
    """Per day: order debits, refunds, net sales, recharges and deductions, as positive sums."""
    days = range(len(ledger[Kind.ORDER_DEBIT]))
    return {
        "debits": [-ledger[Kind.ORDER_DEBIT][i] for i in days],
        "refunds": [sum((ledger[k][i] for k in REFUND_KINDS), ZERO) for i in days],
        "net_sales": [-sum((ledger[k][i] for k in SALES_KINDS), ZERO) for i in days],
        "recharges": [ledger[Kind.RECHARGE][i] for i in days],
        "deductions": [-ledger[Kind.DEDUCT][i] for i in days],
    }


def period_total(series: list, window: Window, period: Period):
    """The sum of a day-by-day series over a period."""
    return sum((series[i] for i in window.indexes(period)), type(series[0])(0))


# -- right now -------------------------------------------------------------------------------


def balance_held(user: AbstractBaseUser) -> Decimal:
    """The prepaid money the business owes the customers the user may see."""
    total = dashboard_accounts(user).aggregate(total=Sum("balance"))["total"]
    return total if total is not None else ZERO


def order_queue(user: AbstractBaseUser) -> dict:
    """Pending and running orders, and the oldest pending one (or None)."""
    orders = dashboard_orders(user)
    counts = dict(
        orders.filter(status__in=[Status.PENDING, Status.RUNNING])
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return {
        "pending": counts.get(Status.PENDING, 0),
        "running": counts.get(Status.RUNNING, 0),
        "oldest_pending": oldest_pending(user),
    }


# Pending orders read oldest first, per batch, when looking for a scoped user's oldest one.
OLDEST_BATCH, OLDEST_BATCHES = 500, 4


def oldest_pending(user: AbstractBaseUser) -> Order | None:
    """The user's oldest pending order.

    For a scoped user MariaDB drives ``status = pending AND customer IN (their customers)``
    from the customers and sorts every match (seconds for a book of 10,000 customers); walking
    the pending queue oldest first and keeping the first visible order reads a few hundred
    index entries instead. After a few batches without one, the plain query decides.
    """
    orders = dashboard_orders(user).filter(status=Status.PENDING).only("pk", "number", "created_at")
    oldest_first = orders.order_by("created_at", "id")
    if customer_sees_all(user):
        return oldest_first.first()
    queue = Order.objects.filter(status=Status.PENDING).order_by("created_at", "id")
    for batch in range(OLDEST_BATCHES):
        ids = list(
            queue.values_list("pk", flat=True)[batch * OLDEST_BATCH : (batch + 1) * OLDEST_BATCH]
        )
        found = oldest_first.filter(pk__in=ids).first() if ids else None
        if found is not None or len(ids) < OLDEST_BATCH:
            return found
    return oldest_first.first()


def orders_finished_between(
    user: AbstractBaseUser, start: datetime, end: datetime
) -> dict[str, int]:
    """Orders that reached each final status in ``[start, end)``."""
    rows = (
        dashboard_orders(user)
        .filter(finished_at__gte=start, finished_at__lt=end)
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    counts = {status: 0 for status in FINAL_STATUSES}
    counts.update(dict(rows))
    return counts


def failure_rate(finished: dict[str, int]) -> Decimal | None:
    """Failed orders as a percentage of the orders the agents finished, or None if none."""
    attempted = sum(finished[s] for s in DELIVERY_STATUSES)
    if not attempted:
        return None
    return (Decimal(100) * finished[Status.FAILED] / attempted).quantize(Decimal("0.1"))


def agents_alive_count() -> int:
    """Agents with a recent heartbeat (the same rule as the agents page)."""
    return agents_alive().count()


# -- lists -----------------------------------------------------------------------------------


def low_balance_customers(
    user: AbstractBaseUser, threshold: Decimal, limit: int = 10
) -> tuple[int, list[dict]]:
    """How many of the user's customers hold less than ``threshold``, and the lowest few."""
    accounts = dashboard_accounts(user).filter(balance__lt=threshold)
    count = accounts.count()
    rows = (
        accounts.order_by("balance", "customer_id")
        .select_related("customer__user")
        .only("balance", "customer__name", "customer__user__username")[:limit]
    )
    return count, [
        {
            "customer_id": a.customer_id,
            "name": a.customer.name,
            "username": a.customer.user.username,
            "balance": a.balance,
        }
        for a in rows
    ]


def top_spenders(user: AbstractBaseUser, period: Period, limit: int = 10) -> list[dict]:
    """The customers with the highest net sales (debits minus refunds) in the period."""
    rows = list(
        dashboard_entries(user)
        .order_by()
        .filter(kind__in=SALES_KINDS, created_at__gte=period.start, created_at__lt=period.end)
        .values("account_id")
        .annotate(total=Sum("amount"))
        .filter(total__lt=0)
        .order_by("total", "account_id")[:limit]
    )
    accounts = Account.objects.select_related("customer__user").in_bulk(
        [r["account_id"] for r in rows]
    )
    return [
        {
            "customer_id": accounts[r["account_id"]].customer_id,
            "name": accounts[r["account_id"]].customer.name,
            "username": accounts[r["account_id"]].customer.user.username,
            "spend": -r["total"],
        }
        for r in rows
    ]


def scope_fingerprint(user: AbstractBaseUser) -> str:
    """Changes whenever the set of customers whose rows the user's figures add up changes."""
    if customer_sees_all(user):
        return "all"
    parts = [f"u{user.pk}"]
    for customers in (dashboard_customers(user), customers_served_by(user)):
        agg = customers.order_by().aggregate(n=Count("pk"), s=Sum("pk"))
        parts.append(f"{agg['n']}-{agg['s'] or 0}")
    return ":".join(parts)
