"""The ledger in the admin: read-only, filterable, totalled and exportable."""

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import CappedCountPaginator, estimated_table_rows
from core.filters import DateRangeFilter
from customers.models import Customer
from customers.selectors import customer_visible_to
from wallet.admin.filters import CustomerFilter, OperatorFilter, account_ids, customers_matching
from wallet.exports import XLSX_MAX_ROWS, ledger_csv_response, ledger_xlsx_response
from wallet.models import Account, Entry

# Above this many ledger rows (the database's estimate), totals need a narrower filter.
TOTALS_MAX_ROWS = 500_000
# An order number is 21 digits; a typed prefix this long is searched as one.
ORDER_NUMBER_MIN_PREFIX = 8
TOO_MANY_FOR_XLSX = _("More than %(max)s entries: narrow the filters or export CSV.")
BAD_FILTERS = _("Those filters are not valid.")


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    """Every movement of money. Nothing here can be added, changed or deleted."""

    list_display = [
        "created_at",
        "customer_link",
        "kind",
        "signed_amount",
        "balance_after",
        "order_number",
        "operator",
        "memo",
    ]
    list_filter = [
        "kind",
        ("created_at", DateRangeFilter),
        CustomerFilter,
        OperatorFilter,
    ]
    # No joins in the page query: MySQL would drive them from the small accounts table and sort
    # the whole ledger for 50 rows. The 50 rows' relations are prefetched instead.
    list_select_related = False
    search_fields = ["order_number"]  # shows the box; get_search_results does the work
    search_help_text = _("Order number, or a customer's username, name or mobile")
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    date_hierarchy = None
    actions = None
    readonly_fields = [
        "customer_link",
        "kind",
        "amount",
        "balance_after",
        "order_number",
        "created_by",
        "memo",
        "idempotency_key",
        "created_at",
    ]
    fields = readonly_fields

    # -- read-only ---------------------------------------------------------------------------

    def has_add_permission(self, request):
        """Entries are written only by wallet services."""
        return False

    def has_change_permission(self, request, obj=None):
        """Entries are immutable; a mistake is corrected by a new entry."""
        return False

    def has_delete_permission(self, request, obj=None):
        """Entries are never deleted."""
        return False

    def has_export_permission(self, request) -> bool:
        """``wallet.export_entry`` on top of being able to read the ledger."""
        return self.has_view_permission(request) and request.user.has_perm("wallet.export_entry")

    # -- reads -------------------------------------------------------------------------------

    def get_queryset(self, request):
        """All entries for those who see all customers; otherwise only their customers'."""
        qs = super().get_queryset(request).prefetch_related("account__customer__user", "created_by")
        if request.user.has_perm("customers.view_customer") or request.user.has_perm(
            "customers.change_customer"
        ):
            return qs
        visible = customer_visible_to(request.user).values("pk")
        return qs.filter(account_id__in=Account.objects.filter(customer__in=visible).values("pk"))

    def get_search_results(self, request, queryset, search_term):
        """An order-number prefix, or the entries of the customers the term names."""
        term = search_term.strip()
        if not term:
            return queryset, False
        named = Customer.objects.filter(name__icontains=term).values("pk")
        match = Q(account_id__in=account_ids(customers_matching(term)))
        match |= Q(account_id__in=account_ids(named))
        if term.isdigit() and len(term) >= ORDER_NUMBER_MIN_PREFIX:
            match |= Q(order_number__startswith=term)
        elif term.isalnum():
            match |= Q(order_number=term)
        return queryset.filter(match), False

    @admin.display(description=_("customer"), ordering="account__customer__name")
    def customer_link(self, obj: Entry):
        """The customer's name, linking to its page."""
        customer = obj.account.customer
        url = reverse("admin:customers_customer_change", args=[customer.pk])
        return format_html('<a href="{}">{}</a>', url, customer)

    @admin.display(description=_("amount"), ordering="amount")
    def signed_amount(self, obj: Entry):
        """Credits green with a plus, debits red."""
        colour = "green" if obj.amount > 0 else "#c0392b"
        return format_html(
            '<span style="color:{}">{}{}</span>', colour, "+" if obj.amount > 0 else "", obj.amount
        )

    @admin.display(description=_("operator"), ordering="created_by")
    def operator(self, obj: Entry) -> str:
        """The staff user, or the system for order debits and refunds."""
        return obj.created_by.get_username() if obj.created_by_id else _("System")

    # -- list page: totals and export links --------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        """The list, with the total of the filtered entries and export links."""
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if not context or "cl" not in context:
            return response
        changelist = context["cl"]
        context["ledger_totals"] = self._totals(changelist)
        if self.has_export_permission(request):
            query = request.GET.urlencode()
            context["ledger_export_links"] = [
                (_("Export CSV"), f"{reverse('admin:wallet_entry_export', args=['csv'])}?{query}"),
                (
                    _("Export XLSX"),
                    f"{reverse('admin:wallet_entry_export', args=['xlsx'])}?{query}",
                ),
            ]
        return response

    def _totals(self, changelist) -> dict | None:
        """Credits, debits and net of the filtered entries, when that is cheap enough.

        Always below the paginator's count cap (the count is exact and small); above it only
        while the whole ledger is small, so a broad filter on a huge ledger never sums
        millions of rows on every page view.
        """
        cap = getattr(changelist.paginator, "cap", None)
        if cap is None or changelist.result_count >= cap:
            estimate = estimated_table_rows(Entry)
            if estimate is not None and estimate > TOTALS_MAX_ROWS:
                return None
        sums = changelist.queryset.order_by().aggregate(
            count=Count("id"),
            credit=Sum("amount", filter=Q(amount__gt=0)),
            debit=Sum("amount", filter=Q(amount__lt=0)),
        )
        credit, debit = sums["credit"] or 0, sums["debit"] or 0
        return {
            "count": sums["count"],
            "credit": f"{credit:,.2f}",
            "debit": f"{debit:,.2f}",
            "net": f"{credit + debit:,.2f}",
        }

    # -- export ------------------------------------------------------------------------------

    def get_urls(self):
        """``export/csv/`` and ``export/xlsx/``, taking the list's filters as query string."""
        custom = [
            path(
                "export/<str:file_format>/",
                self.admin_site.admin_view(self.export_view),
                name="wallet_entry_export",
            )
        ]
        return [*custom, *super().get_urls()]

    def export_view(self, request, file_format):
        """The filtered ledger as CSV (streamed) or XLSX."""
        if not self.has_export_permission(request) or file_format not in ("csv", "xlsx"):
            raise PermissionDenied
        changelist_url = reverse("admin:wallet_entry_changelist")
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            self.message_user(request, BAD_FILTERS, messages.ERROR)
            return HttpResponseRedirect(changelist_url)
        queryset = changelist.queryset
        if file_format == "csv":
            return ledger_csv_response(queryset)
        if queryset[: XLSX_MAX_ROWS + 1].count() > XLSX_MAX_ROWS:
            self.message_user(request, TOO_MANY_FOR_XLSX % {"max": XLSX_MAX_ROWS}, messages.ERROR)
            return HttpResponseRedirect(f"{changelist_url}?{request.GET.urlencode()}")
        return ledger_xlsx_response(queryset)
