"""A customer's ledger, 充值 and 扣款, offered wherever the customer is named (customers'
link hook, customers/admin/page.py), and the ledger list's URL for one customer."""

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from customers.admin.page import CustomerLink, register_customer_link
from customers.models import Customer
from wallet import permissions

VIEW_LEDGER = "wallet.view_entry"


def customer_ledger_url(customer: Customer) -> str:
    """The ledger list filtered to one customer (its customer filter takes the username)."""
    query = urlencode({"customer": customer.user.get_username()})
    return f"{reverse('admin:wallet_entry_changelist')}?{query}"


def customer_money_url(customer: Customer, operation: str) -> str:
    """The one-customer 充值 (``recharge``) or 扣款 (``deduct``) page."""
    return reverse(f"admin:customers_customer_{operation}", args=[customer.pk])


register_customer_link(
    CustomerLink(
        "ledger",
        _("Ledger"),
        customer_ledger_url,
        lambda user: user.has_perm(VIEW_LEDGER),
        position=20,
    )
)
register_customer_link(
    CustomerLink(
        "recharge",
        _("Recharge"),
        lambda customer: customer_money_url(customer, "recharge"),
        lambda user: user.has_perm(permissions.RECHARGE),
        action=True,
        position=10,
    )
)
register_customer_link(
    CustomerLink(
        "deduct",
        _("Deduct"),
        lambda customer: customer_money_url(customer, "deduct"),
        lambda user: user.has_perm(permissions.DEDUCT),
        action=True,
        position=20,
        style="outline-danger",
    )
)
