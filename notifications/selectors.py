"""Reads on notifications, always for one customer (portal) or scoped to a staff user (admin)."""

from django.db.models import QuerySet

from notifications.models import Delivery, LowBalanceAlert, WebhookEndpoint


def endpoint_of(*, customer_id: int) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(customer_id=customer_id).first()


def alert_of(*, customer_id: int) -> LowBalanceAlert | None:
    return LowBalanceAlert.objects.filter(customer_id=customer_id).first()


def deliveries_of(*, customer_id: int) -> QuerySet[Delivery]:
    """The customer's deliveries, newest first, with their event."""
    return Delivery.objects.filter(customer_id=customer_id).select_related("event").order_by("-id")
