"""Ledger list filters that stay cheap however many customers and entries there are."""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from customers.selectors import customer_find
from wallet.models import Account, Entry

SYSTEM = "system"
# A search or filter names at most this many customers' accounts.
MAX_ACCOUNTS = 1000


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
        """Entries of the customer(s) the typed value names exactly (``customer_find``)."""
        if not self.value():
            return queryset
        return queryset.filter(
            account_id__in=account_ids(customer_find(self.value(), exact=True).values("pk"))
        )


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


class KindGroupFilter(admin.SimpleListFilter):
    """Kinds that are added up together: refunds (撤单 + 退款) and sales (orders and refunds)."""

    title = _("kind group")
    parameter_name = "kinds"
    GROUPS = {
        "refunds": (Entry.Kind.CANCEL_REFUND, Entry.Kind.REFUND),
        "sales": (Entry.Kind.ORDER_DEBIT, Entry.Kind.CANCEL_REFUND, Entry.Kind.REFUND),
    }

    def lookups(self, request, model_admin):
        """The two groups the dashboard's refunds and net sales add up."""
        return [
            ("refunds", _("Refunds (cancel refunds and refunds)")),
            ("sales", _("Sales (order debits and their refunds)")),
        ]

    def queryset(self, request, queryset):
        """Entries of the group's kinds (indexed with created_at)."""
        kinds = self.GROUPS.get(self.value() or "")
        return queryset.filter(kind__in=kinds) if kinds else queryset


class BalanceBelowFilter(admin.SimpleListFilter):
    """Customers whose balance is below an amount (the dashboard's low-balance list)."""

    title = _("balance")
    parameter_name = "balance_below"

    def lookups(self, request, model_admin):
        """The dashboard's threshold; any other amount may be given in the URL."""
        threshold = settings.DASHBOARD_LOW_BALANCE
        return [(str(threshold), _("Below ¥%(amount)s") % {"amount": f"{threshold:,.2f}"})]

    def queryset(self, request, queryset):
        """Customers whose account holds less than the amount; a bad amount filters nothing."""
        try:
            amount = Decimal(self.value() or "")
        except InvalidOperation:
            return queryset
        if not amount.is_finite():
            return queryset
        return queryset.filter(account__balance__lt=amount)
