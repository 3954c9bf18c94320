"""``{{ amount|yuan }}`` and ``{{ amount|yuan_signed }}``: money as ``¥1,500.50`` (core.money)."""

from django import template

from core.money import format_yuan

register = template.Library()


@register.filter
def yuan(value) -> str:
    """``¥1,500.50``, ``-¥12.34``."""
    return format_yuan(value)


@register.filter
def yuan_signed(value) -> str:
    """``+¥100.00`` for credits, ``-¥12.34`` for debits."""
    return format_yuan(value, signed=True)
