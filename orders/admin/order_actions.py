"""The order list's own actions: cancel with refund, export to CSV/XLSX (formula-escaped)."""

import csv
import io

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from core.exceptions import DomainError
from core.exports import escape_formula
from orders.forms import CancelOrdersForm
from orders.models import Order
from orders.services import order_cancel

CANCELLED = _("Cancelled and refunded %(count)d order(s): %(numbers)s.")
NOT_CANCELLED = _("Order %(number)s was not cancelled: %(reason)s")
TOO_MANY_TO_CANCEL = _("Select at most %(limit)d orders to cancel at once.")
TOO_MANY_TO_EXPORT = _("At most %(limit)d orders can be exported at once; narrow the filters.")
CANCEL_LIMIT = 500
EXPORT_LIMIT = 100_000
EXPORT_COLUMNS = [
    (_("order number"), lambda o: o.number),
    (_("created at"), lambda o: timezone.localtime(o.created_at).strftime("%Y-%m-%d %H:%M:%S")),
    (_("username"), lambda o: o.customer.user.username),
    (_("customer"), lambda o: o.customer.name),
    (_("mobile"), lambda o: o.customer.mobile),
    (_("service"), lambda o: o.service.name),
    (_("target"), lambda o: o.target),
    (_("quantity"), lambda o: o.quantity),
    (_("list price"), lambda o: o.list_price),
    (_("level percent"), lambda o: o.level_percent),
    (_("amount charged"), lambda o: o.amount),
    (_("status"), lambda o: o.get_status_display()),
    (_("delivered quantity"), lambda o: o.delivered_quantity),
    (_("memo"), lambda o: o.memo),
]


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
        """The selected orders as CSV (UTF-8 with BOM, formula-escaped)."""
        if self._too_many_to_export(request, queryset):
            return None
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        for row in self._export_rows(queryset):
            writer.writerow(row)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self._export_name()}.csv"'
        return response

    @admin.action(permissions=["export"], description=_("Export to Excel (XLSX)"))
    def export_xlsx(self, request, queryset):
        """The selected orders as an XLSX workbook (formula-escaped)."""
        if self._too_many_to_export(request, queryset):
            return None
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(str(_("orders")))
        for row in self._export_rows(queryset):
            sheet.append([str(v) if hasattr(v, "quantize") else v for v in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{self._export_name()}.xlsx"'
        return response

    def _too_many_to_export(self, request, queryset) -> bool:
        if queryset[: EXPORT_LIMIT + 1].count() > EXPORT_LIMIT:
            self.message_user(request, TOO_MANY_TO_EXPORT % {"limit": EXPORT_LIMIT}, messages.ERROR)
            return True
        return False

    def _export_rows(self, queryset):
        yield [str(title) for title, _value in EXPORT_COLUMNS]
        for order in queryset.iterator(chunk_size=2000):
            yield [escape_formula(value(order)) for _title, value in EXPORT_COLUMNS]

    def _export_name(self) -> str:
        return "orders-" + timezone.localtime().strftime("%Y%m%d-%H%M%S")
