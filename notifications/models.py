"""Webhook endpoints, the event outbox, delivery state and attempts, low-balance alerts.

An ``OutboxEvent`` is written in the same transaction as the change it reports (receivers.py),
with one ``Delivery`` row that the agent's side task claims when due (delivery.py). Each try
leaves a ``DeliveryAttempt``; the delivery keeps the latest outcome and the next try.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import Customer

MONEY = {"max_digits": 14, "decimal_places": 2}


class WebhookEndpoint(models.Model):
    """Where a customer wants their events POSTed, and the secret that signs them."""

    customer = models.OneToOneField(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="webhook_endpoint",
    )
    url = models.CharField(_("callback URL"), max_length=500)
    # Standard Webhooks form: "whsec_" + base64 of 24 random bytes.
    secret = models.CharField(_("signing secret"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class OutboxEvent(models.Model):
    """One thing that happened to a customer, with the stable id receivers de-duplicate on."""

    class Type(models.TextChoices):
        ORDER_COMPLETED = "order.completed", _("Order completed")
        ORDER_PARTIAL = "order.partial", _("Order partially completed")
        ORDER_FAILED = "order.failed", _("Order failed")
        ORDER_CANCELLED = "order.cancelled", _("Order cancelled")
        BALANCE_LOW = "balance.low", _("Balance low")

    event_id = models.CharField(_("event id"), max_length=40, unique=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [models.Index(fields=["customer", "-id"], name="notif_event_customer")]

    def __str__(self) -> str:
        return self.event_id


class Delivery(models.Model):
    """The delivery of one event: pending until a 2xx answer, failed when retries run out."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("webhook delivery", "Pending")
        DELIVERED = "delivered", pgettext_lazy("webhook delivery", "Delivered")
        FAILED = "failed", pgettext_lazy("webhook delivery", "Failed")

    event = models.OneToOneField(
        OutboxEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="delivery"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # Failed tries since the event was written or last sent again: the back-off step.
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    next_try_at = models.DateTimeField(_("next try"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status"), null=True, blank=True)
    last_response_ms = models.PositiveIntegerField(_("response time (ms)"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            models.Index(fields=["status", "next_try_at"], name="notif_delivery_due"),
            models.Index(fields=["customer", "-id"], name="notif_delivery_customer"),
        ]
        permissions = [("resend_delivery", _("Can send a webhook again"))]

    def __str__(self) -> str:
        return f"{self.event_id} ({self.status})"


class DeliveryAttempt(models.Model):
    """One POST of an event: what the receiver answered and how long it took."""

    delivery = models.ForeignKey(
        Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="tries"
    )
    number = models.PositiveIntegerField(_("attempt"))
    url = models.CharField(_("callback URL"), max_length=500)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    response_ms = models.PositiveIntegerField(_("response time (ms)"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    agent = models.CharField(_("agent"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("tried at"), default=timezone.now)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="notif_attempt_unique")
        ]

    def __str__(self) -> str:
        return f"#{self.number}"


class LowBalanceAlert(models.Model):
    """The customer's threshold; ``is_below`` remembers a crossing until a recharge lifts it."""

    customer = models.OneToOneField(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="low_balance_alert",
    )
    threshold = models.DecimalField(_("threshold"), **MONEY)
    is_below = models.BooleanField(_("below the threshold"), default=False)
    alerted_at = models.DateTimeField(_("last alert"), null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("low-balance alert")
        verbose_name_plural = _("low-balance alerts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(threshold__gt=0), name="notif_threshold_positive"
            )
        ]

    def __str__(self) -> str:
        return str(self.threshold)
