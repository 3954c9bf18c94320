"""Customer and level admin. (Being built out by the customers work.)"""

from django.contrib import admin

from customers.models import Customer, Level


@admin.register(Level)
class LevelAdmin(admin.ModelAdmin):
    list_display = ["name", "discount_percent", "is_active", "display_order"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "mobile", "level", "account_manager", "is_active", "created_at"]
    actions: list = []
