"""Writes for notifications: the customer's endpoint and threshold, events, sending again.

Events are written by ``event_record`` inside the caller's transaction (the status change or
the ledger entry), so an event exists exactly when its change committed (receivers.py).
"""

import base64
import secrets
import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from customers.models import Customer
from notifications.exceptions import (
    DELIVERY_NOT_FOUND,
    NO_ENDPOINT,
    THRESHOLD_NOT_VALID,
    InvalidThreshold,
    NotificationError,
)
from notifications.models import Delivery, LowBalanceAlert, OutboxEvent, WebhookEndpoint
from notifications.urls_check import url_check
from wallet.exceptions import InvalidAmount
from wallet.money import parse_amount

PRIMARY = "default"
SECRET_BYTES = 24
PRUNE_CHUNK = 1000


def secret_new() -> str:
    """A signing secret in the Standard Webhooks form ``whsec_<base64>``."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def event_id_new() -> str:
    return f"evt_{uuid.uuid4().hex}"


def endpoint_save(*, customer: Customer, url: str, is_active: bool = True) -> WebhookEndpoint:
    """Set the customer's callback URL (checked now); the first save creates the secret."""
    target = url_check(url)
    with transaction.atomic(using=PRIMARY):
        endpoint, created = WebhookEndpoint.objects.select_for_update().get_or_create(
            customer=customer,
            defaults={"url": target.url, "secret": secret_new(), "is_active": is_active},
        )
        if not created:
            endpoint.url = target.url
            endpoint.is_active = is_active
            endpoint.save(update_fields=["url", "is_active", "updated_at"])
    return endpoint


def endpoint_secret_regenerate(*, customer: Customer) -> WebhookEndpoint:
    """A new signing secret; events not yet delivered are signed with it from now on."""
    with transaction.atomic(using=PRIMARY):
        endpoint = WebhookEndpoint.objects.select_for_update().filter(customer=customer).first()
        if endpoint is None:
            raise NotificationError(NO_ENDPOINT)
        endpoint.secret = secret_new()
        endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


def event_record(
    *, customer_id: int, type: str, payload: dict | Callable[[], dict], using: str = PRIMARY
) -> OutboxEvent | None:
    """Write an event and its delivery in the caller's transaction, if the customer has an
    active endpoint; else nothing (returns None). No network here.

    ``payload`` may be a callable, so nothing is computed for customers without an endpoint.
    """
    if (
        not WebhookEndpoint.objects.using(using)
        .filter(customer_id=customer_id, is_active=True)
        .exists()
    ):
        return None
    if callable(payload):
        payload = payload()
    now = timezone.now()
    event = OutboxEvent.objects.using(using).create(
        event_id=event_id_new(), customer_id=customer_id, type=type, payload=payload, created_at=now
    )
    Delivery.objects.using(using).create(
        event=event, customer_id=customer_id, next_try_at=now, created_at=now
    )
    return event


def delivery_resend(*, delivery_id: int, customer_id: int | None = None) -> Delivery:
    """Queue a delivery to be sent now, whatever its state (the receiver may have lost it).

    ``customer_id`` scopes the lookup for the portal: another customer's delivery is not found.
    """
    with transaction.atomic(using=PRIMARY):
        deliveries = Delivery.objects.using(PRIMARY).select_for_update()
        if customer_id is not None:
            deliveries = deliveries.filter(customer_id=customer_id)
        delivery = deliveries.filter(pk=delivery_id).first()
        if delivery is None:
            raise NotificationError(DELIVERY_NOT_FOUND)
        delivery.status = Delivery.Status.PENDING
        delivery.failures = 0
        delivery.next_try_at = timezone.now()
        delivery.save(update_fields=["status", "failures", "next_try_at"])
    return delivery


def events_prune(*, now=None) -> int:
    """Delete events written more than ``WEBHOOKS_RETENTION_DAYS`` ago whose delivery has
    finished (delivered or failed), with their deliveries and attempts; returns how many.

    Pending deliveries are never touched. Deleted in chunks by primary key, each its own short
    transaction, so a large backlog never holds locks for long. 0 days keeps everything.
    """
    days = int(getattr(settings, "WEBHOOKS_RETENTION_DAYS", 30))
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    finished = (Delivery.Status.DELIVERED, Delivery.Status.FAILED)
    # Oldest first by primary key: ids grow with created_at, so the scan stops at the cutoff.
    old = (
        Delivery.objects.using(PRIMARY)
        .filter(created_at__lt=cutoff, status__in=finished)
        .order_by("pk")
        .values_list("event_id", flat=True)
    )
    total = 0
    while event_ids := list(old[:PRUNE_CHUNK]):
        with transaction.atomic(using=PRIMARY):
            # The events' cascade takes their deliveries and those deliveries' attempts.
            OutboxEvent.objects.using(PRIMARY).filter(pk__in=event_ids).delete()
        total += len(event_ids)
    return total


def threshold_parse(value: str | Decimal | None) -> Decimal | None:
    """A threshold from the form: empty means off; else a positive amount."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_amount(value.strip() if isinstance(value, str) else value)
    except InvalidAmount as exc:
        raise InvalidThreshold(THRESHOLD_NOT_VALID) from exc


def alert_threshold_set(
    *, customer: Customer, threshold: Decimal | None, actor: AbstractBaseUser | None
) -> LowBalanceAlert | None:
    """Set (or with ``None`` remove) the low-balance threshold.

    Taken under the account lock, like the ledger's crossing check, so ``is_below`` starts
    from the balance as it is: a balance already below alerts only after it was lifted.
    """
    from wallet.services import account_lock

    with transaction.atomic(using=PRIMARY):
        account = account_lock(customer_id=customer.pk)
        if threshold is None:
            LowBalanceAlert.objects.filter(customer=customer).delete()
            return None
        alert, _ = LowBalanceAlert.objects.update_or_create(
            customer=customer,
            defaults={
                "threshold": threshold,
                "is_below": account.balance < threshold,
                "updated_by": actor,
            },
        )
    return alert
