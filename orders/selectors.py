"""Reads on orders and agents that pages share: scoping, the index-friendly search, the ledger.

Who sees which customer's orders and which customer a term names are asked of
``customers.selectors`` (one rule, one finder for every app)."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connections
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from customers.models import Customer
from customers.selectors import customer_find, customer_related_scope, customer_visible_to
from orders.models import Agent, Order
from wallet.models import Entry

# Order numbers are 21 digits: local date-time to the millisecond + 4 random digits.
ORDER_NUMBER_LENGTH = 21
# A mainland mobile has 11 digits and starts with 1; order numbers start with the year (2…).
MOBILE_LENGTH = 11
# Matching customers are resolved to a list of ids first (an IN list the optimiser turns into
# index ranges); past this many the search falls back to a subquery.
CUSTOMER_MATCH_CAP = 2000
URL_PREFIXES = ("http://", "https://")


def agents_alive() -> QuerySet[Agent]:
    """Agents whose heartbeat is recent and that have not said they stopped."""
    horizon = timezone.now() - timedelta(seconds=settings.AGENT_HEARTBEAT_TIMEOUT)
    return Agent.objects.filter(stopped_at__isnull=True, last_heartbeat_at__gte=horizon)


def order_visible_to(user: AbstractBaseUser) -> QuerySet[Order]:
    """The orders a staff user may see (``customers.selectors``' one rule), with the customer,
    its user and the service prefetched.

    Prefetched, not joined: with joins in ``ORDER BY created_at DESC LIMIT 50`` MariaDB starts
    from the small table and sorts the whole orders table (seconds at a million rows); the
    orders query alone walks the created-at index and stops after one page. Scoping adds
    ``customer_id IN (SELECT id FROM customers WHERE account_manager_id = …)``.
    """
    orders = Order.objects.prefetch_related(
        Prefetch("customer", queryset=Customer.objects.select_related("user")), "service"
    )
    return customer_related_scope(orders, user)


def customers_served_by(user: AbstractBaseUser) -> QuerySet[Customer]:
    """The customers a staff user may place orders for: exactly those they may see."""
    return customer_visible_to(user)


def _prefix_lookup(field: str, queryset: QuerySet) -> str:
    """A prefix lookup that the database answers from an index.

    On MySQL/MariaDB ``startswith`` is ``LIKE BINARY``, which cannot use an index on a
    case-insensitive column; ``istartswith`` is a plain ``LIKE 'x%'``, a range on it.
    """
    vendor = connections[queryset.db].vendor
    return f"{field}__{'istartswith' if vendor == 'mysql' else 'startswith'}"


def _prefix_filter(queryset: QuerySet, field: str, value: str) -> QuerySet:
    return queryset.filter(**{_prefix_lookup(field, queryset): value})


def _customer_ids(customers: QuerySet[Customer]) -> list[int] | None:
    """The ids as a literal list (an IN list the optimiser turns into index ranges), or None
    past ``CUSTOMER_MATCH_CAP`` (then a subquery)."""
    ids = list(customers.order_by().values_list("pk", flat=True)[: CUSTOMER_MATCH_CAP + 1])
    return None if len(ids) > CUSTOMER_MATCH_CAP else ids


def search_kind(term: str) -> str:
    """Which dimension a search term addresses: "target", "mobile", "number" or "customer"."""
    if term.lower().startswith(URL_PREFIXES):
        return "target"
    compact = term.replace(" ", "").replace("-", "")
    if compact.startswith("+") and compact[1:].isdecimal():
        return "mobile"
    if compact.isdecimal() and compact.isascii():
        if compact.startswith("1") and len(compact) <= MOBILE_LENGTH:
            return "mobile"
        return "number"
    return "customer"


def order_search(orders: QuerySet[Order], term: str) -> QuerySet[Order]:
    """Narrow ``orders`` by one search term, choosing the index by the term's shape.

    An order number or its beginning; a target URL or its beginning (``http…``); otherwise
    the customers ``customer_find`` names (a mobile or its beginning — ``138…``, ``+86138…`` —
    an id, a username or a display name or its beginning), or when no customer matches a
    text term, a target by its beginning (a pattern service's account name). Never
    ``LIKE '%…%'`` across joins.
    """
    term = term.strip()
    if not term:
        return orders
    kind = search_kind(term)
    if kind == "target":
        return _prefix_filter(orders, "target", term)
    if kind == "number":
        return _prefix_filter(orders, "number", term.replace(" ", "").replace("-", ""))
    customers = customer_find(term, queryset=Customer.objects.using(orders.db))
    ids = _customer_ids(customers)
    if ids is None:
        return orders.filter(customer__in=customers.order_by().values("pk"))
    if ids or kind == "mobile":
        return orders.filter(customer_id__in=ids)
    # A pattern service's target (an account name, not a URL), exact or by its beginning.
    return _prefix_filter(orders, "target", term)


def order_entries(order: Order) -> QuerySet[Entry]:
    """The ledger entries that name this order (its debit and any refund), oldest first."""
    return (
        Entry.objects.filter(order_number=order.number)
        .select_related("created_by")
        .order_by("created_at", "id")
    )
