"""Notifications in the admin: endpoints, events and deliveries, read-only like an audit trail,
scoped to the customers the staff user may see; deliveries can be sent again."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import CappedCountPaginator
from customers.selectors import customer_related_scope
from notifications.models import (
    Delivery,
    DeliveryAttempt,
    LowBalanceAlert,
    OutboxEvent,
    WebhookEndpoint,
)
from notifications.services import delivery_resend


class ScopedReadOnlyAdmin(admin.ModelAdmin):
    """Rows of the customers this user may see; nothing added, changed or deleted here."""

    paginator = CappedCountPaginator
    show_full_result_count = False

    def get_queryset(self, request):
        """Only the rows of customers this user may see (the one visibility rule)."""
        return customer_related_scope(super().get_queryset(request), request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ScopedReadOnlyAdmin):
    list_display = ["customer", "url", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["customer__name", "customer__mobile", "url"]
    list_select_related = ["customer"]
    fields = ["customer", "url", "secret_hint", "is_active", "created_at", "updated_at"]
    readonly_fields = fields

    @admin.display(description=_("signing secret"))
    def secret_hint(self, obj):
        """Only the start: the customer sees the secret in the portal, staff need not."""
        return f"{obj.secret[:10]}…"


@admin.register(OutboxEvent)
class OutboxEventAdmin(ScopedReadOnlyAdmin):
    list_display = ["event_id", "customer", "type", "created_at"]
    list_filter = ["type"]
    search_fields = ["=event_id", "customer__name", "customer__mobile"]
    list_select_related = ["customer"]
    fields = ["event_id", "customer", "type", "payload", "created_at"]
    readonly_fields = fields
    ordering = ["-id"]


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ["number", "created_at", "status_code", "response_ms", "error", "agent", "url"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ScopedReadOnlyAdmin):
    list_display = [
        "event",
        "customer",
        "event_type",
        "status",
        "attempts",
        "last_status_code",
        "last_response_ms",
        "next_try_at",
        "delivered_at",
    ]
    list_filter = ["status", "event__type"]
    search_fields = ["=event__event_id", "customer__name", "customer__mobile"]
    list_select_related = ["event", "customer"]
    fields = [
        "event",
        "customer",
        "status",
        "attempts",
        "failures",
        "next_try_at",
        "delivered_at",
        "last_status_code",
        "last_response_ms",
        "last_error",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [DeliveryAttemptInline]
    ordering = ["-id"]
    actions = ["send_again"]

    @admin.display(description=_("type"), ordering="event__type")
    def event_type(self, obj):
        return obj.event.get_type_display()

    def has_resend_permission(self, request):
        """Sending again needs its own permission (notifications.resend_delivery)."""
        return request.user.has_perm("notifications.resend_delivery")

    @admin.action(description=_("Send again"), permissions=["resend"])
    def send_again(self, request, queryset):
        """Queue each selected delivery to be sent now (each in its own transaction)."""
        count = 0
        for pk in queryset.values_list("pk", flat=True):
            delivery_resend(delivery_id=pk)
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be sent again.",
                "%(count)d deliveries will be sent again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(LowBalanceAlert)
class LowBalanceAlertAdmin(ScopedReadOnlyAdmin):
    list_display = ["customer", "threshold", "is_below", "alerted_at"]
    list_filter = ["is_below"]
    search_fields = ["customer__name", "customer__mobile"]
    list_select_related = ["customer"]
    fields = ["customer", "threshold", "is_below", "alerted_at", "updated_by"]
    readonly_fields = fields
