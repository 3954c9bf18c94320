"""Outbox writers hung on the orders and wallet signals, run inside their transactions.

``orders_finished`` comes inside the transaction that moved orders to a final status and
``balance_changed`` inside the ledger transaction under the account lock: the rows written
here commit or roll back with the change. No network here; the SMS goes after the commit.
"""

import logging
from decimal import Decimal

import sms
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from api.client_ids import client_order_id_of
from core.cache import shortcut
from notifications.models import LowBalanceAlert, OutboxEvent
from notifications.services import event_record
from orders.models import Order
from orders.services import undelivered_refund
from orders.signals import orders_finished
from wallet.signals import balance_changed

logger = logging.getLogger(__name__)

LOW_BALANCE_SMS = _(
    "[订单平台] Your balance is ¥%(balance)s, below your alert threshold of ¥%(threshold)s. "
    "Please top up to keep orders running."
)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _time(value) -> str | None:
    return value.isoformat() if value else None


def order_payload(order, *, refunded: Decimal) -> dict:
    """What a receiver learns about a finished order (amounts as strings, exact)."""
    return {
        "order_number": order.number,
        "client_order_id": client_order_id_of(order),
        "service": {"id": order.service_id, "name": order.service.name},
        "target": order.target,
        "quantity": order.quantity,
        "delivered": order.delivered_quantity,
        "amount": _money(order.amount),
        "refunded": _money(refunded),
        "status": order.status,
        "created_at": _time(order.created_at),
        "started_at": _time(order.started_at),
        "finished_at": _time(order.finished_at),
    }


def _refunded(order) -> Decimal:
    """What the order gives back, as its service refunds it later in the same transaction
    (the signal comes before the refund entry is written)."""
    if order.status in (Order.Status.CANCELLED, Order.Status.FAILED):
        return order.amount
    if order.status == Order.Status.PARTIAL:
        return undelivered_refund(order=order, delivered=order.delivered_quantity)
    return Decimal("0.00")


@receiver(orders_finished, dispatch_uid="notifications.order_finished")
def order_finished(sender, *, orders, using="default", **kwargs) -> None:
    """One ``order.<status>`` event per finished order of a customer with an active endpoint."""
    for order in orders:
        event_record(
            customer_id=order.customer_id,
            type=f"order.{order.status}",
            payload=lambda order=order: order_payload(order, refunded=_refunded(order)),
            using=using,
        )


# "This customer has no alert", kept in the shared cache (Redis in production, so every web
# process and agent sees the same answer): most debits then cost no SQL statement (order_place
# has a statement budget). Saving or deleting an alert deletes the key once that write commits,
# so a threshold set in one process is seen by the next debit anywhere. If the cache is down,
# the alert is read from the database. A customer with an alert is always read.
WITHOUT_ALERT_SECONDS = 24 * 3600


def _without_alert_key(customer_id: int) -> str:
    return f"notifications:no-alert:{customer_id}"


def _known_without_alert(customer_id: int) -> bool:
    return shortcut("get", _without_alert_key(customer_id)) is not None


def _remember_without_alert(customer_id: int) -> None:
    shortcut("set", _without_alert_key(customer_id), 1, WITHOUT_ALERT_SECONDS)


@receiver(
    [post_save, post_delete], sender=LowBalanceAlert, dispatch_uid="notifications.alert_saved"
)
def alert_saved(sender, instance, using="default", **kwargs) -> None:
    """Forget "this customer has no alert" as soon as one is saved or deleted (now and after
    the commit, so a debit racing the write cannot re-remember the old answer for long)."""
    key = _without_alert_key(instance.customer_id)

    def forget() -> None:
        shortcut("delete", key)

    forget()
    transaction.on_commit(forget, using=using)


@receiver(balance_changed, dispatch_uid="notifications.balance_changed")
def balance_crossed(sender, *, account, before, after, entry, **kwargs) -> None:
    """A move from ≥ threshold to < threshold alerts once; nothing more until it is ≥ again.

    Runs under the account lock, so ``before`` and ``after`` are exact and crossings are seen
    one at a time in ledger order: crossing down needs ``before ≥ threshold``, which only a
    credit can restore — once per crossing without trusting a flag. ``is_below`` records it.
    """
    customer_id = account.customer_id
    if _known_without_alert(customer_id):
        return
    using = account._state.db or "default"
    # A plain read: the account lock held here is the mutex for this customer's alert (the
    # threshold service takes it too), and a locking read would gap-lock on MariaDB.
    alert = LowBalanceAlert.objects.using(using).filter(customer_id=customer_id).first()
    if alert is None:
        _remember_without_alert(customer_id)
        return
    below = after < alert.threshold
    crossed = below and before >= alert.threshold
    if not crossed:
        if alert.is_below != below:
            alert.is_below = below
            alert.save(using=using, update_fields=["is_below"])
        return
    alert.is_below = True
    alert.alerted_at = timezone.now()
    alert.save(using=using, update_fields=["is_below", "alerted_at"])
    event_record(
        customer_id=customer_id,
        type=OutboxEvent.Type.BALANCE_LOW,
        payload={
            "balance": _money(after),
            "threshold": _money(alert.threshold),
            "entry": {"id": entry.pk, "kind": entry.kind, "amount": _money(entry.amount)},
            "at": _time(alert.alerted_at),
        },
        using=using,
    )
    _sms_after_commit(customer_id, after, alert.threshold, using)


def _sms_after_commit(customer_id: int, balance: Decimal, threshold: Decimal, using: str) -> None:
    def send() -> None:
        from customers.models import Customer

        mobile = (
            Customer.objects.using(using)
            .filter(pk=customer_id)
            .values_list("mobile", flat=True)
            .first()
        )
        if not mobile:
            return
        with translation.override(settings.LANGUAGE_CODE):
            body = str(LOW_BALANCE_SMS) % {
                "balance": _money(balance),
                "threshold": _money(threshold),
            }
        message = sms.Message(body, getattr(settings, "PORTAL_SMS_ORIGINATOR", None), [mobile])
        message.template_params = [_money(balance), _money(threshold)]
        try:
            message.send(fail_silently=False)
        except Exception:  # noqa: BLE001 - the event is in the outbox; an SMS failure changes nothing
            logger.exception("Low-balance SMS to customer %s not sent", customer_id)

    transaction.on_commit(send, using=using)
