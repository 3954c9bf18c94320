"""Reads on customers: which customers a staff user may see, and which one they typed.

Every app asks here (HOUSE_STYLE 13), so the customer list, every list of rows that belong
to a customer, their exports, the admin's autocomplete and the dashboard always agree.

**Who sees which customer.** A staff user sees every customer when they hold
``customers.view_customer`` or ``customers.change_customer`` model-wide (superusers hold
every permission). Anyone else sees exactly the customers whose ``account_manager`` they are.
Nothing else widens or narrows it: a guardian object permission granted by hand, without
the customer's ``account_manager`` pointing at the user, shows that user nothing.

Why the ``account_manager`` column, not guardian's object permissions: it is one column with
its own index (``account_manager, -created_at``), so "my customers" is a range scan giving
customer ids, and "rows of my customers" elsewhere is ``customer_id IN (SELECT id FROM
customers WHERE account_manager_id = …)`` — the same shape at a million rows whichever app
asks. Guardian's answer is a union of a user and a group object-permission subquery, each
joined to the permission table (and, generically, to content types), and it can say
something the customer's page does not show ("account manager: …"). The customer services
keep writing the object permissions (``customers.services``), so ``user.has_perm(perm,
customer)`` still answers the same for a customer's manager; scoping never reads them.
"""

from functools import reduce
from operator import or_

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connections
from django.db.models import Q, QuerySet

from customers.exceptions import InvalidMobile
from customers.models import Customer
from customers.phone import mobile_search_prefix, normalize_mobile

# A typed id is at most this many digits (a bigint); longer digit strings are something else.
ID_MAX_DIGITS = 18
# Each dimension of a search resolves to at most this many ids (an IN list on the primary
# key); past it the dimensions are OR-ed in one query for the database to plan.
FIND_CAP = 1000


# -- who sees which customer ------------------------------------------------------------------


def customer_sees_all(user: AbstractBaseUser) -> bool:
    """Whether the staff user sees every customer (model-wide view or change permission)."""
    return user.has_perm("customers.view_customer") or user.has_perm("customers.change_customer")


def customer_ids_visible_to(user: AbstractBaseUser) -> QuerySet | None:
    """``None`` when the user sees every customer (filter nothing); else a subquery of ids.

    For other apps' rows that point at a customer: ``rows.filter(customer__in=ids)``, or use
    ``customer_related_scope``.
    """
    if customer_sees_all(user):
        return None
    if not (user.is_authenticated and user.is_active):
        return Customer.objects.none().values("pk")
    return Customer.objects.filter(account_manager_id=user.pk).values("pk")


def customer_scope(queryset: QuerySet[Customer], user: AbstractBaseUser) -> QuerySet[Customer]:
    """Narrow a queryset of customers to those ``user`` may see."""
    if customer_sees_all(user):
        return queryset
    if not (user.is_authenticated and user.is_active):
        return queryset.none()
    return queryset.filter(account_manager_id=user.pk)


def customer_related_scope(
    queryset: QuerySet, user: AbstractBaseUser, *, via: str = "customer"
) -> QuerySet:
    """Narrow rows of another model to those whose customer (reached through ``via``) is visible."""
    ids = customer_ids_visible_to(user)
    return queryset if ids is None else queryset.filter(**{f"{via}__in": ids})


def customer_visible_to(user: AbstractBaseUser) -> QuerySet[Customer]:
    """Customers the staff user may see, with their user, level and manager joined."""
    base = Customer.objects.select_related("user", "level", "account_manager")
    return customer_scope(base, user)


def customer_is_visible_to(customer: Customer, user: AbstractBaseUser) -> bool:
    """Whether ``user`` may see this one customer (the same rule, without a query)."""
    return customer_sees_all(user) or customer_is_managed_by(customer, user)


def customer_is_managed_by(customer: Customer, user: AbstractBaseUser) -> bool:
    """Whether ``user`` is this customer's account manager (may change it without model perms)."""
    return bool(user.is_authenticated and user.is_active and customer.account_manager_id == user.pk)


def customer_manages_any(user: AbstractBaseUser) -> bool:
    """Whether the user is the account manager of at least one customer (an indexed probe)."""
    if not (user.is_authenticated and user.is_active):
        return False
    return Customer.objects.filter(account_manager_id=user.pk).exists()


def customer_get_for_user(*, user: AbstractBaseUser) -> Customer | None:
    """The customer behind a portal user, or None for staff and strangers."""
    return (
        Customer.objects.select_related("user", "level").filter(user=user).first()
        if user.is_authenticated
        else None
    )


# -- which customer staff typed ---------------------------------------------------------------


def _prefix(queryset: QuerySet, field: str) -> str:
    """A prefix lookup the database answers from an index.

    On MySQL/MariaDB ``startswith`` is ``LIKE BINARY``, which cannot use an index on a
    case-insensitive column; ``istartswith`` is a plain ``LIKE 'x%'``, a range on it.
    """
    vendor = connections[queryset.db].vendor
    return f"{field}__{'istartswith' if vendor == 'mysql' else 'startswith'}"


def _conditions(queryset: QuerySet, term: str, *, exact: bool, name_contains: bool) -> list[Q]:
    conditions = []
    if term.isdecimal() and term.isascii() and len(term) <= ID_MAX_DIGITS:
        conditions.append(Q(pk=int(term)))
    if term.isascii() and not any(c.isspace() for c in term):  # usernames are ASCII, no spaces
        lookup = "user__username" if exact else _prefix(queryset, "user__username")
        conditions.append(Q(**{lookup: term}))
    mobile = mobile_search_prefix(term)
    if exact:
        try:
            conditions.append(Q(mobile=normalize_mobile(term)))
        except InvalidMobile:
            pass
    elif mobile is not None:
        conditions.append(Q(**{_prefix(queryset, "mobile"): mobile}))
    if not exact and mobile is None:  # a number is never a display name's beginning
        conditions.append(Q(**{_prefix(queryset, "name"): term}))
        if name_contains:
            conditions.append(Q(name__icontains=term))
    return conditions


def customer_find(
    term: str,
    *,
    queryset: QuerySet[Customer] | None = None,
    exact: bool = False,
    name_contains: bool = False,
) -> QuerySet[Customer]:
    """The customers that what staff typed names: an id, a username, a mobile, a display name.

    ``exact`` (a field naming one customer: a picker, a filter): the whole id, username or
    mobile (as typed: ``13800138000``, ``+86 138 0013 8000``). Otherwise (a search box): the id,
    or the beginning of a username, a mobile (``138…``, ``+852…``) or a display name; with
    ``name_contains`` also any part of the display name (a scan of the customers table: for
    the customer list only, never under a big table's search).

    Each way of matching is answered from its own index and resolved to ids first; past
    ``FIND_CAP`` ids the conditions are OR-ed in one query. Pass ``queryset`` to search
    within it (for example ``customer_visible_to(user)``); an empty term finds nobody.
    """
    queryset = Customer.objects.all() if queryset is None else queryset
    term = term.strip()
    if not term:
        return queryset.none()
    conditions = _conditions(queryset, term, exact=exact, name_contains=name_contains)
    ids: set[int] = set()
    for condition in conditions:
        found = queryset.filter(condition).order_by().values_list("pk", flat=True)
        found = list(found[: FIND_CAP + 1])
        if len(found) > FIND_CAP:  # a short prefix matching many: let the database OR
            return queryset.filter(reduce(or_, conditions))
        ids.update(found)
    return queryset.filter(pk__in=sorted(ids))


def active_customer_of(user: AbstractBaseUser) -> Customer | None:
    """The customer ``user`` signs in as (the portal, the API's docs page): the user active and
    not staff, the customer active; otherwise None.

    No query when the user was read with its customer (``portal.auth.authenticated_user``); else
    one (with the level).
    """
    if not user.is_authenticated or not user.is_active or user.is_staff or user.is_superuser:
        return None
    customer_of = get_user_model().customer.related
    if customer_of.is_cached(user):
        customer = customer_of.get_cached_value(user)
    else:
        customer = Customer.objects.select_related("level").filter(user=user).first()
        if customer is not None:
            customer.user = user  # the same user, not read again
    return customer if customer is not None and customer.is_active else None
