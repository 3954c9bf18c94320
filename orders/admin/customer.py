"""The customer admin, extended from the orders side: 代客户下单 and the latest orders.

``customers`` and ``wallet`` may not import ``orders`` (DESIGN.md), so this module subclasses
the wallet's customer admin and re-registers it, as the wallet did with the customers' one.
It also offers "orders" wherever a customer is named (customers' link hook).
"""

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from core.money import format_yuan
from customers.admin.page import CustomerLink, Panel, Tool, register_customer_link
from customers.models import Customer
from orders.admin.orders import status_badge
from orders.models import Order
from orders.selectors import customers_served_by, order_visible_to
from wallet.admin.customer import WalletCustomerAdmin

# The customer page shows this many latest orders.
PANEL_ROWS = 5
VIEW_ORDERS = "orders.view_order"
PLACE_ORDERS = "orders.place_order"
NO_ORDERS = _("No orders yet.")


def customer_orders_url(customer: Customer) -> str:
    """The order list filtered to one customer."""
    query = urlencode({"customer__id__exact": customer.pk})
    return f"{reverse('admin:orders_order_changelist')}?{query}"


def customer_place_url(customer: Customer) -> str:
    """The "place an order" form with the customer filled in."""
    query = urlencode({"customer": customer.user.get_username()})
    return f"{reverse('admin:orders_order_place')}?{query}"


register_customer_link(
    CustomerLink(
        "orders",
        _("Orders"),
        customer_orders_url,
        lambda user: user.has_perm(VIEW_ORDERS),
        position=10,
    )
)


class OrdersCustomerAdmin(WalletCustomerAdmin):
    """The wallet's customer admin plus 代客户下单 and the customer's latest orders."""

    def get_tools(self, request, obj: Customer) -> list[Tool]:
        """代客户下单 after the money buttons, for those who may place orders for this customer."""
        tools = super().get_tools(request, obj)
        user = request.user
        if user.has_perm(PLACE_ORDERS) and customers_served_by(user).filter(pk=obj.pk).exists():
            place = Tool("place_order", _("Place an order"), customer_place_url(obj), "success")
            money = [t for t in tools if t.key in ("recharge", "deduct")]
            rest = [t for t in tools if t not in money]
            return [*money, place, *rest]
        return tools

    def get_panels(self, request, obj: Customer) -> list[Panel]:
        """The latest orders first, for those who may see this customer's orders."""
        panels = super().get_panels(request, obj)
        if not request.user.has_perm(VIEW_ORDERS):
            return panels
        orders = (
            order_visible_to(request.user)
            .filter(customer_id=obj.pk)
            .order_by("-created_at", "-id")[:PANEL_ROWS]
        )
        rows = [
            [
                _order_link(order),
                timezone.localtime(order.created_at).strftime("%Y-%m-%d %H:%M"),
                order.service.name,
                Truncator(order.target).chars(30),
                order.quantity,
                format_yuan(order.amount),
                status_badge(order),
            ]
            for order in orders
        ]
        latest = Panel(
            "orders",
            _("Latest orders"),
            [
                _("order number"),
                _("created at"),
                _("service"),
                _("target"),
                _("quantity"),
                _("amount"),
                _("status"),
            ],
            rows,
            more_url=customer_orders_url(obj),
            more_label=_("All orders"),
            empty=NO_ORDERS,
            numeric=frozenset({4, 5}),
        )
        return [latest, *panels]


def _order_link(order: Order):
    url = reverse("admin:orders_order_change", args=[order.pk])
    return format_html('<a href="{}">{}</a>', url, order.number)


admin.site.unregister(Customer)
admin.site.register(Customer, OrdersCustomerAdmin)
