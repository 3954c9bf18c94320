"""Service and price-tier admin (价格策略): tiers edited inline, backend and pattern validated."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from orders.forms import PriceTierForm, PriceTierFormSet, ServiceAdminForm
from orders.models import PriceTier, Service


class PriceTierInline(admin.TabularInline):
    """The service's price tiers (价格策略), edited with it."""

    model = PriceTier
    form = PriceTierForm
    formset = PriceTierFormSet
    fields = ["quantity", "price"]
    extra = 1
    ordering = ["quantity"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    """Services and their tiers; the backend must be configured and the pattern must compile."""

    form = ServiceAdminForm
    inlines = [PriceTierInline]
    list_display = [
        "name",
        "unit_name",
        "min_quantity",
        "max_quantity",
        "target_kind",
        "backend",
        "tier_summary",
        "is_active",
        "display_order",
    ]
    list_filter = ["is_active", "target_kind", "backend"]
    search_fields = ["name"]
    list_editable = ["is_active", "display_order"]

    def get_queryset(self, request):
        """Fetch the tiers for the summary column in one query."""
        return super().get_queryset(request).prefetch_related("tiers")

    @admin.display(description=_("price tiers"))
    def tier_summary(self, service: Service) -> str:
        """Each tier as quantity → price."""
        tiers = sorted(service.tiers.all(), key=lambda t: t.quantity)
        return ", ".join(f"{t.quantity} → {t.price}" for t in tiers) or "-"
