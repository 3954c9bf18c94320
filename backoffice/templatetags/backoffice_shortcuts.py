"""The admin index's shortcuts: the few things each staff role comes to the admin to do.

Load with ``{% load backoffice_shortcuts %}``; the tag is ``role_shortcuts``. The list names
URLs and permissions of every business app, which is why it lives above them in backoffice.
"""

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from wallet import permissions as wallet_permissions

register = template.Library()

# The card's title in templates/admin/index.html (kept here so this package's catalogue has it).
SHORTCUTS_TITLE = _("Shortcuts")

# (label, URL name, query string, icon, permissions the user needs — all of them).
SHORTCUTS = [
    (
        _("New customer"),
        "admin:customers_customer_add",
        "",
        "fas fa-user-plus",
        ["customers.add_customer"],
    ),
    (
        _("Import customers"),
        "admin:customers_customer_import",
        "",
        "fas fa-file-import",
        ["customers.import_customer"],
    ),
    (
        _("Customers"),
        "admin:customers_customer_changelist",
        "",
        "fas fa-user-tie",
        ["customers.view_customer"],
    ),
    (
        _("My customers"),
        "admin:customers_customer_changelist",
        "",
        "fas fa-user-tie",
        ["customers.add_customer", "!customers.view_customer"],
    ),
    (
        _("Recharge or deduct"),
        "admin:customers_customer_changelist",
        "",
        "fas fa-coins",
        [wallet_permissions.RECHARGE],
    ),
    (_("Ledger"), "admin:wallet_entry_changelist", "", "fas fa-receipt", ["wallet.view_entry"]),
    (
        _("Place an order for a customer"),
        "admin:orders_order_place",
        "",
        "fas fa-cart-plus",
        ["orders.place_order"],
    ),
    (
        _("Pending orders"),
        "admin:orders_order_changelist",
        "?status__exact=pending",
        "fas fa-hourglass-half",
        ["orders.view_order"],
    ),
    (
        _("Export customers"),
        "admin:customers_customer_export",
        "",
        "fas fa-file-export",
        ["customers.export_customer"],
    ),
]


def _allowed(user, permissions: list[str]) -> bool:
    for permission in permissions:
        if permission.startswith("!"):
            if user.has_perm(permission[1:]):
                return False
        elif not user.has_perm(permission):
            return False
    return True


@register.simple_tag(takes_context=True)
def role_shortcuts(context) -> list[dict]:
    """The shortcuts the current staff user may follow, in a fixed order."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return []
    shortcuts = []
    for label, url_name, query, icon, permissions in SHORTCUTS:
        if not _allowed(user, permissions):
            continue
        try:
            url = reverse(url_name) + query
        except NoReverseMatch:  # the app is not installed
            continue
        shortcuts.append({"label": label, "url": url, "icon": icon})
    return shortcuts
