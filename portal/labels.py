"""Status and ledger-kind names as customers read them, with the colour each is shown in.

The portal carries its own translations of these names so that it reads right in Chinese even
before (or without) another app's catalogue.
"""

from django.utils.translation import gettext_lazy as _

from orders.models import Order
from wallet.models import Entry

STATUS_LABELS = {
    Order.Status.PENDING: _("Pending"),
    Order.Status.RUNNING: _("Running"),
    Order.Status.COMPLETED: _("Completed"),
    Order.Status.PARTIAL: _("Partially completed"),
    Order.Status.FAILED: _("Failed"),
    Order.Status.CANCELLED: _("Cancelled"),
}
STATUS_COLOURS = {
    Order.Status.PENDING: "secondary",
    Order.Status.RUNNING: "primary",
    Order.Status.COMPLETED: "success",
    Order.Status.PARTIAL: "warning",
    Order.Status.FAILED: "danger",
    Order.Status.CANCELLED: "dark",
}
KIND_LABELS = {
    Entry.Kind.RECHARGE: _("Recharge"),
    Entry.Kind.DEDUCT: _("Deduct"),
    Entry.Kind.ORDER_DEBIT: _("Order debit"),
    Entry.Kind.CANCEL_REFUND: _("Cancel refund"),
    Entry.Kind.REFUND: _("Refund"),
}


def status_label(status: str) -> str:
    """The customer-facing name of an order status."""
    return str(STATUS_LABELS.get(status, status))


def kind_label(kind: str) -> str:
    """The customer-facing name of a ledger entry kind."""
    return str(KIND_LABELS.get(kind, kind))
