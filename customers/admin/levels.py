"""Levels: a level that customers hold cannot be deleted, one at a time or in bulk."""

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import unquote
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from customers.exceptions import LEVEL_IN_USE, LevelInUse
from customers.models import Level
from customers.services import level_delete


@admin.register(Level)
class LevelAdmin(admin.ModelAdmin):
    list_display = ["name", "discount_percent", "is_active", "display_order", "customer_count"]
    list_editable = ["display_order"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    ordering = ["display_order", "id"]
    actions = ["delete_unused_selected"]

    def get_queryset(self, request):
        """Each level with how many customers hold it."""
        return super().get_queryset(request).annotate(customer_total=Count("customers"))

    @admin.display(description=_("number of customers"), ordering="customer_total")
    def customer_count(self, level: Level) -> int:
        """How many customers hold the level."""
        return level.customer_total

    def get_actions(self, request):
        """Our in-use-aware delete replaces Django's bulk delete."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Delete selected levels"), permissions=["delete"])
    def delete_unused_selected(self, request, queryset):
        """Refuse, naming the count, while any selected level is held; else Django's delete."""
        in_use = [level for level in queryset.annotate(held=Count("customers")) if level.held]
        for level in in_use:
            message = LEVEL_IN_USE % {"level": level.name, "count": level.held}
            self.message_user(request, message, messages.ERROR)
        if in_use:
            return None
        return delete_selected(self, request, queryset)

    def delete_view(self, request, object_id, extra_context=None):
        """A level in use goes back to its page with the count instead of the confirmation."""
        level = self.get_object(request, unquote(object_id))
        if level is not None and self.has_delete_permission(request, level):
            count = level.customers.count()
            if count:
                message = LEVEL_IN_USE % {"level": level.name, "count": count}
                self.message_user(request, message, messages.ERROR)
                change = reverse("admin:customers_level_change", args=[level.pk])
                return HttpResponseRedirect(change)
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        """Delete through the service, which re-checks under the same rule."""
        level_delete(level=obj)

    def delete_queryset(self, request, queryset):
        """Bulk delete through the service, one level at a time."""
        for level in queryset:
            try:
                level_delete(level=level)
            except LevelInUse as exc:
                self.message_user(request, exc.message, messages.ERROR)
