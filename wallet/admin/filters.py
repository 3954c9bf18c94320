"""Ledger list filters that stay cheap however many customers and entries there are."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from customers.phone import mobile_search_prefix
from wallet.models import Account

SYSTEM = "system"
# A search or filter names at most this many customers' accounts.
MAX_ACCOUNTS = 1000


def customers_matching(term: str):
    """Customer ids for a username, a mobile number or an id typed by staff (exact matches)."""
    term = term.strip()
    match = Q(user__username=term)
    prefix = mobile_search_prefix(term)
    if prefix:
        match |= Q(mobile=prefix)
    if term.isdigit():
        match |= Q(pk=int(term))
    return Customer.objects.filter(match).values("pk")


def account_ids(customers) -> list[int]:
    """The account ids of some customers, as a literal list.

    A list, not a subquery: the ledger query then reads ``account_id IN (…)`` from its own
    index instead of joining the accounts table, which MySQL's planner may drive from.
    """
    accounts = Account.objects.filter(customer__in=customers).order_by("pk")
    return list(accounts.values_list("pk", flat=True)[:MAX_ACCOUNTS])


class CustomerFilter(admin.SimpleListFilter):
    """A text box (username, mobile or id) instead of a list of every customer."""

    title = _("customer")
    parameter_name = "customer"
    template = "admin/core/text_filter.html"
    placeholder = _("username, mobile or id")

    def lookups(self, request, model_admin):
        """No fixed choices: the value is typed."""
        return ()

    def has_output(self):
        """Always shown, although it has no choices to list."""
        return True

    def queryset(self, request, queryset):
        """Entries of the customer(s) the typed value names exactly."""
        if not self.value():
            return queryset
        return queryset.filter(account_id__in=account_ids(customers_matching(self.value())))


class OperatorFilter(admin.SimpleListFilter):
    """Who moved the money: a staff user, or the system (orders, refunds)."""

    title = _("operator")
    parameter_name = "operator"

    def lookups(self, request, model_admin):
        """Staff users (a short list) and the system."""
        staff = get_user_model().objects.filter(is_staff=True).order_by("username")
        return [(SYSTEM, _("System")), *((str(u.pk), u.get_username()) for u in staff)]

    def queryset(self, request, queryset):
        """Filter on ``created_by`` (indexed with created_at)."""
        value = self.value()
        if value == SYSTEM:
            return queryset.filter(created_by__isnull=True)
        if value and value.isdigit():
            return queryset.filter(created_by_id=int(value))
        return queryset
