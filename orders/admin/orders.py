"""Order admin: index-friendly search, role scoping, cancel, export, placing for a customer.

Services and their price tiers are in ``services.py`` (registered on import below).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from core.admin import CappedCountPaginator, FastRowsAdminMixin, FastRowsChangeList
from core.exceptions import DomainError
from core.filters import DateRangeFilter, DecimalRangeFilter
from core.money import format_yuan
from customers.admin.page import customer_column, customer_links
from customers.selectors import customer_visible_to
from orders.admin import services  # noqa: F401  (registers the Service admin)
from orders.admin.agents import AgentActionsMixin
from orders.admin.order_actions import OrderActionsMixin
from orders.exceptions import PriceChanged
from orders.forms import SHOWN_AMOUNT_INVALID, PlaceOrderForm, read_shown_amount
from orders.models import Order, OrderEvent
from orders.selectors import (
    customers_served_by,
    order_entries,
    order_search,
    order_visible_to,
)
from orders.services import order_place
from wallet.selectors import balance_of

CUSTOMER_PARAM = "customer__id__exact"
PLACED = _("Order %(number)s placed for %(customer)s: %(amount)s charged, balance now %(balance)s.")
ALREADY_PLACED = _(
    "This form already placed order %(number)s for %(customer)s; nothing was charged again. "
    "Balance now %(balance)s."
)

STATUS_BADGES = {
    Order.Status.PENDING: "secondary",
    Order.Status.RUNNING: "info",
    Order.Status.COMPLETED: "success",
    Order.Status.PARTIAL: "warning",
    Order.Status.FAILED: "danger",
    Order.Status.CANCELLED: "dark",
}


def status_badge(order: Order) -> str:
    """The status as a coloured badge."""
    colour = STATUS_BADGES.get(order.status, "secondary")
    return format_html('<span class="badge bg-{}">{}</span>', colour, order.get_status_display())


class OrderChangeList(FastRowsChangeList):
    """Fetch a page as ids first, then its rows by primary key (a "deferred join").

    The id query is answered from an index (every order index ends in the primary key), so
    the database sorts and skips narrow index entries, never wide rows: at a million orders a
    page costs milliseconds whichever filters are combined.
    """

    def get_results(self, request):
        """The page's rows, in the page's order, fetched by id."""
        super().get_results(request)
        ids = list(self.result_list.values_list("pk", flat=True))
        rows = self.queryset.order_by().filter(pk__in=ids).in_bulk()
        self.result_list = [rows[pk] for pk in ids if pk in rows]


class OrderEventInline(admin.TabularInline):
    """The order's status history, read-only."""

    model = OrderEvent
    fields = ["created_at", "from_status", "to_status", "actor", "agent", "event_message"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["created_at", "id"]

    def get_queryset(self, request):
        """Join the actor for the table."""
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("message"))
    def event_message(self, obj) -> str:
        """The agent's or backend's message in the viewer's language."""
        return obj.display_message

    def has_view_permission(self, request, obj=None) -> bool:
        """Whoever may see the order may see its history."""
        return request.user.has_perm("orders.view_order")

    def has_add_permission(self, request, obj=None) -> bool:
        """Events are written by the order services only."""
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        """The audit trail is never edited."""
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        """The audit trail is never deleted."""
        return False


@admin.register(Order)
class OrderAdmin(OrderActionsMixin, AgentActionsMixin, FastRowsAdminMixin, admin.ModelAdmin):
    """The order list: index-friendly search, filters in any combination, scoped by role."""

    list_display = [
        "number",
        "customer_link",
        "service",
        "short_target",
        "quantity",
        "amount_display",
        "status_display",
        "created_at",
    ]
    list_filter = [
        "status",
        "service",
        ("amount", DecimalRangeFilter),
        ("created_at", DateRangeFilter),
        ("finished_at", DateRangeFilter),
    ]
    # The search itself is get_search_results (by the term's shape); this only shows the box.
    search_fields = ["number"]
    search_help_text = _(
        "Order number or its beginning, customer mobile or its beginning, "
        "username or name, or a target URL"
    )
    # No joins in the page query (see order_visible_to): the customer, its user and the service
    # are prefetched for the 50 rows shown. An empty list, not False: False would join them all.
    list_select_related: list[str] = []
    sortable_by = ["number", "amount_display", "created_at"]
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    # "run_now" is the agent work's action (AgentActionsMixin).
    actions = ["cancel_orders", "export_csv", "export_xlsx", "run_now"]
    inlines = [OrderEventInline]
    fieldsets = [
        (
            _("Order"),
            {
                "fields": [
                    "number",
                    "status_display",
                    "customer_link",
                    "service",
                    "target",
                    "quantity",
                    "created_by",
                    "created_at",
                    "memo",
                ]
            },
        ),
        (
            _("Price"),
            {
                "fields": [
                    "unit_price",
                    "list_price_display",
                    "level_percent",
                    "discount",
                    "amount_display",
                ]
            },
        ),
        (
            _("Fulfilment"),
            {
                "fields": [
                    "delivered_quantity",
                    "started_at",
                    "finished_at",
                    "attempts",
                    "lease_owner",
                    "lease_expires_at",
                    "supplier_reference",
                    "baseline_count",
                    "last_error",
                ]
            },
        ),
        (_("Ledger"), {"fields": ["ledger_entries"]}),
    ]
    readonly_fields = [name for _title, options in fieldsets for name in options["fields"] if name]

    def get_changelist(self, request, **kwargs):
        """The list fetches its page by ids first (OrderChangeList)."""
        return OrderChangeList

    # -- scoping and permissions ------------------------------------------------------------

    def get_queryset(self, request):
        """Only the orders this user may see (account managers: their customers')."""
        return order_visible_to(request.user)

    def get_search_results(self, request, queryset, search_term):
        """Search by the term's shape through an index; never a LIKE '%…%' across joins."""
        return order_search(queryset, search_term), False

    def has_add_permission(self, request) -> bool:
        """Orders are placed through the "place an order" form, which charges the customer."""
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        """Orders change only through services (cancel, the agent)."""
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        """Orders and their money are never deleted."""
        return False

    def has_place_permission(self, request) -> bool:
        """Whoever holds orders.place_order."""
        return request.user.has_perm("orders.place_order")

    # -- columns ----------------------------------------------------------------------------

    @admin.display(description=_("customer"))
    def customer_link(self, order: Order) -> str:
        """The customer's name and username, linking to the customer."""
        url = reverse("admin:customers_customer_change", args=[order.customer_id])
        return format_html(
            '<a href="{}">{}</a> <span class="text-muted">{}</span>',
            url,
            order.customer.name,
            order.customer.user.username,
        )

    def get_list_display(self, request):
        """The customer column with links to the customer's orders and ledger (per user)."""
        column = customer_column(request, lambda order: order.customer, description=_("customer"))
        return [column if c == "customer_link" else c for c in super().get_list_display(request)]

    @admin.display(description=_("amount charged"), ordering="amount")
    def amount_display(self, order: Order) -> str:
        """The amount charged, as ¥1,500.50."""
        return format_yuan(order.amount)

    @admin.display(description=_("target"))
    def short_target(self, order: Order) -> str:
        """The target, shortened for the list."""
        return Truncator(order.target).chars(40)

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, order: Order) -> str:
        """The status as a coloured badge."""
        return status_badge(order)

    @admin.display(description=_("discount"))
    def discount(self, order: Order) -> str:
        """What the customer's level saved against the list price."""
        return format_yuan(order.list_price - order.amount)

    @admin.display(description=_("list price"))
    def list_price_display(self, order: Order) -> str:
        """The list price before the level's discount, as ¥1,500.50."""
        return format_yuan(order.list_price)

    @admin.display(description=_("ledger entries"))
    def ledger_entries(self, order: Order) -> str:
        """The wallet entries that name this order: its debit and any refund."""
        entries = list(order_entries(order))
        if not entries:
            return "-"
        header = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            _("created at"),
            _("kind"),
            _("amount"),
            _("balance after"),
            _("operator"),
            _("memo"),
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                    e.get_kind_display(),
                    format_yuan(e.amount, signed=True),
                    format_yuan(e.balance_after),
                    e.created_by or "-",
                    e.memo,
                )
                for e in entries
            ),
        )
        return format_html('<table class="table table-sm">{}{}</table>', header, rows)

    # -- placing an order for a customer ----------------------------------------------------

    def get_urls(self):
        """Add the "place an order" form and the one-order cancel page."""
        wrap = self.admin_site.admin_view
        return [
            path("place/", wrap(self.place_view), name="orders_order_place"),
            path("<path:object_id>/cancel/", wrap(self.cancel_view), name="orders_order_cancel"),
            *super().get_urls(),
        ]

    def place_view(self, request):
        """Place an order on a customer's behalf: form, then the quote to confirm, then place.

        The confirmation posts back the amount it showed; ``order_place`` charges only that
        amount (compared under the account lock) or the page shows the new price to confirm.
        """
        if not self.has_place_permission(request):
            raise PermissionDenied
        customers = customers_served_by(request.user)
        if request.method != "POST":
            initial = {"customer": request.GET.get("customer", "")}
            form = PlaceOrderForm(initial=initial, customers=customers)
            return self._place_page(request, form)
        form = PlaceOrderForm(request.POST, customers=customers)
        if not form.is_valid():
            return self._place_page(request, form)
        data = form.cleaned_data
        if "_edit" in request.POST:
            return self._place_page(request, form)
        if "_confirm" not in request.POST:
            return self._place_page(request, form, confirm=True)
        shown = read_shown_amount(request.POST.get("shown_amount"))
        if shown is None:
            return self._place_page(request, form, confirm=True, notice=SHOWN_AMOUNT_INVALID)
        try:
            order = order_place(
                customer=data["customer"],
                service=data["service"],
                target=data["target"],
                quantity=data["quantity"],
                expected_amount=shown,
                idempotency_key=data["idempotency_key"],
                created_by=request.user,
                memo=data["memo"],
            )
        except PriceChanged as exc:
            form.quote = exc.quote
            return self._place_page(request, form, confirm=True, notice=exc.message)
        except DomainError as exc:
            form.add_error(None, exc.message)
            return self._place_page(request, form)
        balance = balance_of(customer_id=order.customer_id)
        params = {"number": order.number, "customer": order.customer, "balance": balance}
        if order.replayed:
            self.message_user(request, ALREADY_PLACED % params, messages.INFO)
        else:
            self.log_addition(request, order, [{"added": {}}])
            self.message_user(
                request, PLACED % {**params, "amount": order.amount}, messages.SUCCESS
            )
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))

    def _place_page(self, request, form, *, confirm: bool = False, notice: str = ""):
        quote, balance_now, balance_after = form.quote, None, None
        if confirm and quote is not None:
            balance_now = balance_of(customer_id=form.cleaned_data["customer"].pk)
            balance_after = balance_now - quote.amount
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Place an order for a customer"),
            "form": form,
            "confirm": confirm and quote is not None,
            "quote": quote,
            "notice": notice,
            "customer": form.cleaned_data.get("customer") if confirm else None,
            "service": form.cleaned_data.get("service") if confirm else None,
            "balance_now": balance_now,
            "balance_after": balance_after,
        }
        return TemplateResponse(request, "admin/orders/order/place.html", context)

    def changelist_view(self, request, extra_context=None):
        """Offer the "place an order" button; name the customer the list is filtered to."""
        extra_context = {
            **(extra_context or {}),
            "can_place": self.has_place_permission(request),
            "filtered_customer": self._filtered_customer(request),
        }
        return super().changelist_view(request, extra_context)

    def _filtered_customer(self, request):
        """The customer of ``?customer__id__exact=`` (the customer page's "all orders")."""
        value = request.GET.get(CUSTOMER_PARAM, "")
        if not (value.isdecimal() and value.isascii() and len(value) < 12):
            return None
        return customer_visible_to(request.user).filter(pk=int(value)).first()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """Offer "cancel with refund" on a pending order to those who may cancel."""
        extra_context = {**(extra_context or {}), "can_cancel": self.has_cancel_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """The customer's other pages (its orders, its ledger) one click away."""
        if obj is not None:
            context["customer_links"] = customer_links(request.user, obj.customer)
        return super().render_change_form(request, context, add, change, form_url, obj)
