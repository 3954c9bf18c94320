"""The dashboard and the live quote."""

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.exceptions import DomainError
from orders.pricing import catalog_service
from orders.services import order_quote
from portal.auth import portal_login_required
from portal.forms import CHOOSE_SERVICE
from portal.labels import STATUS_COLOURS, STATUS_LABELS
from portal.selectors import balance_shown, order_counts_by_status, orders_of

RECENT_ORDERS = 5


@never_cache
@require_GET
@portal_login_required
def dashboard_view(request):
    """Balance, level and discount, orders by status, the latest orders."""
    customer = request.customer
    counts = order_counts_by_status(customer=customer)
    context = {
        "balance": balance_shown(customer),
        "level": customer.level,
        "status_counts": [
            {
                "status": status,
                "label": label,
                "colour": STATUS_COLOURS[status],
                "count": counts[status],
            }
            for status, label in STATUS_LABELS.items()
        ],
        "recent_orders": orders_of(customer=customer)[:RECENT_ORDERS],
    }
    return render(request, "portal/dashboard.html", context)


def _quote_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"ok": False, "error": str(message)}, status=status)


@never_cache
@require_GET
@portal_login_required
def quote_view(request):
    """JSON: what ``quantity`` of ``service`` costs this customer now, and the balance after."""
    service = catalog_service(request.GET.get("service", ""))  # cached; order_place re-reads
    if service is None:
        return _quote_error(CHOOSE_SERVICE)
    try:
        quote = order_quote(
            customer=request.customer, service=service, quantity=request.GET.get("quantity", "")
        )
    except DomainError as exc:
        return _quote_error(exc.message)
    balance = balance_shown(request.customer)
    return JsonResponse(
        {
            "ok": True,
            "service": service.pk,
            "quantity": quote.quantity,
            "unit_name": service.unit_name,
            "tier_quantity": quote.tier_quantity,
            "tier_price": str(quote.tier_price),
            "unit_price": str(quote.unit_price),
            "list_price": str(quote.list_price),
            "level_percent": quote.level_percent,
            "discount": str(quote.discount),
            "amount": str(quote.amount),
            "balance": str(balance),
            "balance_after": str(balance - quote.amount),
            "sufficient": balance >= quote.amount,
        }
    )
