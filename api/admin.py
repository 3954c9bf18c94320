"""Staff view of API keys: list, search, revoke. Keys are created by customers in the portal
(the full key is shown to them once), so there is no add form here."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from api.models import ApiKey
from api.services import api_key_revoke
from customers.selectors import customer_related_scope


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", _("Active")), ("revoked", _("Revoked"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["label", "display_prefix", "customer", "created_at", "last_used_at", "status"]
    list_filter = [StatusFilter]
    search_fields = ["prefix", "label", "customer__name", "customer__mobile"]
    list_select_related = ["customer"]
    fields = [
        "customer",
        "label",
        "display_prefix",
        "allowed_ips",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = fields
    actions = ["revoke_selected"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self, request):
        """The keys of the customers this user may see (the one visibility rule)."""
        return customer_related_scope(super().get_queryset(request), request.user)

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("key prefix"))
    def display_prefix(self, obj: ApiKey) -> str:
        return obj.display_prefix

    @admin.display(description=_("status"))
    def status(self, obj: ApiKey) -> str:
        return str(_("Revoked") if obj.revoked_at else _("Active"))

    @admin.action(description=_("Revoke selected API keys"), permissions=["change"])
    def revoke_selected(self, request, queryset):
        count = 0
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(key=key)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d key revoked.", "%(count)d keys revoked.", count) % {"count": count},
            messages.SUCCESS,
        )
