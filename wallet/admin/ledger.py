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
from core.money import format_yuan
from customers.admin.page import customer_column, customer_links
from customers.selectors import customer_find, customer_ids_visible_to
from jobs.exports import export_start
from wallet.admin.filters import CustomerFilter, KindGroupFilter, OperatorFilter, account_ids
from wallet.exports import XLSX_MAX_ROWS
from wallet.models import Account, Entry
from wallet.services import payment_reference_normalize

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
        "balance_after_display",
        "order_number",
        "payment",
        "operator",
        "memo",
    ]
    list_filter = [
        "kind",
        KindGroupFilter,
        ("created_at", DateRangeFilter),
        CustomerFilter,
        OperatorFilter,
    ]
    # No joins in the page query: MySQL would drive them from the small accounts table and sort
    # the whole ledger for 50 rows. The 50 rows' relations are prefetched instead.
    list_select_related = False
    search_fields = ["order_number"]  # shows the box; get_search_results does the work
    search_help_text = _(
        "Order number, payment reference, or a customer's username, name or mobile"
    )
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
        "payment_method",
        "payment_reference",
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
        """The entries of the customers this user may see (``customers.selectors``' rule).

        Scoped as ``account_id IN (SELECT id FROM accounts WHERE customer_id IN (…))``, not a
        join: the ledger query keeps to its own indexes.
        """
        qs = super().get_queryset(request).prefetch_related("account__customer__user", "created_by")
        visible = customer_ids_visible_to(request.user)
        if visible is None:  # sees every customer
            return qs
        return qs.filter(account_id__in=Account.objects.filter(customer__in=visible).values("pk"))

    def get_search_results(self, request, queryset, search_term):
        """An order-number prefix, or the entries of the customers the term names."""
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(account_id__in=account_ids(customer_find(term).values("pk")))
        if term.isdigit() and len(term) >= ORDER_NUMBER_MIN_PREFIX:
            match |= Q(order_number__startswith=term)
        elif term.isalnum():
            match |= Q(order_number=term)
        reference = payment_reference_normalize(term)
        if reference:  # exact, through the (method, reference) unique index per method
            match |= Q(payment_method__in=Entry.PaymentMethod.values, payment_reference=reference)
        return queryset.filter(match), False

    def get_list_display(self, request):
        """The customer column with links to the customer's other pages (per user)."""
        column = customer_column(
            request,
            lambda entry: entry.account.customer,
            description=_("customer"),
            ordering="account__customer__name",
        )
        return [column if c == "customer_link" else c for c in super().get_list_display(request)]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """The customer's other pages (its orders, its ledger) one click away."""
        if obj is not None:
            context["customer_links"] = customer_links(request.user, obj.account.customer)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description=_("customer"), ordering="account__customer__name")
    def customer_link(self, obj: Entry):
        """The customer's name, linking to its page."""
        customer = obj.account.customer
        url = reverse("admin:customers_customer_change", args=[customer.pk])
        return format_html('<a href="{}">{}</a>', url, customer)

    @admin.display(description=_("amount"), ordering="amount")
    def signed_amount(self, obj: Entry):
        """Credits green with a plus, debits red (colours in core's admin.css, both themes)."""
        kind = "credit" if obj.amount > 0 else "debit"
        return format_html(
            '<span class="text-nowrap amount-{}">{}</span>',
            kind,
            format_yuan(obj.amount, signed=True),
        )

    @admin.display(description=_("balance after"), ordering="balance_after")
    def balance_after_display(self, obj: Entry) -> str:
        """The balance this entry left, as ¥1,500.50."""
        return format_yuan(obj.balance_after)

    @admin.display(description=_("payment"))
    def payment(self, obj: Entry) -> str:
        """The payment method and its reference (转账流水号), when staff entered one."""
        if not obj.payment_method:
            return ""
        method = obj.get_payment_method_display()
        return f"{method} {obj.payment_reference}" if obj.payment_reference else str(method)

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
            "credit": format_yuan(credit),
            "debit": format_yuan(debit),
            "net": format_yuan(credit + debit),
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
        if file_format == "xlsx" and queryset[: XLSX_MAX_ROWS + 1].count() > XLSX_MAX_ROWS:
            self.message_user(request, TOO_MANY_FOR_XLSX % {"max": XLSX_MAX_ROWS}, messages.ERROR)
            return HttpResponseRedirect(f"{changelist_url}?{request.GET.urlencode()}")
        # Streamed up to JOBS_EXPORT_STREAM_ROWS; beyond, a background job with a download.
        return export_start(
            request,
            model_admin=self,
            spec="wallet.exports.ledger_export_spec",
            fmt=file_format,
            queryset=queryset,
            query=request.GET.urlencode(),
        )
