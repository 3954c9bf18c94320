"""Machine-facing views: the fulfilment supplier's signed callback."""

import json
import logging

from django.core.cache import cache
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orders.agent.callback import (
    MAX_AGE_SECONDS,
    CallbackInvalid,
    callback_apply,
    callback_secrets,
    parse_callback,
)
from orders.agent.worker import LOST
from orders.fulfilment import signing
from orders.models import Order

logger = logging.getLogger(__name__)


def _error(status: int, error: str) -> JsonResponse:
    return JsonResponse({"error": error}, status=status)


# CSRF protects browser sessions; this endpoint has none and is authenticated by its signature.
@csrf_exempt
@require_POST
def fulfilment_callback(request):
    """Book a supplier's answer on a running order: 200, or 400/403/404/409/503 saying why."""
    body = request.body
    try:
        data = json.loads(body)
        number = data["order_number"]
        if not isinstance(number, str):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError):
        return _error(400, "the body must be a JSON object with an order_number")
    order = Order.objects.using("default").select_related("service").filter(number=number).first()
    timestamp = request.headers.get(signing.TIMESTAMP_HEADER, "")
    signature = request.headers.get(signing.SIGNATURE_HEADER, "")
    if not any(
        signing.verify(secret, timestamp, body, signature, max_age_seconds=MAX_AGE_SECONDS)
        for secret in callback_secrets(order)
    ):
        return _error(403, "bad or expired signature")
    try:
        fresh = cache.add(
            f"fulfilment:callback:{signature.strip().lower()}", number, MAX_AGE_SECONDS * 2
        )
    except Exception:  # noqa: BLE001 - without the replay guard nothing is booked; retry later
        logger.exception("fulfilment callback: the cache is unavailable")
        return _error(503, "try again later")
    if not fresh:
        return _error(409, "replayed request")
    if order is None:
        return _error(404, "unknown order")
    if order.status != Order.Status.RUNNING:
        return _error(409, f"order is {order.status}, not running")
    try:
        result = parse_callback(data, order)
    except CallbackInvalid as exc:
        return _error(400, str(exc))
    if callback_apply(order=order, result=result) == LOST:
        return _error(409, "order is no longer running")
    order.refresh_from_db(using="default")
    return JsonResponse({"order_number": order.number, "status": order.status})
