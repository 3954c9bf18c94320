"""Template filters for money, statuses and ledger kinds."""

from decimal import Decimal, InvalidOperation

from django import template

from portal.labels import STATUS_COLOURS, kind_label, status_label

register = template.Library()


@register.filter
def money(value) -> str:
    """``1234.5`` → ``1,234.50``; empty for None."""
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(value):,.2f}"
    except (InvalidOperation, ValueError, TypeError):
        return str(value)


@register.filter
def status_name(status: str) -> str:
    """An order status as customers read it."""
    return status_label(status)


@register.filter
def status_colour(status: str) -> str:
    """The Bootstrap colour of an order status badge."""
    return STATUS_COLOURS.get(status, "secondary")


@register.filter
def kind_name(kind: str) -> str:
    """A ledger entry kind as customers read it."""
    return kind_label(kind)


@register.simple_tag
def nav_balance(customer) -> str:
    """The customer's balance for the navigation bar, formatted like ``money``: the figure the
    page shows, read once per request (``portal.selectors.balance_shown``)."""
    from portal.selectors import balance_shown

    return money(balance_shown(customer))


TOPUP_COLOURS = {"pending": "warning", "approved": "success", "rejected": "danger"}


@register.filter
def topup_colour(status: str) -> str:
    """The badge colour of a top-up request's status."""
    return TOPUP_COLOURS.get(status, "secondary")


@register.filter
def get_item(mapping, key):
    """``mapping[key]``, or None."""
    return mapping.get(key) if hasattr(mapping, "get") else None
