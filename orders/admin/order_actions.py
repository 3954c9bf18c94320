"""The order list's own actions: cancel with refund, export to CSV/XLSX (formula-escaped)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from core.exports import IDENT, MONEY, NUMBER, TEXT, ExportSpec, export_response, keyset_ids
from jobs.exports import export_start
from orders.forms import CancelOrdersForm
from orders.models import Order
from orders.services import order_cancel

CANCELLED = _("Cancelled and refunded %(count)d order(s): %(numbers)s.")
NOT_CANCELLED = _("Order %(number)s was not cancelled: %(reason)s")
TOO_MANY_TO_CANCEL = _("Select at most %(limit)d orders to cancel at once.")
CANCEL_LIMIT = 500
EXPORT_COLUMNS = [
    (_("order number"), IDENT),
    (_("created at"), TEXT),
    (_("username"), TEXT),
    (_("customer"), TEXT),
    (_("mobile"), IDENT),
    (_("service"), TEXT),
    (_("target"), IDENT),
    (_("quantity"), NUMBER),
    (_("list price"), MONEY),
    (_("level percent"), NUMBER),
    (_("amount charged"), MONEY),
    (_("status"), TEXT),
    (_("delivered quantity"), NUMBER),
    (_("memo"), TEXT),
]
EXPORT_FIELDS = (
    "pk",
    "number",
    "created_at",
    "customer__user__username",
    "customer__name",
    "customer__mobile",
    "service__name",
    "target",
    "quantity",
    "list_price",
    "level_percent",
    "amount",
    "status",
    "delivered_quantity",
    "memo",
)


def order_export_spec() -> ExportSpec:
    """Orders as CSV/XLSX (jobs.exports): identifiers text, money numeric."""
    return ExportSpec(name="orders", sheet=_("orders"), columns=EXPORT_COLUMNS, rows=_order_rows)


def _order_rows(queryset, batch: int = 2000):
    """Rows newest first: a batch of ids on the order table alone, then those rows with their
    joins by primary key (bounded memory, no whole-table sort per batch)."""
    statuses = dict(Order.Status.choices)
    rows = Order.objects.using(queryset.db).order_by("-pk").values_list(*EXPORT_FIELDS)
    for ids in keyset_ids(queryset, batch):
        for row in rows.filter(pk__in=ids):
            created = timezone.localtime(row[2]).strftime("%Y-%m-%d %H:%M:%S")
            yield [row[1], created, *row[3:12], str(statuses.get(row[12], row[12])), *row[13:]]


class OrderActionsMixin:
    """For OrderAdmin: "cancel with refund" (list and order page) and the exports."""

    def has_cancel_permission(self, request) -> bool:
        """Support, administrators (and whoever holds orders.cancel_order)."""
        return request.user.has_perm("orders.cancel_order")

    def has_export_permission(self, request) -> bool:
        """Whoever holds orders.export_order."""
        return request.user.has_perm("orders.export_order")

    @admin.action(permissions=["cancel"], description=_("Cancel with refund"))
    def cancel_orders(self, request, queryset):
        """Ask for a reason, then cancel each order in its own transaction and report each."""
        if queryset[: CANCEL_LIMIT + 1].count() > CANCEL_LIMIT:
            self.message_user(request, TOO_MANY_TO_CANCEL % {"limit": CANCEL_LIMIT}, messages.ERROR)
            return None
        form = CancelOrdersForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._cancel_confirmation(request, list(queryset), form, action=True)
        self._cancel_each(request, list(queryset), form.cleaned_data["reason"])
        return None

    def _cancel_each(self, request, orders: list[Order], reason: str) -> None:
        done, failed = [], []
        for order in orders:
            try:
                order_cancel(order=order, actor=request.user, reason=reason)
            except DomainError as exc:
                failed.append((order.number, exc.message))
                continue
            done.append(order.number)
            self.log_change(request, order, [{"changed": {"fields": ["status"]}}])
        if done:
            self.message_user(
                request,
                CANCELLED % {"count": len(done), "numbers": ", ".join(done)},
                messages.SUCCESS,
            )
        for number, reason_text in failed:
            self.message_user(
                request, NOT_CANCELLED % {"number": number, "reason": reason_text}, messages.ERROR
            )

    def _cancel_confirmation(self, request, orders, form, *, action: bool):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Cancel orders with refund"),
            "orders": orders,
            "form": form,
            "action": action,
            "selected": orders,
            "action_name": "cancel_orders",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/orders/order/cancel_confirmation.html", context)

    def cancel_view(self, request, object_id):
        """Cancel one order from its page: a confirmation, then a POST."""
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        order = self.get_object(request, object_id)
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form = CancelOrdersForm(request.POST if request.method == "POST" else None)
        if request.method != "POST" or not form.is_valid():
            return self._cancel_confirmation(request, [order], form, action=False)
        self._cancel_each(request, [order], form.cleaned_data["reason"])
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))

    @admin.action(permissions=["export"], description=_("Export to CSV"))
    def export_csv(self, request, queryset):
        """The selected orders as CSV (UTF-8 with BOM, formula-escaped); big ones as a job."""
        return self._export(request, queryset, "csv")

    @admin.action(permissions=["export"], description=_("Export to Excel (XLSX)"))
    def export_xlsx(self, request, queryset):
        """The selected orders as XLSX (money numeric, formula-escaped); big ones as a job."""
        return self._export(request, queryset, "xlsx")

    def _export(self, request, queryset, fmt: str):
        """Selected rows stream (a page at most); "select all" with the list's filters may be
        any size: up to JOBS_EXPORT_STREAM_ROWS it streams, beyond it runs as a job."""
        spec = "orders.admin.order_actions.order_export_spec"
        if request.POST.get("select_across") == "1":
            return export_start(
                request, model_admin=self, spec=spec, fmt=fmt, query=request.GET.urlencode()
            )
        return export_response(order_export_spec(), queryset, fmt)
