"""Top-up requests (充值申请) in the admin: finance's queue, one request's page with its proof
image, and the approve / reject buttons (POST, CSRF, permission checked by the services)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from core.filters import DateRangeFilter
from core.money import format_yuan
from customers.selectors import customer_related_scope
from wallet.models import TopUpRequest
from wallet.proofs import proof_response
from wallet.selectors import topups_pending_count
from wallet.services import (
    APPROVE_TOPUP,
    topup_methods,
    topup_request_approve,
    topup_request_reject,
)

APPROVED = _("Top-up request #%(id)s approved: ¥%(amount)s credited to %(customer)s.")
REJECTED = _("Top-up request #%(id)s rejected.")


@admin.register(TopUpRequest)
class TopUpRequestAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "created_at",
        "customer",
        "amount_display",
        "method_name",
        "reference",
        "payer",
        "status",
        "decided_by",
    ]
    list_filter = ["status", "method", ("created_at", DateRangeFilter)]
    search_fields = ["reference", "payer", "customer__name", "customer__mobile"]
    list_select_related = ["customer", "decided_by"]
    readonly_fields = [
        "customer",
        "amount",
        "method_name",
        "payer",
        "reference",
        "proof_link",
        "status",
        "reason",
        "submitted_by",
        "created_at",
        "decided_by",
        "decided_at",
        "entry",
    ]
    fields = readonly_fields
    ordering = ["status", "-created_at"]

    def get_queryset(self, request):
        """The requests of the customers this user may see (the one visibility rule)."""
        return customer_related_scope(super().get_queryset(request), request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj):
        """The amount asked for, as ¥1,500.50."""
        return format_yuan(obj.amount)

    @admin.display(description=_("payment method"), ordering="method")
    def method_name(self, obj):
        return topup_methods().get(obj.method, obj.method)

    @admin.display(description=_("proof image"))
    def proof_link(self, obj):
        if not obj.proof:
            return "—"
        url = reverse("admin:wallet_topuprequest_proof", args=[obj.pk])
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="" id="topup-proof" '
            'class="img-thumbnail topup-proof"></a>',
            url,
            url,
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/proof/", wrap(self.proof_view), name="wallet_topuprequest_proof"),
            path(
                "<int:pk>/approve/",
                wrap(require_POST(self.approve_view)),
                name="wallet_topuprequest_approve",
            ),
            path(
                "<int:pk>/reject/",
                wrap(require_POST(self.reject_view)),
                name="wallet_topuprequest_reject",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "title": _("Top-up requests (%(count)s pending)")
            % {"count": topups_pending_count(request.user)},
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_decide": request.user.has_perm(APPROVE_TOPUP),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def proof_view(self, request, pk: int):
        """The proof image, to staff with the finance permission only."""
        if not request.user.has_perm(APPROVE_TOPUP):
            raise PermissionDenied
        try:
            topup = TopUpRequest.objects.get(pk=pk)
        except TopUpRequest.DoesNotExist as exc:
            raise Http404("No such request") from exc
        return proof_response(topup)

    def _back(self, pk: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:wallet_topuprequest_change", args=[pk]))

    def approve_view(self, request, pk: int):
        get_object_or_404(TopUpRequest, pk=pk)
        try:
            topup = topup_request_approve(request_id=pk, actor=request.user)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            params = {"id": pk, "amount": topup.amount, "customer": topup.customer}
            self.message_user(request, APPROVED % params, messages.SUCCESS)
        return self._back(pk)

    def reject_view(self, request, pk: int):
        get_object_or_404(TopUpRequest, pk=pk)
        try:
            topup_request_reject(
                request_id=pk, actor=request.user, reason=request.POST.get("reason", "")
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, REJECTED % {"id": pk}, messages.SUCCESS)
        return self._back(pk)


PENDING_MENU = _("Pending top-ups (%(count)s)")


def pending_menu_label() -> str:
    """The jazzmin menu link's text, counted on each render (settings.JAZZMIN_SETTINGS)."""
    return str(PENDING_MENU) % {"count": topups_pending_count()}
