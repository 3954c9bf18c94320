"""The portal's reads, every one scoped to one customer."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from customers.models import Customer
from orders.models import Order, OrderEvent, Service
from wallet.models import Entry
from wallet.selectors import balance_of, entries_of


@dataclass(frozen=True)
class OrderFilters:
    """What the customer filters their orders by; empty values filter nothing."""

    q: str = ""
    status: str = ""
    service: Service | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class EntryFilters:
    """What the customer filters their ledger by; empty values filter nothing."""

    kind: str = ""
    order_number: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _date_range(queryset: QuerySet, field: str, start: date | None, end: date | None):
    if start:
        queryset = queryset.filter(**{f"{field}__gte": _day_start(start)})
    if end:
        # The whole end day, in the site's time zone.
        queryset = queryset.filter(**{f"{field}__lt": _day_start(end) + timedelta(days=1)})
    return queryset


def balance_shown(customer: Customer) -> Decimal:
    """The customer's balance, read from the primary once per request: the page and its
    navigation bar (``nav_balance``) show the same figure for one statement."""
    if getattr(customer, "portal_balance", None) is None:
        customer.portal_balance = balance_of(customer_id=customer.pk)
    return customer.portal_balance


def services_for_order() -> QuerySet[Service]:
    """Services a customer may order now, with their tiers."""
    return Service.objects.filter(is_active=True).prefetch_related("tiers")


def orders_of(*, customer: Customer, filters: OrderFilters | None = None) -> QuerySet[Order]:
    """The customer's orders, newest first, narrowed by ``filters``."""
    # The services in a second query, not a join: with the join MariaDB starts from the (tiny)
    # service table and sorts every one of the customer's orders (450 ms at 100,000 orders,
    # bench/portal_pages.py); alone, the order query walks an index and stops at the page.
    orders = Order.objects.filter(customer=customer).prefetch_related("service")
    f = filters or OrderFilters()
    if f.q:
        orders = orders.filter(Q(number__startswith=f.q) | Q(target__icontains=f.q))
    if f.status:
        orders = orders.filter(status=f.status)
    if f.service is not None:
        orders = orders.filter(service=f.service)
    return _date_range(orders, "created_at", f.date_from, f.date_to)


def order_of(*, customer: Customer, number: str, primary: bool = False) -> Order:
    """One of the customer's orders by number; 404 for anyone else's (or nobody's)."""
    orders = Order.objects.using("default") if primary else Order.objects
    order = orders.filter(customer=customer, number=number).select_related("service").first()
    if order is None:
        raise Http404("No such order")
    return order


def order_events(*, order: Order) -> QuerySet[OrderEvent]:
    """The order's status changes, oldest first."""
    return OrderEvent.objects.filter(order=order).select_related("actor")


def order_counts_by_status(*, customer: Customer) -> dict[str, int]:
    """How many of the customer's orders are in each status (every status present, maybe 0)."""
    rows = (
        Order.objects.filter(customer=customer).order_by().values("status").annotate(n=Count("id"))
    )
    counts = {status: 0 for status in Order.Status.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def ledger_of(*, customer: Customer, filters: EntryFilters | None = None) -> QuerySet[Entry]:
    """The customer's ledger entries, newest first, narrowed by ``filters``."""
    entries = entries_of(customer_id=customer.pk)
    f = filters or EntryFilters()
    if f.kind:
        entries = entries.filter(kind=f.kind)
    if f.order_number:
        entries = entries.filter(order_number=f.order_number)
    return _date_range(entries, "created_at", f.date_from, f.date_to)


def order_entries(*, customer: Customer, order: Order) -> QuerySet[Entry]:
    """The money this order moved on the customer's account, oldest first."""
    return (
        entries_of(customer_id=customer.pk)
        .filter(order_number=order.number)
        .order_by("created_at", "id")
    )
