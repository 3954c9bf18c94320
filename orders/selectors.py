"""Reads on orders and agents that pages share: scoping, the index-friendly search, the ledger."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connections
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from customers.models import Customer
from customers.phone import mobile_search_prefix
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


def order_sees_all(user: AbstractBaseUser) -> bool:
    """Whether the staff user sees every customer's orders (not only the customers they manage).

    Administrators, finance and support hold ``customers.view_customer`` model-wide; account
    managers hold it only as object permissions on their own customers.
    """
    return user.is_superuser or user.has_perm("customers.view_customer")


def order_visible_to(user: AbstractBaseUser) -> QuerySet[Order]:
    """The orders a staff user may see, with the customer, user and service prefetched.

    Prefetched, not joined: with joins in ``ORDER BY created_at DESC LIMIT 50`` MariaDB starts
    from the small table and sorts the whole orders table (seconds at a million rows); the
    orders query alone walks the created-at index and stops after one page.
    """
    orders = Order.objects.prefetch_related(
        Prefetch("customer", queryset=Customer.objects.select_related("user")), "service"
    )
    if order_sees_all(user):
        return orders
    managed = Customer.objects.filter(account_manager=user).values("pk")
    return orders.filter(customer__in=managed)


def customers_served_by(user: AbstractBaseUser) -> QuerySet[Customer]:
    """The customers a staff user may place orders for: the same rule as ``order_visible_to``."""
    customers = Customer.objects.select_related("user", "level")
    if order_sees_all(user):
        return customers
    return customers.filter(account_manager=user)


def _prefix_lookup(field: str, queryset: QuerySet) -> str:
    """A prefix lookup that the database answers from an index.

    On MySQL/MariaDB ``startswith`` is ``LIKE BINARY``, which cannot use an index on a
    case-insensitive column; ``istartswith`` is a plain ``LIKE 'x%'``, a range on it.
    """
    vendor = connections[queryset.db].vendor
    return f"{field}__{'istartswith' if vendor == 'mysql' else 'startswith'}"


def _prefix_filter(queryset: QuerySet, field: str, value: str) -> QuerySet:
    return queryset.filter(**{_prefix_lookup(field, queryset): value})


def _by_customers(orders: QuerySet[Order], customers: QuerySet[Customer]) -> QuerySet[Order]:
    ids = list(customers.order_by().values_list("pk", flat=True)[: CUSTOMER_MATCH_CAP + 1])
    if len(ids) > CUSTOMER_MATCH_CAP:
        return orders.filter(customer__in=customers.order_by().values("pk"))
    return orders.filter(customer_id__in=ids)


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

    An order number or its beginning; a customer's mobile or its beginning (``138…``,
    ``+86138…``); a target URL or its beginning (``http…``); otherwise a customer's username,
    exact or by its beginning, or when no username matches, a display name by its beginning,
    or when no customer matches, a target by its beginning (a pattern service's account
    name). Never ``LIKE '%…%'`` across joins.
    """
    term = term.strip()
    if not term:
        return orders
    kind = search_kind(term)
    if kind == "target":
        return _prefix_filter(orders, "target", term)
    if kind == "number":
        return _prefix_filter(orders, "number", term.replace(" ", "").replace("-", ""))
    customers = Customer.objects.using(orders.db)
    if kind == "mobile":
        prefix = mobile_search_prefix(term)
        return _by_customers(orders, _prefix_filter(customers, "mobile", prefix))
    # Two lookups, each on its own index, rather than one OR that can use neither. Usernames
    # are ASCII: a term with other characters (张三) can only be a display name.
    if term.isascii():
        by_username = _prefix_filter(customers, "user__username", term)
        if by_username.exists():
            return _by_customers(orders, by_username)
    by_name = _prefix_filter(customers, "name", term)
    if by_name.exists():
        return _by_customers(orders, by_name)
    # A pattern service's target (an account name, not a URL), exact or by its beginning.
    return _prefix_filter(orders, "target", term)


def order_entries(order: Order) -> QuerySet[Entry]:
    """The ledger entries that name this order (its debit and any refund), oldest first."""
    return (
        Entry.objects.filter(order_number=order.number)
        .select_related("created_by")
        .order_by("created_at", "id")
    )
