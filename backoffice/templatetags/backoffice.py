"""The dashboard on the admin index: figures with labels in the page's language, money as ¥."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import gettext_lazy as _

from backoffice.dashboard import dashboard_for

register = template.Library()

ROW_LABELS = {
    "placed": _("Orders placed"),
    "completed": _("Completed"),
    "partial": _("Partially completed"),
    "failed": _("Failed"),
    "cancelled": _("Cancelled"),
    "placed_amount": _("Amount of orders placed"),
    "refunds": _("Refunds"),
    "net_sales": _("Net sales (debits − refunds)"),
    "recharges": _("Recharges"),
    "deductions": _("Deductions"),
}
PERIOD_LABELS = {"today": _("Today"), "yesterday": _("Yesterday"), "month": _("This month")}
CHART_LABELS = {
    "completed": _("Completed"),
    "partial": _("Partially completed"),
    "failed": _("Failed"),
    "cancelled": _("Cancelled"),
    "net_sales": _("Net sales"),
    "recharges": _("Recharges"),
}


@register.filter
def yuan(value) -> str:
    """An amount as ¥1,500.50 (negative: -¥1,500.50)."""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


@register.simple_tag(takes_context=True)
def backoffice_dashboard(context) -> dict | None:
    """The current staff user's dashboard (None for anyone else), ready for the template."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return None
    figures = dashboard_for(user, refresh=request.GET.get("refresh") == "1")
    rows = [{**row, "label": ROW_LABELS[row["key"]]} for row in figures["rows"]]
    periods = [{**p, "label": PERIOD_LABELS[p["key"]]} for p in figures["periods"]]
    charts = figures["charts"]
    chart_data = {
        **charts,
        "labels": {key: str(label) for key, label in CHART_LABELS.items()},
    }
    return {
        **figures,
        "rows": rows,
        "periods": periods,
        "chart_data": chart_data,
        "has_charts": "orders" in charts or "money" in charts,
    }
